import type { Kernels } from './kernels.js';

/** The most elements one buffer may hold, and the bound on every dimension and every product of
 *  dimensions heed plans with: kernels take counts and offsets as i32, and the js side indexes
 *  Int32 views. Sizes are checked against it before anything is planned or allocated, so no size
 *  ever wraps around (in an i32 argument, a bitwise rounding or 32-bit linear memory). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Whether n is a size heed can plan with: a safe integer in [0, MAX_ELEMENTS]. */
export const isPlannable = (n: number): boolean => Number.isSafeInteger(n) && n >= 0 && n <= MAX_ELEMENTS;

export type BackendName = 'wasm-relaxed' | 'wasm' | 'wasm-scalar' | 'js';
/** A float buffer: a byte pointer into linear memory (wasm) or a Float32Array (js). */
export type Buf = number | Float32Array;
/** An int32 buffer: a byte pointer (wasm) or an Int32Array (js). */
export type IBuf = number | Int32Array;

/** What an op needs from a backend: storage and a kernel table. Ops never know which one runs. */
export interface Backend {
  readonly name: BackendName;
  // Typed over both storages: a buffer from this backend is what each call passes (method
  // parameters are bivariant, so wasm's Kernels<number, number> and js's typed-array table both
  // fit); each backend checks its own table against Kernels<its F, its I> where it is built.
  readonly k: Kernels<Buf, IBuf>;
  /** n float32 elements, zero-filled. */
  alloc(n: number): Buf;
  allocInt(n: number): IBuf;
  free(buf: Buf | IBuf): void;
  write(buf: Buf, data: ArrayLike<number>, offset?: number): void;
  writeInt(buf: IBuf, data: ArrayLike<number>): void;
  /** A copy of n elements starting at element `offset`. */
  read(buf: Buf, n: number, offset?: number): Float32Array;
  /** Copies dst.length elements starting at element `offset` into dst (no allocation). */
  readInto(buf: Buf, dst: Float32Array, offset?: number): void;
  zero(buf: Buf, n: number): void;
  /** Copies n float32 elements. */
  copy(dst: Buf, src: Buf, n: number): void;
  /** A view of n floats at element `offset` of buf, sharing its storage (a pointer for wasm). */
  sub(buf: Buf, offset: number, n: number): Buf;
  /** An int32 view of n elements at element `offset` of a float buffer, sharing its storage. */
  subInt(buf: Buf, offset: number, n: number): IBuf;
  /** Bytes of the backend's storage (linear memory size for wasm). */
  reservedBytes(): number;
}
