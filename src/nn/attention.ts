// Multi-head attention, nn.MultiheadAttention's math: q, k, v projections, heads of Dh = d/H,
// softmax(q·kᵀ/√Dh + masks)·v per head, heads merged, output projection. Two weight layouts:
// 'packed' (PyTorch's in_proj_weight [3d,d] + in_proj_bias, out_proj.*; self-attention) and
// 'separate' (one Linear each for q, k, v and the output, as Hugging Face's BERT names them; self
// or cross: keys and values may come from another sequence of S positions).
import type { Buf } from '../backends/backend.js';
import type { Param, Params, Planner } from './layer.js';
import { Linear, type Into } from './primitives.js';

export interface AttentionNames {
  /** 'packed': `${prefix}.in_proj_weight`, `${prefix}.in_proj_bias`, `${prefix}.out_proj.*`, or
   *  with `inProj` and `out` given `${inProj}.weight`, `${inProj}.bias`, `${out}.*` (nanoGPT's
   *  'attn.c_attn' and 'attn.c_proj': the same q, k, v row blocks). */
  layout: 'packed' | 'separate';
  inProj?: string;
  /** For 'separate': the names of the four Linears (e.g. 'attention.self.query'). */
  q?: string; k?: string; v?: string; out?: string;
  /** The initialisation of the projections (nn.MultiheadAttention's for 'packed', nn.Linear's for
   *  'separate' when absent); `outInit` overrides it for the output projection. */
  init?: { weightInit: { normal: number }; biasInit: { constant: number } };
  outInit?: { weightInit: { normal: number }; biasInit: { constant: number } };
}

export interface AttentionShape { B: number; T: number; S: number }

/** Per-plan buffers: what backward needs from forward. Heads-first layouts are [B,H,rows,Dh]. */
interface Saved { q: Buf; k: Buf; v: Buf; att: Buf; lse: Buf; attm: Buf; qkv: Buf; dattm: Buf; datt: Buf; dq: Buf; dk: Buf; dv: Buf; dqkv: Buf }

export class MultiHeadAttention {
  readonly Dh: number;
  readonly scale: number;
  // packed
  readonly inProjWeight: Param | null = null;
  readonly inProjBias: Param | null = null;
  // separate
  readonly q: Linear | null = null;
  readonly k: Linear | null = null;
  readonly v: Linear | null = null;
  readonly out: Linear;
  #s: Saved | null = null;
  #shape: AttentionShape = { B: 0, T: 0, S: 0 };

  constructor(readonly ps: Params, prefix: string, readonly d: number, readonly H: number, names: AttentionNames = { layout: 'packed' },
              readonly causal = false) {
    this.Dh = d / H;
    this.scale = 1 / Math.sqrt(this.Dh);
    if (names.layout === 'packed') {
      // nn.MultiheadAttention's names and initialisation (xavier_uniform in_proj, zero biases, a
      // Linear-initialised out_proj weight with a zero bias), or the names and init given.
      const w = names.inProj === undefined ? `${prefix}.in_proj_` : `${names.inProj}.`;
      this.inProjWeight = ps.add(`${w}weight`, [3 * d, d], names.init?.weightInit ?? { uniform: Math.sqrt(6 / (d + 3 * d)) });
      this.inProjBias = ps.add(`${w}bias`, [3 * d], names.init?.biasInit ?? { constant: 0 });
      this.out = new Linear(ps, names.out ?? `${prefix}.out_proj`, d, d, names.outInit ?? names.init ?? { biasInit: { constant: 0 } });
    } else {
      this.q = new Linear(ps, names.q!, d, d, names.init);
      this.k = new Linear(ps, names.k!, d, d, names.init);
      this.v = new Linear(ps, names.v!, d, d, names.init);
      this.out = new Linear(ps, names.out!, d, d, names.init);
    }
  }

  /** Takes the saved activations (persistent) and the backward's buffers (scratch). */
  plan(a: Planner, s: AttentionShape): void {
    const { d, H } = this, NT = s.B * s.T, NS = s.B * s.S;
    this.#shape = s;
    const packed = this.inProjWeight !== null;
    this.#s = {
      q: a.take(NT * d), k: a.take(NS * d), v: a.take(NS * d), att: a.take(NT * d), lse: a.take(s.B * H * s.T), attm: a.take(NT * d),
      qkv: a.scratch(packed ? NT * 3 * d : Math.max(NT, NS) * d),
      dattm: a.scratch(NT * d), datt: a.scratch(NT * d), dq: a.scratch(NT * d), dk: a.scratch(NS * d), dv: a.scratch(NS * d),
      dqkv: a.scratch(packed ? NT * 3 * d : Math.max(NT, NS) * d),
    };
  }

  /** y (= or +=) attention(x, kv), then + the output bias. x [B,T,d] queries; kv [B,S,d] keys and
   *  values (x itself for self-attention); mask [B,S] 1 keep / 0 padding, or null. */
  forward(y: Buf, x: Buf, kv: Buf, mask: Buf | null, into: Into = 'set'): void {
    const { be, k } = this.ps.rt, s = this.#s!, { B, T, S } = this.#shape, { d, H, Dh } = this;
    if (this.inProjWeight !== null) {
      k.matmul_forward(s.qkv, x, this.inProjWeight.w, 1, B * T, 3 * d, d, 0, 1, 0, 0);
      k.bias_forward(s.qkv, this.inProjBias!.w, B * T, 3 * d);
      k.split_heads_forward(s.q, s.k, s.v, s.qkv, B, T, H, Dh);
    } else {
      // [B,rows,H,Dh] → [B,H,rows,Dh]: merge_heads_backward is that transpose, accumulating into zeros.
      const heads = (dst: Buf, lin: Linear, src: Buf, rows: number) => {
        lin.forward(s.qkv, src, B * rows);
        be.zero(dst, B * rows * d);
        k.merge_heads_backward(dst, s.qkv, B, rows, H, Dh);
      };
      heads(s.q, this.q!, x, T); heads(s.k, this.k!, kv, S); heads(s.v, this.v!, kv, S);
    }
    k.attention_forward(s.att, s.lse, s.q, s.k, s.v, mask ?? 0, mask === null ? 0 : 1, B, H, T, S, Dh, this.scale, this.causal ? 1 : 0, 0, S * Dh);
    k.merge_heads_forward(s.attm, s.att, B, T, H, Dh);
    this.out.forward(y, s.attm, B * T, into);
  }

  /** From dy [B,T,d]: dx (+=|=) the queries' gradient; dkv += the keys' and values' (dkv null for
   *  self-attention, where both go to dx; then `into` applies to the sum). Parameter gradients +=. */
  backward(dx: Buf, dkv: Buf | null, dy: Buf, x: Buf, kv: Buf, mask: Buf | null, into: Into = 'add'): void {
    const { be, k } = this.ps.rt, s = this.#s!, { B, T, S } = this.#shape, { d, H, Dh } = this;
    this.out.backward(s.dattm, dy, s.attm, B * T, 'set');
    be.zero(s.datt, B * T * d);
    k.merge_heads_backward(s.datt, s.dattm, B, T, H, Dh);
    be.zero(s.dq, B * T * d); be.zero(s.dk, B * S * d); be.zero(s.dv, B * S * d);
    k.attention_backward(s.dq, s.dk, s.dv, s.q, s.k, s.v, s.att, s.lse, s.datt, mask ?? 0, mask === null ? 0 : 1,
      B, H, T, S, Dh, this.scale, this.causal ? 1 : 0, 0, S * Dh);
    if (this.inProjWeight !== null) {
      be.zero(s.dqkv, B * T * 3 * d);
      k.split_heads_backward(s.dqkv, s.dq, s.dk, s.dv, B, T, H, Dh);
      k.matmul_forward(this.inProjWeight.g, s.dqkv, x, 1, 3 * d, d, B * T, 1, 0, 0, 1);
      k.bias_backward(this.inProjBias!.g, s.dqkv, B * T, 3 * d);
      // The key bias adds q·b_k to every score of a query row, which softmax ignores: its gradient
      // is exactly zero. The column sums above leave rounding noise there, which Adam would
      // amplify into steps of up to lr; keep the exact value.
      be.zero(be.sub(this.inProjBias!.g, d, d), d);
      k.matmul_forward(dx, s.dqkv, this.inProjWeight.w, 1, B * T, d, 3 * d, 0, 0, 0, into === 'add' ? 1 : 0);
      return;
    }
    // [B,H,rows,Dh] → [B,rows,H,Dh] (merge_heads_forward writes), then each Linear's backward.
    const back = (lin: Linear, dheads: Buf, src: Buf, rows: number, dsrc: Buf, how: Into) => {
      k.merge_heads_forward(s.dqkv, dheads, B, rows, H, Dh);
      lin.backward(dsrc, s.dqkv, src, B * rows, how);
    };
    back(this.q!, s.dq, x, T, dx, into);
    const dk = dkv ?? dx;
    back(this.k!, s.dk, kv, S, dk, 'add');
    back(this.v!, s.dv, kv, S, dk, 'add');
    if (this.k!.bias) be.zero(this.k!.bias.g, d);   // as above: softmax ignores the key bias
  }

  /** The attention weights [B,H,T,S] of the last forward, into p. */
  probs(p: Buf, mask: Buf | null): void {
    const s = this.#s!, { B, T, S } = this.#shape, { H, Dh } = this;
    this.ps.rt.k.attention_probs(p, s.q, s.k, mask ?? 0, mask === null ? 0 : 1, B, H, T, S, Dh, this.scale, this.causal ? 1 : 0, 0, S * Dh);
  }
}
