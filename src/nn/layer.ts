// What every layer is made of: parameters registered by PyTorch name, an activation plan taken
// from one arena per batch shape, and a forward and a backward pass over explicit buffers (llm.c's
// discipline, no autograd). Backward passes ACCUMULATE (+=) into parameter gradients and into the
// gradient of their input, as the kernels do; whoever owns a gradient buffer zeroes it first.
//
// Two levels: primitives (Linear, LayerNorm, … in primitives.ts) are functions over buffers the
// caller names, so a block can fuse a residual add into a matmul; chain layers (this file's Layer)
// own their output and its gradient, so a Sequential can wire them without knowing what they are.
import { DTYPE_BYTES, type Backend, type Buf, type BufOf, type DType, type IBuf } from '../backends/backend.js';
import type { Kernels } from '../backends/kernels.js';
import { alignBytes, ParamLayout, type Init } from './block.js';

/** What the passes run on: the backend's storage and its kernel table. */
export interface Runtime { readonly be: Backend; readonly k: Kernels<Buf, IBuf> }

/** One named parameter. Its views (value and gradient) are resolved once, when the model binds
 *  its parameter block, never by name per call. */
export class Param {
  /** @internal */ w: Buf = 0;
  /** @internal */ g: Buf = 0;
  readonly size: number;
  constructor(readonly name: string, readonly shape: readonly number[], readonly init: Init) {
    this.size = shape.reduce((a, d) => a * d, 1);
  }
}

/** Parameters in registration order (PyTorch's state_dict order), and the runtime of the model
 *  the layers belong to. Layers register theirs as they are constructed, so a model's layout is
 *  the order its constructor builds its layers in, not the order they run in. */
export class Params {
  readonly list: Param[] = [];
  #names = new Set<string>();
  constructor(readonly rt: Runtime) {}

  add(name: string, shape: readonly number[], init: Init): Param {
    if (this.#names.has(name)) throw new Error(`internal: parameter ${name} registered twice`);
    this.#names.add(name);
    const p = new Param(name, shape, init);
    this.list.push(p);
    return p;
  }

  layout(): ParamLayout {
    return new ParamLayout(this.list.map((p) => ({ name: p.name, shape: [...p.shape], init: p.init })));
  }

  /** Points every parameter at its slice of the parameter and gradient blocks (layout order). */
  bind(params: Buf, grads: Buf): void {
    let offset = 0;
    for (const p of this.list) {
      p.w = this.rt.be.sub(params, offset, p.size);
      p.g = this.rt.be.sub(grads, offset, p.size);
      offset += p.size;
    }
  }
}

/** A runtime for models that are only laid out (layoutFor), never run. */
export const NO_RUNTIME: Runtime = new Proxy({} as Runtime, {
  get: () => { throw new Error('internal: a layout-only model was run'); },
});

/**
 * Sub-allocation of one arena for one batch shape. The same plan code runs twice: first on a
 * sizing planner (no storage: it only counts), then on the arena it sized. `take` is storage
 * that lives as long as the plan (saved activations, outputs, their gradients); `scratch` is
 * storage a layer uses only inside one call of its forward or backward, so every chain layer's
 * scratch starts at the same place (what the old transformer did by hand with one set of
 * backward buffers for all its layers).
 */
export class Planner {
  // Counted in bytes: every slice starts 16-byte aligned (f32x4 loads), whatever its dtype, so a
  // slice of 5 i8 takes 16 bytes.
  #used = 0;
  #scratch = 0;
  #scratchMax = 0;
  /** buf null: a sizing pass. scratchBase: where scratch starts, in floats (the sizing pass's
   *  `persistent`); capacity: the floats buf holds (the sizing pass's `total`). */
  constructor(readonly rt: Runtime, readonly buf: Buf | null, readonly scratchBase = 0, readonly capacity = Infinity) {}

  /** n float32 elements, kept for the plan's lifetime. */
  take(n: number): Buf { return this.takeOf(n, 'f32'); }

  /** n int32 elements, kept. */
  takeInt(n: number): IBuf { return this.takeOf(n, 'i32'); }

  /** n elements of `dtype`, kept. */
  takeOf<D extends DType>(n: number, dtype: D): BufOf<D> {
    const at = this.#used, bytes = n * DTYPE_BYTES[dtype];
    this.#used += alignBytes(bytes);
    return this.#view(at, bytes, dtype);
  }

  /** n float32 elements needed only within one chain layer's forward or backward call. */
  scratch(n: number): Buf {
    const at = this.scratchBase * 4 + this.#scratch;
    this.#scratch += alignBytes(n * 4);
    this.#scratchMax = Math.max(this.#scratchMax, this.#scratch);
    return this.#view(at, n * 4, 'f32');
  }

  /** Ends one chain layer's scratch: the next layer's starts over it. */
  endScratch(): void {
    this.#scratch = 0;
  }

  /** Floats the kept part of the plan takes (slices are whole multiples of 16 bytes). */
  get persistent(): number { return this.#used / 4; }
  /** Floats the whole plan takes: its persistent part, then the largest scratch. */
  get total(): number { return (this.#used + this.#scratchMax) / 4; }

  #view<D extends DType>(at: number, bytes: number, dtype: D): BufOf<D> {
    if (this.buf === null) return 0 as BufOf<D>;
    // The pass that sized the arena is the pass that fills it, so running past the end is a bug in
    // a plan (a size that depends on something the sizing pass did not see), never a user error.
    const end = at + alignBytes(bytes);
    if (end > this.capacity * 4) throw new Error(`internal: arena of ${this.capacity * 4} bytes overrun (${end} needed)`);
    return this.rt.be.view(this.buf, at, bytes, dtype);
  }
}

/** An activation in the arena, `rows` × `width` floats, and its gradient (same shape). */
export interface Act { y: Buf; dy: Buf; rows: number; width: number }

/** The inputs every layer of a plan may read: token ids [B,T], their padding mask, and the
 *  token type (segment) ids [B,T] of families that take them (BERT's; zeros when not given). */
export interface Batch { B: number; T: number; tokens: IBuf; mask: Buf; types?: IBuf }

/** A chain layer: plans its output (and what it saves) for a batch, given its input; runs
 *  forward from its input to its output; runs backward from its output's gradient, accumulating
 *  into its input's gradient (when `x.dy` is not null) and into its parameters' gradients. */
export interface Layer {
  plan(a: Planner, batch: Batch, x: Act | null): Act;
  forward(): void;
  backward(): void;
  /** backward writes (=) every element of its input's gradient rather than adding to it, so the
   *  container need not zero it first: a pass over [B·T, d] saved per layer, which is what a
   *  small model's step is made of. */
  readonly setsInputGrad?: boolean;
}

/** Layers run in order; backward runs in reverse, each input's gradient zeroed just before the
 *  layer that accumulates into it (unless that layer sets it). */
export class Sequential implements Layer {
  #outs: Act[] = [];
  #rt: Runtime | null = null;
  constructor(readonly layers: readonly Layer[]) {}

  get setsInputGrad(): boolean {
    return this.layers[0]?.setsInputGrad === true;
  }

  plan(a: Planner, batch: Batch, x: Act | null): Act {
    this.#rt = a.rt;
    this.#outs = [];
    let cur = x;
    for (const l of this.layers) {
      cur = l.plan(a, batch, cur);
      a.endScratch();
      this.#outs.push(cur);
    }
    return cur!;
  }

  forward(): void {
    for (const l of this.layers) l.forward();
  }

  /** The output of layer i in the current plan. */
  outputOf(i: number): Act {
    return this.#outs[i];
  }

  backward(): void {
    const be = this.#rt!.be;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      if (i > 0 && !this.layers[i].setsInputGrad) { const x = this.#outs[i - 1]; be.zero(x.dy, x.rows * x.width); }
      this.layers[i].backward();
    }
  }
}
