// One allocation for many named tensors (llm.c's parameter block): parameters, gradients and
// AdamW state share one layout, so zeroing, clipping and the optimizer are one kernel call each,
// and stateDict / safetensors are views at offsets.
import { ALIGN_BYTES, DTYPE_BYTES, type Backend, type Buf, type BufOf, type DType, type IBuf } from '../backends/backend.js';
import type { Rng } from './rng.js';

export type Init = { normal: number } | { uniform: number } | { constant: number };

export interface ParamSpec { name: string; shape: number[]; init: Init }

export interface ParamEntry { name: string; shape: readonly number[]; offset: number; size: number; init: Init }

export class ParamLayout {
  readonly entries: readonly ParamEntry[];
  readonly total: number;
  readonly #byName = new Map<string, ParamEntry>();

  constructor(specs: ParamSpec[]) {
    let offset = 0;
    this.entries = specs.map((s) => {
      const size = s.shape.reduce((a, d) => a * d, 1);
      const e = { name: s.name, shape: Object.freeze([...s.shape]), offset, size, init: s.init };
      offset += size;
      this.#byName.set(s.name, e);
      return e;
    });
    this.total = offset;
  }

  get(name: string): ParamEntry {
    const e = this.#byName.get(name);
    if (!e) throw new Error(`internal: no parameter ${name}`);
    return e;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Initial values in layout order, drawn from rng in the same order every time. */
  initialValues(rng: Rng): Float32Array {
    const v = new Float32Array(this.total);
    for (const e of this.entries) {
      const init = e.init;
      for (let i = 0; i < e.size; i++) {
        v[e.offset + i] = 'normal' in init ? rng.normal() * init.normal
          : 'uniform' in init ? (rng.uniform() * 2 - 1) * init.uniform : init.constant;
      }
    }
    return v;
  }
}

/** Sequential sub-allocation of one buffer: the activation arena of one batch shape. Slices are
 *  counted in bytes and typed by a dtype; every slice starts on ALIGN_BYTES (f32x4 loads), so a
 *  slice of 5 i8 takes 16 bytes and the next slice, of any dtype, starts aligned. */
export class Arena {
  #bytes = 0;
  readonly capacityBytes: number;
  /** `capacity` is in float32 elements (what SizingArena.used measured). */
  constructor(readonly be: Backend, readonly buf: Buf, readonly capacity: number) {
    this.capacityBytes = capacity * 4;
  }

  /** n float32 elements. */
  take(n: number): Buf {
    return this.takeBytes(n * 4, 'f32');
  }

  /** n int32 elements. */
  takeInt(n: number): IBuf {
    return this.takeBytes(n * 4, 'i32');
  }

  /** n elements of dtype. */
  takeOf<D extends DType>(n: number, dtype: D): BufOf<D> {
    return this.takeBytes(n * DTYPE_BYTES[dtype], dtype);
  }

  /** `bytes` bytes (a whole number of dtype elements). */
  takeBytes<D extends DType>(bytes: number, dtype: D): BufOf<D> {
    const end = this.#bytes + alignBytes(bytes);
    // The plan that sized the arena is the plan that fills it, so running past the end is a bug
    // in a plan (a size that depends on something SizingArena did not see), never a user error.
    if (end > this.capacityBytes) throw new Error(`internal: arena of ${this.capacityBytes} bytes overrun (${end} needed)`);
    const b = this.be.view(this.buf, this.#bytes, bytes, dtype);
    this.#bytes = end;
    return b;
  }

  /** Float32 elements taken so far (bytes / 4: every slice is a multiple of 16 bytes). */
  get used(): number {
    return this.#bytes / 4;
  }

  get usedBytes(): number {
    return this.#bytes;
  }
}

/** Byte sizes are rounded up to ALIGN_BYTES so that every slice starts 16-byte aligned (f32x4).
 *  Plain arithmetic, not a mask: a bitwise rounding wraps sizes of 2^31 and more to negative ones,
 *  and the plan's bound must see the true size. */
export const alignBytes = (bytes: number): number => Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES;

/** Float counts rounded up to 4 floats: alignBytes in float32 elements. */
export const align = (n: number): number => alignBytes(n * 4) / 4;

/** Counts what a plan takes without allocating: the same plan code runs on it first. */
export class SizingArena {
  #bytes = 0;
  take(n: number): number { return this.takeBytes(n * 4, 'f32'); }
  takeInt(n: number): number { return this.takeBytes(n * 4, 'i32'); }
  takeOf(n: number, dtype: DType): number { return this.takeBytes(n * DTYPE_BYTES[dtype], dtype); }
  takeBytes(bytes: number, _dtype: DType): number { this.#bytes += alignBytes(bytes); return 0; }
  /** Float32 elements the plan needs: what the arena's allocation is sized in. */
  get used(): number { return this.#bytes / 4; }
  get usedBytes(): number { return this.#bytes; }
}
