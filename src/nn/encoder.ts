// The encoder layer: self-attention and a feed-forward block, each with a residual and a
// LayerNorm, either before the branch (norm: 'pre', nn.TransformerEncoderLayer(norm_first=True))
// or after the residual add (norm: 'post', the original Transformer's and BERT's). Rows N = B·T,
// width d; the feed-forward block is Linear(d→F), GELU, Linear(F→d). Dropout is 0.
// Causal, pre-norm and with nanoGPT's names (built by the decoder family) it is GPT's block.
import type { Buf } from '../backends/backend.js';
import { MultiHeadAttention, type AttentionNames } from './attention.js';
import type { Act, Batch, Layer, Params, Planner } from './layer.js';
import { Gelu, LayerNorm, Linear, type GeluKind, type Into } from './primitives.js';

/** Linear(d→F), GELU, Linear(F→d). */
export class FeedForward {
  readonly gelu: Gelu;
  #h1: Buf = 0; #g: Buf = 0; #dg: Buf = 0; #dh1: Buf = 0;
  constructor(readonly ps: Params, readonly linear1: Linear, readonly linear2: Linear, gelu: GeluKind) {
    this.gelu = new Gelu(ps, gelu);
  }

  plan(a: Planner, N: number): void {
    const F = this.linear1.outF;
    this.#h1 = a.take(N * F); this.#g = a.take(N * F);
    this.#dg = a.scratch(N * F); this.#dh1 = a.scratch(N * F);
  }

  /** y (= or +=) linear2(gelu(linear1(x))). */
  forward(y: Buf, x: Buf, N: number, into: Into = 'set'): void {
    const F = this.linear1.outF;
    this.linear1.forward(this.#h1, x, N);
    this.gelu.forward(this.#g, this.#h1, N * F);
    this.linear2.forward(y, this.#g, N, into);
  }

  /** dx (+=|=) the input's gradient from dy; parameter gradients +=. */
  backward(dx: Buf, dy: Buf, x: Buf, N: number, into: Into = 'add'): void {
    const F = this.linear1.outF;
    this.linear2.backward(this.#dg, dy, this.#g, N, 'set');
    this.ps.rt.be.zero(this.#dh1, N * F);
    this.gelu.backward(this.#dh1, this.#h1, this.#dg, N * F);
    this.linear1.backward(dx, this.#dh1, x, N, into);
  }
}

export interface EncoderBlockOptions {
  d: number; heads: number; ffDim: number;
  norm: 'pre' | 'post';
  eps?: number;
  gelu?: GeluKind;
  /** Parameter names and registration order: PyTorch's nn.TransformerEncoderLayer ('torch':
   *  self_attn, linear1, linear2, norm1, norm2), Hugging Face's BertLayer ('bert':
   *  attention.self.{query,key,value}, attention.output.{dense,LayerNorm}, intermediate.dense,
   *  output.{dense,LayerNorm}), each initialised as its library does; or a function that builds
   *  the parts under other names (registering them in its own order: nanoGPT's Block). */
  names?: 'torch' | 'bert' | ((ps: Params, prefix: string) => BlockParts);
}

/** What a block is made of. A causal attention makes a causal block, which takes no padding mask:
 *  a causal row's padding comes after its tokens, which never see it, and id 0 is a token. */
export interface BlockParts { norm1: LayerNorm; attn: MultiHeadAttention; norm2: LayerNorm; ff: FeedForward }

/** The attention maps [B,H,T,T] of a stack of blocks, one per block (a family's Net.attention). */
export function blockAttention(blocks: readonly EncoderBlock[], heads: number) {
  return (B: number, T: number) => blocks.map((b) => ({ shape: [B, heads, T, T], write: (p: Buf) => b.attentionProbs(p) }));
}

/** One encoder layer as a chain layer: [N,d] in, [N,d] out, the batch's padding mask on the keys. */
export class EncoderBlock implements Layer {
  readonly setsInputGrad = true;
  readonly attn: MultiHeadAttention;
  readonly ff: FeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly pre: boolean;
  #x!: Act; #y!: Act; #batch!: Batch;
  // saved: pre-norm: n1 = norm1(x), r1 = x + attn(n1), n2 = norm2(r1); post-norm: r1 = x + attn(x),
  // n1 = norm1(r1), r2 = n1 + ff(n1) (n2 unused). Scratch: d1, d2 (gradients inside the block).
  #n1: Buf = 0; #r1: Buf = 0; #n2: Buf = 0; #r2: Buf = 0; #d1: Buf = 0; #d2: Buf = 0;

  constructor(readonly ps: Params, prefix: string, o: EncoderBlockOptions) {
    const { d, heads, ffDim: F } = o, eps = o.eps ?? 1e-5, p = `${prefix}.`;
    this.pre = o.norm === 'pre';
    if (typeof o.names === 'function') {
      ({ norm1: this.norm1, attn: this.attn, norm2: this.norm2, ff: this.ff } = o.names(ps, p));
    } else if ((o.names ?? 'torch') === 'torch') {
      this.attn = new MultiHeadAttention(ps, `${p}self_attn`, d, heads);
      const l1 = new Linear(ps, `${p}linear1`, d, F), l2 = new Linear(ps, `${p}linear2`, F, d);
      this.ff = new FeedForward(ps, l1, l2, o.gelu ?? 'tanh');
      this.norm1 = new LayerNorm(ps, `${p}norm1`, d, eps);
      this.norm2 = new LayerNorm(ps, `${p}norm2`, d, eps);
    } else {
      // Hugging Face's _init_weights: every Linear N(0, 0.02) with zero bias.
      const init = { weightInit: { normal: 0.02 }, biasInit: { constant: 0 } };
      this.attn = new MultiHeadAttention(ps, `${p}attention`, d, heads, {
        layout: 'separate', q: `${p}attention.self.query`, k: `${p}attention.self.key`, v: `${p}attention.self.value`, out: `${p}attention.output.dense`, init,
      } satisfies AttentionNames);
      this.norm1 = new LayerNorm(ps, `${p}attention.output.LayerNorm`, d, eps);
      const l1 = new Linear(ps, `${p}intermediate.dense`, d, F, init);
      const l2 = new Linear(ps, `${p}output.dense`, F, d, init);
      this.ff = new FeedForward(ps, l1, l2, o.gelu ?? 'erf');
      this.norm2 = new LayerNorm(ps, `${p}output.LayerNorm`, d, eps);
    }
  }

  plan(a: Planner, batch: Batch, x: Act | null): Act {
    const { B, T } = batch, N = B * T, d = this.norm1.C;
    this.#x = x!; this.#batch = batch;
    this.attn.plan(a, { B, T, S: T });
    this.ff.plan(a, N);
    this.#n1 = a.take(N * d); this.#r1 = a.take(N * d);
    if (this.pre) this.#n2 = a.take(N * d); else this.#r2 = a.take(N * d);
    this.#y = { y: a.take(N * d), dy: a.take(N * d), rows: N, width: d };
    this.#d1 = a.scratch(N * d); this.#d2 = a.scratch(N * d);
    return this.#y;
  }

  forward(): void {
    const { be } = this.ps.rt, { B, T } = this.#batch, mask = this.#mask(), N = B * T, d = this.norm1.C, x = this.#x.y, y = this.#y.y;
    if (this.pre) {
      // r1 = x + attn(norm1(x)); y = r1 + ff(norm2(r1))
      this.norm1.forward(this.#n1, x, N);
      be.copy(this.#r1, x, N * d);
      this.attn.forward(this.#r1, this.#n1, this.#n1, mask, 'add');
      this.norm2.forward(this.#n2, this.#r1, N);
      be.copy(y, this.#r1, N * d);
      this.ff.forward(y, this.#n2, N, 'add');
    } else {
      // n1 = norm1(x + attn(x)); y = norm2(n1 + ff(n1))
      be.copy(this.#r1, x, N * d);
      this.attn.forward(this.#r1, x, x, mask, 'add');
      this.norm1.forward(this.#n1, this.#r1, N);
      be.copy(this.#r2, this.#n1, N * d);
      this.ff.forward(this.#r2, this.#n1, N, 'add');
      this.norm2.forward(y, this.#r2, N);
    }
  }

  backward(): void {
    const { be } = this.ps.rt, { B, T } = this.#batch, mask = this.#mask(), N = B * T, d = this.norm1.C;
    const x = this.#x.y, dx = this.#x.dy, dy = this.#y.dy, d1 = this.#d1, d2 = this.#d2;
    if (this.pre) {
      // d1 = dr1 = dy + norm2ᵀ(ffᵀ(dy)); dx = d1 + norm1ᵀ(attnᵀ(d1))
      be.copy(d1, dy, N * d);
      this.ff.backward(d2, dy, this.#n2, N, 'set');
      this.norm2.backward(d1, d2, this.#r1, N);
      this.attn.backward(d2, null, d1, this.#n1, this.#n1, mask, 'set');
      be.copy(dx, d1, N * d);
      this.norm1.backward(dx, d2, x, N);
    } else {
      // d2 = dr2 = norm2ᵀ(dy); d1 = dn1 = d2 + ffᵀ(d2); d2 = dr1 = norm1ᵀ(d1); dx = d2 + attnᵀ(d2)
      be.zero(d2, N * d);
      this.norm2.backward(d2, dy, this.#r2, N);
      be.copy(d1, d2, N * d);
      this.ff.backward(d1, d2, this.#n1, N, 'add');
      be.zero(d2, N * d);
      this.norm1.backward(d2, d1, this.#r1, N);
      be.copy(dx, d2, N * d);
      this.attn.backward(dx, null, d2, x, x, mask, 'add');
    }
  }

  /** The attention weights [B,H,T,T] of the last forward, into p. */
  attentionProbs(p: Buf): void {
    this.attn.probs(p, this.#mask());
  }

  #mask(): Buf | null {
    return this.attn.causal ? null : this.#batch.mask;
  }
}
