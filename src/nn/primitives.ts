// The primitives every model is built from, each a forward and a backward over buffers the caller
// names (rows N, features as PyTorch's). Backward passes accumulate into parameter gradients; into
// the input gradient they accumulate too unless `into` says 'set' (a buffer the caller has not
// zeroed: one pass over it saved, and a matmul that writes instead of adding).
import type { Buf, IBuf } from '../backends/backend.js';
import type { Param, Params } from './layer.js';

export type Into = 'add' | 'set';
const flag = (into: Into): number => (into === 'add' ? 1 : 0);
const lin = (fanIn: number) => ({ uniform: 1 / Math.sqrt(fanIn) });

/** nn.Linear: y = x·Wᵀ + b; x [N,in], W [out,in], b [out]. PyTorch's initialisation unless given. */
export class Linear {
  readonly weight: Param;
  readonly bias: Param | null;
  constructor(readonly ps: Params, name: string, readonly inF: number, readonly outF: number,
              o: { bias?: boolean; weightInit?: { uniform: number } | { normal: number }; biasInit?: { uniform: number } | { constant: number } } = {}) {
    this.weight = ps.add(`${name}.weight`, [outF, inF], o.weightInit ?? lin(inF));
    this.bias = o.bias === false ? null : ps.add(`${name}.bias`, [outF], o.biasInit ?? lin(inF));
  }

  /** y (= or +=) x·Wᵀ, then += b. With 'add', y + x·Wᵀ is one rounding (the residual add fused). */
  forward(y: Buf, x: Buf, N: number, into: Into = 'set'): void {
    const k = this.ps.rt.k;
    k.matmul_forward(y, x, this.weight.w, 1, N, this.outF, this.inF, 0, 1, 0, flag(into));
    if (this.bias) k.bias_forward(y, this.bias.w, N, this.outF);
  }

  /** dW += dyᵀ·x, db += Σ dy, dx (+=|=) dy·W (dx null: the input needs no gradient). */
  backward(dx: Buf | null, dy: Buf, x: Buf, N: number, into: Into = 'add'): void {
    const k = this.ps.rt.k;
    if (dx !== null) k.matmul_forward(dx, dy, this.weight.w, 1, N, this.inF, this.outF, 0, 0, 0, flag(into));
    k.matmul_forward(this.weight.g, dy, x, 1, this.outF, this.inF, N, 1, 0, 0, 1);
    if (this.bias) k.bias_backward(this.bias.g, dy, N, this.outF);
  }
}

/** nn.LayerNorm over the last dimension, eps from the config (PyTorch's 1e-5; BERT's 1e-12). */
export class LayerNorm {
  readonly weight: Param;
  readonly bias: Param;
  constructor(readonly ps: Params, name: string, readonly C: number, readonly eps = 1e-5) {
    this.weight = ps.add(`${name}.weight`, [C], { constant: 1 });
    this.bias = ps.add(`${name}.bias`, [C], { constant: 0 });
  }

  forward(y: Buf, x: Buf, N: number): void {
    this.ps.rt.k.layernorm_forward(y, x, this.weight.w, this.bias.w, N, this.C, this.eps);
  }

  /** dx += …, dγ += …, dβ += … (the kernel accumulates into all three). */
  backward(dx: Buf, dy: Buf, x: Buf, N: number): void {
    this.ps.rt.k.layernorm_backward(dx, this.weight.g, this.bias.g, dy, x, this.weight.w, N, this.C, this.eps);
  }
}

export type GeluKind = 'tanh' | 'erf';

/** GELU, PyTorch's approximate='tanh' or its exact erf form (BERT's). No parameters. */
export class Gelu {
  constructor(readonly ps: Params, readonly kind: GeluKind = 'tanh') {}

  forward(y: Buf, x: Buf, n: number): void {
    const k = this.ps.rt.k;
    if (this.kind === 'tanh') k.gelu_forward(y, x, n); else k.gelu_erf_forward(y, x, n);
  }

  /** dx += gelu'(x)·dy. */
  backward(dx: Buf, x: Buf, dy: Buf, n: number): void {
    const k = this.ps.rt.k;
    if (this.kind === 'tanh') k.gelu_backward(dx, x, dy, n); else k.gelu_erf_backward(dx, x, dy, n);
  }
}

/** nn.Embedding: out[n] = W[ids[n]]; N(0,1) initialisation as PyTorch's unless given. */
export class Embedding {
  readonly weight: Param;
  constructor(readonly ps: Params, name: string, readonly rows: number, readonly C: number, init: { normal: number } = { normal: 1 }) {
    this.weight = ps.add(`${name}.weight`, [rows, C], init);
  }

  forward(out: Buf, ids: IBuf, N: number): void {
    this.ps.rt.k.embedding_forward(out, ids, this.weight.w, N, this.C);
  }

  /** dW[ids[n]] += dout[n]. */
  backward(ids: IBuf, dout: Buf, N: number): void {
    this.ps.rt.k.embedding_backward(this.weight.g, ids, dout, N, this.C);
  }
}

/** Learned absolute positions: x[b,t] += P[offset + t] for every b (positions 0.. of each row,
 *  shifted by `offset` when decoding after a cache). */
export class Positions {
  readonly weight: Param;
  constructor(readonly ps: Params, name: string, readonly maxLen: number, readonly C: number, init: { normal: number } = { normal: 1 }) {
    this.weight = ps.add(`${name}.weight`, [maxLen, C], init);
  }

  forward(x: Buf, B: number, T: number, offset = 0): void {
    const { be, k } = this.ps.rt;
    k.bias_forward(x, offset === 0 ? this.weight.w : be.sub(this.weight.w, offset * this.C, T * this.C), B, T * this.C);
  }

  backward(dx: Buf, B: number, T: number, offset = 0): void {
    const { be, k } = this.ps.rt;
    k.bias_backward(be.sub(this.weight.g, offset * this.C, T * this.C), dx, B, T * this.C);
  }
}
