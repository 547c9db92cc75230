// The shared block of a data-parallel trainer: an Int32 control block, then `threads` regions of
// n floats. Region 0 holds the weights the coordinator publishes before each step; region i ≥ 1
// holds helper i's gradient for that step. The control block carries sequence numbers written
// with Atomics.store after the data and checked with Atomics.load before reading it: that pairing
// is what orders the plain writes before the reads in JavaScript's memory model, whatever the
// message channel does.

/** Largest thread count: one control slot per thread. */
export const MAX_THREADS = 16;
const CONTROL_BYTES = MAX_THREADS * 4;

export interface SharedBlock { buffer: SharedArrayBuffer; control: Int32Array; regions: Float32Array[] }

export function allocateShared(threads: number, n: number): SharedBlock {
  const buffer = new SharedArrayBuffer(CONTROL_BYTES + threads * n * 4);
  return viewShared(buffer, threads, n);
}

export function viewShared(buffer: SharedArrayBuffer, threads: number, n: number): SharedBlock {
  const control = new Int32Array(buffer, 0, MAX_THREADS);
  const regions = Array.from({ length: threads }, (_, i) => new Float32Array(buffer, CONTROL_BYTES + i * n * 4, n));
  return { buffer, control, regions };
}
