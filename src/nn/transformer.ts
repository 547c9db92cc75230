// transformerClassifier: layer for layer the PyTorch model of the README's Models section — learned positions, pre-norm
// nn.TransformerEncoderLayer (dropout 0, GELU tanh), key padding mask, final LayerNorm, mean over
// non-padding positions, Linear head. Shapes: B batch, T positions, N = B·T rows, d = dModel,
// H heads of Dh = d/H, F = ffDim, C = classes, L = layers.
import type { Buf } from '../backends/backend.js';
import type { InferenceContext as Context } from '../inference-context.js';
import { MAX_ELEMENTS, isPlannable } from '../backends/backend.js';
import { HeedError, checkPositiveInt } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { ParamLayout, type Arena, type ParamSpec, type SizingArena } from './block.js';
import { Model, type BasePlan, type TransformerConfig } from './model.js';

export interface TransformerOptions {
  vocabSize: number; maxLen?: number; dModel?: number; heads?: number; ffDim?: number; layers?: number;
  classes?: number; seed?: number;
}

interface LayerActs {
  x: Buf;     // [N,d] layer input (x[0] = embeddings)
  ln1: Buf;   // [N,d]
  qkv: Buf;   // [N,3d]
  q: Buf; k: Buf; v: Buf; // [B,H,T,Dh]
  att: Buf;   // [B,H,T,Dh] attention output
  lse: Buf;   // [B,H,T] row log-sum-exp
  attm: Buf;  // [N,d] heads merged
  xmid: Buf;  // [N,d] x + attention branch
  ln2: Buf;   // [N,d]
  h1: Buf;    // [N,F] linear1 output
  g: Buf;     // [N,F] gelu(h1)
}

interface Plan extends BasePlan {
  mask: Buf;        // [B,T] 1 keep / 0 padding
  layers: LayerActs[];
  xL: Buf;          // [N,d] last layer's output
  xf: Buf;          // [N,d] final norm
  pooled: Buf;      // [B,d]
  // backward scratch
  dpooled: Buf; dxf: Buf; dxA: Buf; dxB: Buf; dxmid: Buf; dg: Buf; dh1: Buf; dln: Buf;
  dattm: Buf; datt: Buf; dq: Buf; dk: Buf; dv: Buf; dqkv: Buf;
}

const positiveInt = (name: string, v: unknown): number => checkPositiveInt('transformerClassifier', name, v);

export function transformerConfig(o: TransformerOptions): TransformerConfig {
  if (o === null || typeof o !== 'object') throw new HeedError('transformerClassifier: expected an options object');
  const dModel = positiveInt('dModel', o.dModel ?? 64);
  const c: TransformerConfig = {
    kind: 'transformer',
    vocabSize: positiveInt('vocabSize', o.vocabSize),
    maxLen: positiveInt('maxLen', o.maxLen ?? 128),
    dModel,
    heads: positiveInt('heads', o.heads ?? 4),
    ffDim: positiveInt('ffDim', o.ffDim ?? 4 * dModel),
    layers: positiveInt('layers', o.layers ?? 2),
    classes: positiveInt('classes', o.classes ?? 2),
    seed: o.seed ?? 0,
  };
  if (!Number.isInteger(c.seed)) throw new HeedError(`transformerClassifier: seed must be an integer, got ${String(o.seed)}`);
  if (dModel % c.heads !== 0) throw new HeedError(`transformerClassifier: heads (${c.heads}) must divide dModel (${dModel})`);
  // The layout is built entry by entry (12 per layer) before anything is allocated: an absurd
  // layer count would take minutes and gigabytes of JS heap there, and a parameter count past
  // what one block can hold must fail here, by name, not deep in an allocation.
  if (c.layers > MAX_LAYERS) throw new HeedError(`transformerClassifier: layers must be at most ${MAX_LAYERS}, got ${c.layers}`);
  const params = parameterCount(c);
  if (!isPlannable(params)) {
    throw new HeedError(`transformerClassifier: vocabSize ${c.vocabSize}, maxLen ${c.maxLen}, dModel ${dModel}, ffDim ${c.ffDim}, layers ${c.layers} ` +
      `and classes ${c.classes} make ${params} parameters, more than one block can hold (${MAX_ELEMENTS})`);
  }
  return c;
}

/** The most encoder layers a config may have. */
export const MAX_LAYERS = 1024;

/** Parameters of a config, as specs() lays them out, computed without building the layout. */
export function parameterCount(c: TransformerConfig): number {
  const d = c.dModel, F = c.ffDim, C = c.classes;
  const perLayer = 4 * d * d + 3 * d + d + 2 * F * d + F + d + 4 * d;   // attention, feed-forward, two norms
  return (c.vocabSize + c.maxLen) * d + c.layers * perLayer + 2 * d + C * d + C;
}

function specs(c: TransformerConfig): ParamSpec[] {
  const d = c.dModel, F = c.ffDim, C = c.classes;
  // PyTorch's initialisation: Embedding N(0,1); MultiheadAttention xavier_uniform in_proj, zero
  // biases, Linear-style out_proj; Linear U(±1/√fan_in) for weight and bias; LayerNorm 1 and 0.
  const lin = (fanIn: number) => ({ uniform: 1 / Math.sqrt(fanIn) });
  const out: ParamSpec[] = [
    { name: 'embed.weight', shape: [c.vocabSize, d], init: { normal: 1 } },
    { name: 'pos_embed.weight', shape: [c.maxLen, d], init: { normal: 1 } },
  ];
  for (let i = 0; i < c.layers; i++) {
    const p = `layers.${i}.`;
    out.push(
      { name: `${p}self_attn.in_proj_weight`, shape: [3 * d, d], init: { uniform: Math.sqrt(6 / (d + 3 * d)) } },
      { name: `${p}self_attn.in_proj_bias`, shape: [3 * d], init: { constant: 0 } },
      { name: `${p}self_attn.out_proj.weight`, shape: [d, d], init: lin(d) },
      { name: `${p}self_attn.out_proj.bias`, shape: [d], init: { constant: 0 } },
      { name: `${p}linear1.weight`, shape: [F, d], init: lin(d) },
      { name: `${p}linear1.bias`, shape: [F], init: lin(d) },
      { name: `${p}linear2.weight`, shape: [d, F], init: lin(F) },
      { name: `${p}linear2.bias`, shape: [d], init: lin(F) },
      { name: `${p}norm1.weight`, shape: [d], init: { constant: 1 } },
      { name: `${p}norm1.bias`, shape: [d], init: { constant: 0 } },
      { name: `${p}norm2.weight`, shape: [d], init: { constant: 1 } },
      { name: `${p}norm2.bias`, shape: [d], init: { constant: 0 } },
    );
  }
  out.push(
    { name: 'norm.weight', shape: [d], init: { constant: 1 } },
    { name: 'norm.bias', shape: [d], init: { constant: 0 } },
    { name: 'head.weight', shape: [C, d], init: lin(d) },
    { name: 'head.bias', shape: [C], init: lin(d) },
  );
  return out;
}

const EPS = 1e-5;

export class TransformerClassifier extends Model<TransformerConfig, Plan> {
  constructor(ctx: Context, options: TransformerOptions) {
    const c = transformerConfig(options);
    super(ctx, c, specs(c));
  }

  /** The parameter layout of a config, without allocating a model. */
  static layoutFor(c: TransformerConfig): ParamLayout {
    return new ParamLayout(specs(c));
  }

  protected get maxLen(): number {
    return this.config.maxLen;
  }

  protected planBuffers(a: Arena | SizingArena, B: number, T: number): Plan {
    const { dModel: d, ffDim: F, heads: H, layers: L } = this.config, N = B * T;
    const base = this.basePlan(a, B, T);
    const layers: LayerActs[] = [];
    for (let l = 0; l < L; l++) {
      layers.push({
        x: a.take(N * d), ln1: a.take(N * d), qkv: a.take(N * 3 * d), q: a.take(N * d), k: a.take(N * d), v: a.take(N * d),
        att: a.take(N * d), lse: a.take(B * H * T), attm: a.take(N * d), xmid: a.take(N * d), ln2: a.take(N * d),
        h1: a.take(N * F), g: a.take(N * F),
      });
    }
    return {
      ...base, mask: a.take(N), layers, xL: a.take(N * d), xf: a.take(N * d), pooled: a.take(B * d),
      dpooled: a.take(B * d), dxf: a.take(N * d), dxA: a.take(N * d), dxB: a.take(N * d), dxmid: a.take(N * d),
      dg: a.take(N * F), dh1: a.take(N * F), dln: a.take(N * d), dattm: a.take(N * d), datt: a.take(N * d),
      dq: a.take(N * d), dk: a.take(N * d), dv: a.take(N * d), dqkv: a.take(N * 3 * d),
    };
  }

  runForward(p: Plan, B: number, T: number): void {
    const { k, be } = this, { dModel: d, classes: C } = this.config;
    if (B === 0) return;
    const P = (n: string) => this.param(n);
    // T = 0: every row pools nothing, as a row of padding does, and its logits are head.bias (not
    // whatever an earlier batch left in the arena).
    if (T === 0) be.zero(p.pooled, B * d);
    else this.#encode(p, B, T);
    k.matmul_forward(p.logits, p.pooled, P('head.weight'), 1, B, C, d, 0, 1, 0, 0);
    k.bias_forward(p.logits, P('head.bias'), B, C);
  }

  /** Embeddings through the layers, the final norm and the mean over non-padding positions: p.pooled. */
  #encode(p: Plan, B: number, T: number): void {
    const { k, be } = this, { dModel: d, ffDim: F, heads: H } = this.config;
    const N = B * T, Dh = d / H, scale = 1 / Math.sqrt(Dh);
    const P = (n: string) => this.param(n);
    // x0 = embed(tok) + pos_embed(arange(T))
    const x0 = p.layers.length ? p.layers[0].x : p.xL;
    k.embedding_forward(x0, p.tokens, P('embed.weight'), N, d);
    k.bias_forward(x0, P('pos_embed.weight'), B, T * d);
    k.token_mask(p.mask, p.tokens, N);
    p.layers.forEach((a, l) => {
      const w = `layers.${l}.`;
      const next = l + 1 < p.layers.length ? p.layers[l + 1].x : p.xL;
      // x + self_attn(norm1(x))
      k.layernorm_forward(a.ln1, a.x, P(`${w}norm1.weight`), P(`${w}norm1.bias`), N, d, EPS);
      k.matmul_forward(a.qkv, a.ln1, P(`${w}self_attn.in_proj_weight`), 1, N, 3 * d, d, 0, 1, 0, 0);
      k.bias_forward(a.qkv, P(`${w}self_attn.in_proj_bias`), N, 3 * d);
      k.split_heads_forward(a.q, a.k, a.v, a.qkv, B, T, H, Dh);
      k.attention_forward(a.att, a.lse, a.q, a.k, a.v, p.mask, 1, B, H, T, T, Dh, scale, 0, 0, T * Dh);
      k.merge_heads_forward(a.attm, a.att, B, T, H, Dh);
      be.copy(a.xmid, a.x, N * d);
      k.matmul_forward(a.xmid, a.attm, P(`${w}self_attn.out_proj.weight`), 1, N, d, d, 0, 1, 0, 1);
      k.bias_forward(a.xmid, P(`${w}self_attn.out_proj.bias`), N, d);
      // + linear2(gelu(linear1(norm2(x))))
      k.layernorm_forward(a.ln2, a.xmid, P(`${w}norm2.weight`), P(`${w}norm2.bias`), N, d, EPS);
      k.matmul_forward(a.h1, a.ln2, P(`${w}linear1.weight`), 1, N, F, d, 0, 1, 0, 0);
      k.bias_forward(a.h1, P(`${w}linear1.bias`), N, F);
      k.gelu_forward(a.g, a.h1, N * F);
      be.copy(next, a.xmid, N * d);
      k.matmul_forward(next, a.g, P(`${w}linear2.weight`), 1, N, d, F, 0, 1, 0, 1);
      k.bias_forward(next, P(`${w}linear2.bias`), N, d);
    });
    k.layernorm_forward(p.xf, p.xL, P('norm.weight'), P('norm.bias'), N, d, EPS);
    k.mean_pool_forward(p.pooled, p.xf, p.tokens, B, T, d);
  }

  runBackward(p: Plan, B: number, T: number): void {
    const { k, be } = this, { dModel: d, ffDim: F, heads: H, classes: C } = this.config;
    const N = B * T, Dh = d / H, scale = 1 / Math.sqrt(Dh);
    if (B === 0) return;
    const P = (n: string) => this.param(n), G = (n: string) => this.param(n, true);
    // head: logits = pooled · Wᵀ + b
    k.matmul_forward(p.dpooled, p.dlogits, P('head.weight'), 1, B, d, C, 0, 0, 0, 0);
    k.matmul_forward(G('head.weight'), p.dlogits, p.pooled, 1, C, d, B, 1, 0, 0, 1);
    k.bias_backward(G('head.bias'), p.dlogits, B, C);
    if (N === 0) return;                  // T = 0: nothing below the head was used
    be.zero(p.dxf, N * d);
    k.mean_pool_backward(p.dxf, p.dpooled, p.tokens, B, T, d);
    let dx = p.dxA, dxOther = p.dxB;   // gradient w.r.t. the current residual stream
    be.zero(dx, N * d);
    k.layernorm_backward(dx, G('norm.weight'), G('norm.bias'), p.dxf, p.xL, P('norm.weight'), N, d, EPS);
    for (let l = p.layers.length - 1; l >= 0; l--) {
      const a = p.layers[l], w = `layers.${l}.`;
      // in the forward pass: next = xmid + linear2(gelu(linear1(norm2(xmid))))
      be.copy(p.dxmid, dx, N * d);
      k.matmul_forward(p.dg, dx, P(`${w}linear2.weight`), 1, N, F, d, 0, 0, 0, 0);
      k.matmul_forward(G(`${w}linear2.weight`), dx, a.g, 1, d, F, N, 1, 0, 0, 1);
      k.bias_backward(G(`${w}linear2.bias`), dx, N, d);
      be.zero(p.dh1, N * F);
      k.gelu_backward(p.dh1, a.h1, p.dg, N * F);
      k.matmul_forward(G(`${w}linear1.weight`), p.dh1, a.ln2, 1, F, d, N, 1, 0, 0, 1);
      k.bias_backward(G(`${w}linear1.bias`), p.dh1, N, F);
      k.matmul_forward(p.dln, p.dh1, P(`${w}linear1.weight`), 1, N, d, F, 0, 0, 0, 0);
      k.layernorm_backward(p.dxmid, G(`${w}norm2.weight`), G(`${w}norm2.bias`), p.dln, a.xmid, P(`${w}norm2.weight`), N, d, EPS);
      // in the forward pass: xmid = x + out_proj(attention(split(in_proj(norm1(x)))))
      k.matmul_forward(p.dattm, p.dxmid, P(`${w}self_attn.out_proj.weight`), 1, N, d, d, 0, 0, 0, 0);
      k.matmul_forward(G(`${w}self_attn.out_proj.weight`), p.dxmid, a.attm, 1, d, d, N, 1, 0, 0, 1);
      k.bias_backward(G(`${w}self_attn.out_proj.bias`), p.dxmid, N, d);
      be.zero(p.datt, N * d);
      k.merge_heads_backward(p.datt, p.dattm, B, T, H, Dh);
      be.zero(p.dq, N * d); be.zero(p.dk, N * d); be.zero(p.dv, N * d);
      k.attention_backward(p.dq, p.dk, p.dv, a.q, a.k, a.v, a.att, a.lse, p.datt, p.mask, 1, B, H, T, T, Dh, scale, 0, 0, T * Dh);
      be.zero(p.dqkv, N * 3 * d);
      k.split_heads_backward(p.dqkv, p.dq, p.dk, p.dv, B, T, H, Dh);
      k.matmul_forward(G(`${w}self_attn.in_proj_weight`), p.dqkv, a.ln1, 1, 3 * d, d, N, 1, 0, 0, 1);
      k.bias_backward(G(`${w}self_attn.in_proj_bias`), p.dqkv, N, 3 * d);
      // The key bias adds q·b_k to every score of a query row, which softmax ignores: its gradient
      // is exactly zero. The column sums above leave rounding noise there, which Adam would
      // amplify into steps of up to lr; keep the exact value.
      be.zero(be.sub(G(`${w}self_attn.in_proj_bias`), d, d), d);
      k.matmul_forward(p.dln, p.dqkv, P(`${w}self_attn.in_proj_weight`), 1, N, d, 3 * d, 0, 0, 0, 0);
      be.copy(dxOther, p.dxmid, N * d);
      k.layernorm_backward(dxOther, G(`${w}norm1.weight`), G(`${w}norm1.bias`), p.dln, a.x, P(`${w}norm1.weight`), N, d, EPS);
      [dx, dxOther] = [dxOther, dx];
    }
    // x0 = embed(tok) + pos_embed(arange(T))
    k.embedding_backward(G('embed.weight'), p.tokens, dx, N, d);
    k.bias_backward(this.be.sub(this.grads, this.layout.get('pos_embed.weight').offset, T * d), dx, B, T * d);
  }

  protected attentionOf(p: Plan, B: number, T: number): Tensor[] {
    const { dModel: d, heads: H } = this.config, Dh = d / H;
    return p.layers.map((a) => {
      const w = this.ctx.empty([B, H, T, T]);
      if (w.size > 0) this.k.attention_probs(w.buf, a.q, a.k, p.mask, 1, B, H, T, T, Dh, 1 / Math.sqrt(Dh), 0, 0, T * Dh);
      return w;
    });
  }
}
