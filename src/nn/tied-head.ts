// GPT's LM head tied to the token embedding, as a chain layer. Its own module, not chain.ts: only
// heed's decoder family uses it, and what heed/infer imports must not grow.
import type { Act, Batch, Layer, Params, Planner } from './layer.js';
import type { Embedding } from './primitives.js';

/** A Linear without bias whose weight is an embedding table E [V,d]: logits = x·Eᵀ over every row;
 *  its weight gradient adds into the embedding's (which the embedding's lookup adds to as well). */
export class TiedHead implements Layer {
  readonly setsInputGrad = true;
  #x!: Act; #y!: Act;
  constructor(readonly ps: Params, readonly table: Embedding) {}

  plan(a: Planner, _b: Batch, x: Act | null): Act {
    this.#x = x!;
    const rows = x!.rows, V = this.table.rows;
    return (this.#y = { y: a.take(rows * V), dy: a.take(rows * V), rows, width: V });
  }

  forward(): void {
    const E = this.table, N = this.#x.rows;
    this.ps.rt.k.matmul_forward(this.#y.y, this.#x.y, E.weight.w, 1, N, E.rows, E.C, 0, 1, 0, 0);
  }

  /** dx = dy·E (written), dE += dyᵀ·x. */
  backward(): void {
    const { k } = this.ps.rt, E = this.table, N = this.#x.rows;
    k.matmul_forward(this.#x.dy, this.#y.dy, E.weight.w, 1, N, E.C, E.rows, 0, 0, 0, 0);
    k.matmul_forward(E.weight.g, this.#y.dy, this.#x.y, 1, E.rows, E.C, N, 1, 0, 0, 1);
  }
}
