// One allocation for many named tensors (llm.c's parameter block): parameters, gradients and
// AdamW state share one layout, so zeroing, clipping and the optimizer are one kernel call each,
// and stateDict / safetensors are views at offsets.
import { ALIGN_BYTES } from '../backends/backend.js';
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

/** Byte sizes are rounded up to ALIGN_BYTES so that every slice starts 16-byte aligned (f32x4).
 *  Plain arithmetic, not a mask: a bitwise rounding wraps sizes of 2^31 and more to negative ones,
 *  and the plan's bound must see the true size. */
export const alignBytes = (bytes: number): number => Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES;
