// The checks every backend makes on a byte-level request, with one wording. Callers with a user
// in front of them (a tensor's shape, a model's size) bound sizes first with a message naming that;
// these are the last line, so that no size is rounded, wrapped or misaligned on its way down.
import { HeedError } from '../errors.js';
import { DTYPE_BYTES, MAX_BUFFER_BYTES, type DType } from './backend.js';

export function checkDType(what: string, dtype: DType): void {
  if (!Object.hasOwn(DTYPE_BYTES, dtype)) {
    throw new HeedError(`${what}: unknown dtype '${String(dtype)}' (expected one of ${Object.keys(DTYPE_BYTES).join(', ')})`);
  }
}

/** Throws unless `bytes` is a whole number of `dtype` elements within MAX_BUFFER_BYTES. */
export function checkBytes(what: string, bytes: number, dtype: DType): void {
  checkDType(what, dtype);
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0) {
    throw new HeedError(`${what}: ${String(bytes)} bytes is not a size (a whole number of bytes, at least 0)`);
  }
  if (bytes > MAX_BUFFER_BYTES) {
    throw new HeedError(`out of memory: ${bytes} bytes asked for, more than 32-bit WebAssembly memory can hold (4 GiB; ` +
      `one buffer is at most ${MAX_BUFFER_BYTES} bytes on every backend); nothing was allocated`);
  }
  if (bytes % DTYPE_BYTES[dtype] !== 0) {
    throw new HeedError(`${what}: ${String(bytes)} bytes is not a whole number of ${dtype} elements (${DTYPE_BYTES[dtype]} bytes each)`);
  }
}

/** Throws unless byte address `at` is on `dtype`'s alignment (reading a buffer as another dtype). */
export function checkAligned(what: string, at: number, dtype: DType): void {
  if (at % DTYPE_BYTES[dtype] !== 0) throw new HeedError(`${what}: byte ${String(at)} is not on a ${dtype} element boundary (${DTYPE_BYTES[dtype]} bytes)`);
}

/** Throws unless a view of `bytes` bytes at `byteOffset` is whole `dtype` elements on their own
 *  alignment, inside a parent of `parentBytes` bytes (when known: wasm pointers carry no length). */
export function checkView(byteOffset: number, bytes: number, dtype: DType, parentBytes?: number): void {
  checkBytes('view', bytes, dtype);
  if (!Number.isSafeInteger(byteOffset) || byteOffset < 0 || byteOffset % DTYPE_BYTES[dtype] !== 0) {
    throw new HeedError(`view: byte offset ${String(byteOffset)} is not a multiple of ${DTYPE_BYTES[dtype]} (the size of ${dtype})`);
  }
  if (parentBytes !== undefined && byteOffset + bytes > parentBytes) {
    throw new HeedError(`view: bytes [${String(byteOffset)}, ${String(byteOffset + bytes)}) run past the end of a buffer of ${String(parentBytes)} bytes`);
  }
}
