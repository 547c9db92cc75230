import { HeedError, fmtShape } from './errors.js';
import type { Backend, Buf } from './backends/backend.js';

let nextId = 1;

/** A float32 tensor owned by one context. Its storage lives in that context's backend (linear
 *  memory for wasm). Read it with toArray(), which copies; free it with dispose(). */
export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  /** @internal identity of the owning context. */
  readonly owner: object;
  /** @internal */
  readonly id = nextId++;
  #buf: Buf | null;
  readonly #backend: Backend;
  readonly #onDispose: (t: Tensor) => void;

  /** @internal use heed.tensor / heed.zeros. */
  constructor(owner: object, backend: Backend, buf: Buf, shape: readonly number[], onDispose: (t: Tensor) => void) {
    this.owner = owner;
    this.#backend = backend;
    this.#buf = buf;
    this.shape = shape;
    this.size = shape.reduce((a, d) => a * d, 1);
    this.#onDispose = onDispose;
    // Ops trust shape and size to describe the storage: neither may be reassigned (in JS,
    // `readonly` alone would not stop `t.shape = [1 << 20]` from sending a kernel past the buffer).
    Object.freeze(this);
  }

  /** @internal the storage: a byte pointer (wasm) or a Float32Array (js). Throws after dispose. */
  get buf(): Buf {
    if (this.#buf === null) throw new HeedError(`tensor of shape ${fmtShape(this.shape)} was used after dispose()`);
    return this.#buf;
  }

  get disposed(): boolean {
    return this.#buf === null;
  }

  /** A copy of the values, row-major. */
  toArray(): Float32Array {
    return this.#backend.read(this.buf, this.size);
  }

  /** Frees the storage for reuse. Using the tensor afterwards throws; a second dispose() is a no-op. */
  dispose(): void {
    if (this.#buf === null) return;
    this.#backend.free(this.#buf);
    this.#buf = null;
    this.#onDispose(this);
  }

  toString(): string {
    return `Tensor${fmtShape(this.shape)}${this.disposed ? ' (disposed)' : ''}`;
  }
}
