import { DTYPE_ARRAY, DTYPE_BYTES, elementShorthands, type AnyBuf, type Backend, type DType, type DTypeArrays } from './backend.js';
import { checkAligned, checkBytes, checkView } from './bytes.js';
import type { Kernels } from './kernels.js';
import * as ref from '../ref/index.js';

const kernels: Kernels<Float32Array, Int32Array> = ref;

type Arr = DTypeArrays[DType];

/** buf seen as dtype elements: itself when it is that dtype's array already, else a view of its
 *  bytes (as a wasm pointer is read as whatever dtype the caller names). */
function as<D extends DType>(buf: AnyBuf, dtype: D): DTypeArrays[D] {
  const a = buf as Arr, Ctor = DTYPE_ARRAY[dtype];
  if (a instanceof Ctor) return a as DTypeArrays[D];
  checkAligned(`a ${dtype} view`, a.byteOffset, dtype);
  return new Ctor(a.buffer as ArrayBuffer, a.byteOffset, Math.floor(a.byteLength / DTYPE_BYTES[dtype]));
}

/** The plain TypeScript reference backend: every kernel over typed arrays (src/ref/). Each
 *  allocation is one ArrayBuffer, seen through the typed array of its dtype; a view is another
 *  typed array over the same ArrayBuffer. */
export function jsBackend(): Backend {
  let bytes = 0;
  const byteLevel = {
    allocBytes: <D extends DType>(n: number, dtype: D): DTypeArrays[D] => {
      checkBytes('allocBytes', n, dtype);
      const b = new DTYPE_ARRAY[dtype](new ArrayBuffer(n)) as DTypeArrays[D];
      // Count only what was allocated: a RangeError for an impossible length leaves the count alone.
      bytes += n;
      return b;
    },
    view: <D extends DType>(buf: AnyBuf, byteOffset: number, n: number, dtype: D): DTypeArrays[D] => {
      const a = buf as Arr;
      checkView(byteOffset, n, dtype, a.byteLength);
      return new DTYPE_ARRAY[dtype](a.buffer as ArrayBuffer, a.byteOffset + byteOffset, n / DTYPE_BYTES[dtype]) as DTypeArrays[D];
    },
    writeAs: <D extends DType>(buf: AnyBuf, dtype: D, data: ArrayLike<number>, offset = 0) => as(buf, dtype).set(data, offset),
    readAs: <D extends DType>(buf: AnyBuf, dtype: D, n: number, offset = 0) => as(buf, dtype).slice(offset, offset + n) as DTypeArrays[D],
    zeroBytes: (buf: AnyBuf, n: number) => { const a = buf as Arr; new Uint8Array(a.buffer, a.byteOffset, n).fill(0); },
    copyBytes: (dst: AnyBuf, src: AnyBuf, n: number) => {
      const d = dst as Arr, s = src as Arr;
      new Uint8Array(d.buffer, d.byteOffset, n).set(new Uint8Array(s.buffer, s.byteOffset, n));
    },
  };
  return {
    name: 'js',
    k: kernels,
    ...byteLevel,
    ...elementShorthands(byteLevel),
    // An allocation is its own ArrayBuffer: its size is that buffer's, whichever view is freed.
    free: (buf) => { bytes -= (buf as Arr).buffer.byteLength; },
    // The f32 paths the models run every step stay direct typed-array calls.
    read: (buf, n, offset = 0) => (buf as Float32Array).slice(offset, offset + n),
    readInto: (buf, dst, offset = 0) => dst.set((buf as Float32Array).subarray(offset, offset + dst.length)),
    zero: (buf, n) => (buf as Float32Array).fill(0, 0, n),
    copy: (dst, src, n) => (dst as Float32Array).set((src as Float32Array).subarray(0, n)),
    sub: (buf, offset, n) => (buf as Float32Array).subarray(offset, offset + n),
    reservedBytes: () => bytes,
  } satisfies Backend;
}
