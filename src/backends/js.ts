import type { Backend, Buf, IBuf } from './backend.js';
import type { Kernels } from './kernels.js';
import * as ref from '../ref/index.js';

const kernels: Kernels<Float32Array, Int32Array> = ref;

/** The plain TypeScript reference backend: every kernel over Float32Array (src/ref/). */
export function jsBackend(): Backend {
  let bytes = 0;
  return {
    name: 'js',
    k: kernels,
    // Count only what was allocated: a RangeError for an impossible length leaves the count alone.
    alloc: (n) => { const b = new Float32Array(n); bytes += n * 4; return b; },
    allocInt: (n) => { const b = new Int32Array(n); bytes += n * 4; return b; },
    free: (buf) => { bytes -= (buf as Float32Array | Int32Array).length * 4; },
    write: (buf, data, offset = 0) => (buf as Float32Array).set(data, offset),
    writeInt: (buf, data) => (buf as Int32Array).set(data),
    read: (buf, n, offset = 0) => (buf as Float32Array).slice(offset, offset + n),
    readInto: (buf, dst, offset = 0) => dst.set((buf as Float32Array).subarray(offset, offset + dst.length)),
    zero: (buf, n) => (buf as Float32Array).fill(0, 0, n),
    copy: (dst, src, n) => (dst as Float32Array).set((src as Float32Array).subarray(0, n)),
    sub: (buf, offset, n) => (buf as Float32Array).subarray(offset, offset + n),
    subInt: (buf, offset, n) => {
      const f = buf as Float32Array;
      return new Int32Array(f.buffer, f.byteOffset + offset * 4, n);
    },
    reservedBytes: () => bytes,
  } satisfies Backend & { alloc(n: number): Buf; allocInt(n: number): IBuf };
}
