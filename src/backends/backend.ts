import type { Kernels } from './kernels.js';

/** The most elements one buffer may hold, and the bound on every dimension and every product of
 *  dimensions heed plans with: kernels take counts and offsets as i32, and the js side indexes
 *  Int32 views. Sizes are checked against it before anything is planned or allocated, so no size
 *  ever wraps around (in an i32 argument, a bitwise rounding or 32-bit linear memory). */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** The most bytes one buffer may hold, on every backend: what one allocation in 32-bit WebAssembly
 *  memory (4 GiB, less the 64 KiB page the allocator's own data starts in) can ever be. The js
 *  backend keeps the same bound so that whatever fits on one backend is refused or accepted the
 *  same way on all of them. A buffer is bounded by both this and MAX_ELEMENTS of its dtype. */
export const MAX_BUFFER_BYTES = 2 ** 32 - 2 ** 16;

/** Every buffer starts on this many bytes (one v128), and an arena rounds every slice up to it. */
export const ALIGN_BYTES = 16;

/** Whether n is a size heed can plan with: a safe integer in [0, MAX_ELEMENTS]. */
export const isPlannable = (n: number): boolean => Number.isSafeInteger(n) && n >= 0 && n <= MAX_ELEMENTS;

/** The element types storage can hold. Only f32 and i32 have kernels today; the 8- and 16-bit ones
 *  are storage for quantized weights and activations (f16 is held as its raw bits). */
export interface DTypeArrays {
  f32: Float32Array;
  i32: Int32Array;
  i16: Int16Array;
  f16: Uint16Array;
  i8: Int8Array;
  u8: Uint8Array;
}
export type DType = keyof DTypeArrays;

export const DTYPE_BYTES: Readonly<Record<DType, number>> = Object.freeze({ f32: 4, i32: 4, i16: 2, f16: 2, i8: 1, u8: 1 });

export const DTYPE_ARRAY: Readonly<{ [D in DType]: { new(buffer: ArrayBuffer, byteOffset?: number, length?: number): DTypeArrays[D]; new(length: number): DTypeArrays[D] } }> =
  Object.freeze({ f32: Float32Array, i32: Int32Array, i16: Int16Array, f16: Uint16Array, i8: Int8Array, u8: Uint8Array });

export const DTYPES = Object.freeze(Object.keys(DTYPE_BYTES) as DType[]);

/** A buffer of `D` elements: a byte pointer into linear memory (wasm) or a typed array (js). */
export type BufOf<D extends DType> = number | DTypeArrays[D];
/** A float buffer: a byte pointer into linear memory (wasm) or a Float32Array (js). */
export type Buf = BufOf<'f32'>;
/** An int32 buffer: a byte pointer (wasm) or an Int32Array (js). */
export type IBuf = BufOf<'i32'>;
/** A buffer of any dtype. */
export type AnyBuf = BufOf<DType>;

/** What an op needs from a backend: storage and a kernel table. Ops never know which one runs.
 *  Storage is counted in bytes and typed by a dtype; the float/int methods are shorthands for f32
 *  and i32 with counts in elements. */
export interface Backend {
  readonly name: BackendName;
  // Typed over both storages: a buffer from this backend is what each call passes (method
  // parameters are bivariant, so wasm's Kernels<number, number> and js's typed-array table both
  // fit); each backend checks its own table against Kernels<its F, its I> where it is built.
  readonly k: Kernels<Buf, IBuf>;
  /** `bytes` zero-filled bytes holding `dtype` elements, starting on an ALIGN_BYTES boundary.
   *  `bytes` must be a multiple of the dtype's size; callers bound it (see MAX_BUFFER_BYTES). */
  allocBytes<D extends DType>(bytes: number, dtype: D): BufOf<D>;
  /** A view of `bytes` bytes at byte `byteOffset` of buf, as `dtype` elements, sharing its storage
   *  (a pointer for wasm). byteOffset must be a multiple of the dtype's size. */
  view<D extends DType>(buf: AnyBuf, byteOffset: number, bytes: number, dtype: D): BufOf<D>;
  /** Writes data into buf's bytes as `dtype` elements (whatever dtype buf was made as), starting
   *  at element `offset`. */
  writeAs<D extends DType>(buf: AnyBuf, dtype: D, data: ArrayLike<number>, offset?: number): void;
  /** A copy of n `dtype` elements of buf's bytes, starting at element `offset`. */
  readAs<D extends DType>(buf: AnyBuf, dtype: D, n: number, offset?: number): DTypeArrays[D];
  /** Frees what allocBytes (or a shorthand) returned; views are not freed. */
  free(buf: AnyBuf): void;
  /** Sets `bytes` bytes of buf to zero. */
  zeroBytes(buf: AnyBuf, bytes: number): void;
  /** Copies `bytes` bytes (the buffers may be of different dtypes). */
  copyBytes(dst: AnyBuf, src: AnyBuf, bytes: number): void;

  /** n float32 elements, zero-filled. */
  alloc(n: number): Buf;
  allocInt(n: number): IBuf;
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
  /** Bytes of the backend's storage (linear memory size for wasm; the bytes of every live
   *  allocation for js). */
  reservedBytes(): number;
}

export type BackendName = 'wasm-relaxed' | 'wasm' | 'wasm-scalar' | 'js';

/** The f32/i32 shorthands of Backend, written once over its byte-level methods. A backend spreads
 *  these in and may override the hot ones (read, write, sub) with direct code. */
export function elementShorthands(be: Pick<Backend, 'allocBytes' | 'view' | 'writeAs' | 'readAs' | 'zeroBytes' | 'copyBytes'>) {
  return {
    alloc: (n: number): Buf => be.allocBytes(n * 4, 'f32'),
    allocInt: (n: number): IBuf => be.allocBytes(n * 4, 'i32'),
    write: (buf: Buf, data: ArrayLike<number>, offset = 0) => be.writeAs(buf, 'f32', data, offset),
    writeInt: (buf: IBuf, data: ArrayLike<number>) => be.writeAs(buf, 'i32', data, 0),
    read: (buf: Buf, n: number, offset = 0) => be.readAs(buf, 'f32', n, offset),
    zero: (buf: Buf, n: number) => be.zeroBytes(buf, n * 4),
    copy: (dst: Buf, src: Buf, n: number) => be.copyBytes(dst, src, n * 4),
    sub: (buf: Buf, offset: number, n: number): Buf => be.view(buf, offset * 4, n * 4, 'f32'),
    subInt: (buf: Buf, offset: number, n: number): IBuf => be.view(buf, offset * 4, n * 4, 'i32'),
  };
}
