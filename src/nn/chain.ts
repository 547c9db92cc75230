// Chain layers that are not encoder blocks: the embeddings at the bottom, a LayerNorm or a Linear
// over rows, and the pooling heads that turn [B,T,d] into [B,d]. Each owns its output and its
// gradient; forward and backward side by side.
import type { Buf } from '../backends/backend.js';
import type { Act, Batch, Layer, Param, Params, Planner } from './layer.js';
import { Embedding, LayerNorm, Linear, Positions } from './primitives.js';

const out = (a: Planner, rows: number, width: number): Act => ({ y: a.take(rows * width), dy: a.take(rows * width), rows, width });

/** Token embeddings, plus learned positions and token type embeddings when given, then a
 *  LayerNorm when given (BERT's embeddings): [B,T] ids → [B·T, d]. */
export class Embed implements Layer {
  #y!: Act; #batch!: Batch;
  #sum: Buf = 0; #dsum: Buf = 0; #typed: Buf = 0;   // before the norm; its gradient; one type lookup
  constructor(readonly ps: Params, readonly tokens: Embedding, readonly positions: Positions | null = null,
              readonly types: Embedding | null = null, readonly norm: LayerNorm | null = null) {}

  plan(a: Planner, batch: Batch): Act {
    const N = batch.B * batch.T, d = this.tokens.C;
    this.#batch = batch;
    this.#y = out(a, N, d);
    if (this.norm) { this.#sum = a.take(N * d); this.#dsum = a.scratch(N * d); }
    if (this.types) this.#typed = a.scratch(N * d);
    return this.#y;
  }

  forward(): void {
    const { B, T, tokens, types } = this.#batch, N = B * T, d = this.tokens.C;
    const x = this.norm ? this.#sum : this.#y.y;
    this.tokens.forward(x, tokens, N);
    this.positions?.forward(x, B, T);
    if (this.types) {
      this.types.forward(this.#typed, types!, N);
      this.ps.rt.k.add_forward(x, x, this.#typed, N * d);
    }
    this.norm?.forward(this.#y.y, x, N);
  }

  backward(): void {
    const { B, T, tokens, types } = this.#batch, N = B * T;
    let dx = this.#y.dy;
    if (this.norm) {
      this.ps.rt.be.zero(this.#dsum, N * this.tokens.C);
      this.norm.backward(this.#dsum, dx, this.#sum, N);
      dx = this.#dsum;
    }
    this.tokens.backward(tokens, dx, N);
    this.positions?.backward(dx, B, T);
    this.types?.backward(types!, dx, N);
  }
}

/** tanh over every element (BERT's pooler); backward from the output, as torch's tanh_backward. */
export class Tanh implements Layer {
  #x!: Act; #y!: Act;
  constructor(readonly ps: Params) {}

  plan(a: Planner, _b: Batch, x: Act | null): Act {
    this.#x = x!;
    return (this.#y = out(a, x!.rows, x!.width));
  }

  forward(): void { this.ps.rt.k.tanh_forward(this.#y.y, this.#x.y, this.#x.rows * this.#x.width); }
  backward(): void { this.ps.rt.k.tanh_backward(this.#x.dy, this.#y.y, this.#y.dy, this.#x.rows * this.#x.width); }
}

/** A LayerNorm over every row. */
export class Norm implements Layer {
  #x!: Act; #y!: Act;
  constructor(readonly norm: LayerNorm) {}

  plan(a: Planner, _b: Batch, x: Act | null): Act {
    this.#x = x!;
    return (this.#y = out(a, x!.rows, x!.width));
  }

  forward(): void { this.norm.forward(this.#y.y, this.#x.y, this.#x.rows); }
  backward(): void { this.norm.backward(this.#x.dy, this.#y.dy, this.#x.y, this.#x.rows); }
}

/** A Linear over every row (a classifier head, over pooled rows or over every token). */
export class Dense implements Layer {
  readonly setsInputGrad = true;
  #x!: Act; #y!: Act;
  constructor(readonly linear: Linear) {}

  plan(a: Planner, _b: Batch, x: Act | null): Act {
    this.#x = x!;
    return (this.#y = out(a, x!.rows, this.linear.outF));
  }

  forward(): void { this.linear.forward(this.#y.y, this.#x.y, this.#x.rows); }
  backward(): void { this.linear.backward(this.#x.dy, this.#y.dy, this.#x.y, this.#x.rows, 'set'); }
}

/** Mean over each row's non-padding positions (zeros for a row of padding): [B·T,d] → [B,d]. */
export class MeanPool implements Layer {
  #x!: Act; #y!: Act; #batch!: Batch;
  constructor(readonly ps: Params) {}

  plan(a: Planner, batch: Batch, x: Act | null): Act {
    this.#x = x!; this.#batch = batch;
    return (this.#y = out(a, batch.B, x!.width));
  }

  forward(): void {
    const { B, T, tokens } = this.#batch;
    this.ps.rt.k.mean_pool_forward(this.#y.y, this.#x.y, tokens, B, T, this.#x.width);
  }

  backward(): void {
    const { B, T, tokens } = this.#batch;
    this.ps.rt.k.mean_pool_backward(this.#x.dy, this.#y.dy, tokens, B, T, this.#x.width);
  }
}

/** The first position of each row (BERT's [CLS]): [B·T,d] → [B,d]. */
export class ClsPool implements Layer {
  #x!: Act; #y!: Act; #batch!: Batch;
  constructor(readonly ps: Params) {}

  plan(a: Planner, batch: Batch, x: Act | null): Act {
    this.#x = x!; this.#batch = batch;
    return (this.#y = out(a, batch.B, x!.width));
  }

  forward(): void {
    const { be } = this.ps.rt, { B, T } = this.#batch, d = this.#x.width;
    if (T === 0) { be.zero(this.#y.y, B * d); return; }
    for (let b = 0; b < B; b++) be.copy(be.sub(this.#y.y, b * d, d), be.sub(this.#x.y, b * T * d, d), d);
  }

  backward(): void {
    const { be, k } = this.ps.rt, { B, T } = this.#batch, d = this.#x.width;
    if (T === 0) return;
    for (let b = 0; b < B; b++) {
      const dx = be.sub(this.#x.dy, b * T * d, d);
      k.add_forward(dx, dx, be.sub(this.#y.dy, b * d, d), d);
    }
  }
}

/** Attention pooling with one learned query: s = x·w + b per position, softmax over the row's
 *  non-padding positions, pooled = Σ weight·x. It is one attention query per row (q = w, keys =
 *  values = x, scale 1, key padding mask), so it runs on the attention kernels; `bias` shifts every
 *  score of a row equally, which softmax ignores (no effect, gradient exactly zero). */
export class AttentionPool implements Layer {
  readonly setsInputGrad = true;
  readonly weight: Param;
  readonly bias: Param;
  #x!: Act; #y!: Act; #batch!: Batch;
  #q: Buf = 0; #lse: Buf = 0; #dq: Buf = 0; #dk: Buf = 0; #dv: Buf = 0;
  constructor(readonly ps: Params, name: string, readonly d: number) {
    const lin = { uniform: 1 / Math.sqrt(d) };
    this.weight = ps.add(`${name}.weight`, [1, d], lin);
    this.bias = ps.add(`${name}.bias`, [1], lin);
  }

  plan(a: Planner, batch: Batch, x: Act | null): Act {
    const { B, T } = batch, d = this.d;
    this.#x = x!; this.#batch = batch;
    this.#q = a.take(B * d); this.#lse = a.take(B);
    this.#y = out(a, B, d);
    this.#dq = a.scratch(B * d); this.#dk = a.scratch(B * T * d); this.#dv = a.scratch(B * T * d);
    return this.#y;
  }

  forward(): void {
    const { be, k } = this.ps.rt, { B, T, mask } = this.#batch, d = this.d;
    for (let b = 0; b < B; b++) be.copy(be.sub(this.#q, b * d, d), this.weight.w, d);
    k.attention_forward(this.#y.y, this.#lse, this.#q, this.#x.y, this.#x.y, mask, 1, B, 1, 1, T, d, 1, 0, 0, T * d);
  }

  backward(): void {
    const { be, k } = this.ps.rt, { B, T, mask } = this.#batch, d = this.d, N = B * T;
    be.zero(this.#dq, B * d); be.zero(this.#dk, N * d); be.zero(this.#dv, N * d);
    k.attention_backward(this.#dq, this.#dk, this.#dv, this.#q, this.#x.y, this.#x.y, this.#y.y, this.#lse, this.#y.dy, mask, 1, B, 1, 1, T, d, 1, 0, 0, T * d);
    k.bias_backward(this.weight.g, this.#dq, B, d);   // q was the weight repeated: sum over the batch
    k.add_forward(this.#x.dy, this.#dk, this.#dv, N * d); // x was both keys and values
  }

  /** The pooling weights [B,T] of the last forward, into p. */
  probs(p: Buf): void {
    const { B, T, mask } = this.#batch;
    this.ps.rt.k.attention_probs(p, this.#q, this.#x.y, mask, 1, B, 1, 1, T, this.d, 1, 0, 0, T * this.d);
  }
}
