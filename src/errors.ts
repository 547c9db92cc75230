import { MAX_ELEMENTS, isPlannable } from './backends/backend.js';

/** Every error heed raises for a caller's mistake or a failed operation. */
export class HeedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HeedError';
  }
}

export const fmtShape = (s: readonly number[]): string => `[${s.join(',')}]`;

/** Throws unless `shape` equals `want` exactly; the message names the argument and both shapes. */
export function checkShape(name: string, shape: readonly number[], want: readonly number[]): void {
  if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
    throw new HeedError(`${name}: expected shape ${fmtShape(want)}, got ${fmtShape(shape)}`);
  }
}

/** Throws unless `shape` has one of the ranks in `ranks`; returns the shape. */
export function checkRank(name: string, shape: readonly number[], ...ranks: number[]): readonly number[] {
  if (!ranks.includes(shape.length)) {
    const want = ranks.map((r) => `${r}`).join(' or ');
    throw new HeedError(`${name}: expected a rank-${want} tensor, got shape ${fmtShape(shape)}`);
  }
  return shape;
}

/** Splits a shape [..., C] into rows N = product of the leading dims and C. */
export function lastAxis(name: string, shape: readonly number[]): [N: number, C: number] {
  if (shape.length === 0) throw new HeedError(`${name}: expected at least one axis, got shape ${fmtShape(shape)}`);
  const C = shape[shape.length - 1];
  return [C === 0 ? 0 : shape.reduce((a, d) => a * d, 1) / C, C];
}

/** Validates a shape given by a caller: non-negative integer dimensions. Returns a frozen copy. */
export function validShape(name: string, shape: unknown): readonly number[] {
  if (!Array.isArray(shape)) throw new HeedError(`${name}: shape must be an array of dimensions, got ${String(shape)}`);
  // Read once: what is checked is what is returned, whatever the array does on a second read.
  const rank: number = shape.length, dims: number[] = [];
  for (let i = 0; i < rank; i++) {
    const d: unknown = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new HeedError(`${name}: shape ${fmtShape(shape as number[])} has an invalid dimension ${String(d)} (dimensions are non-negative integers)`);
    }
    // Even a dimension of an empty tensor reaches the kernels as an i32.
    if (d > MAX_ELEMENTS) throw new HeedError(`${name}: shape ${fmtShape(shape as number[])} has a dimension ${d} over ${MAX_ELEMENTS}`);
    dims.push(d);
  }
  const size = dims.reduce((a, d) => a * d, 1);
  if (!isPlannable(size)) {
    throw new HeedError(`${name}: shape ${fmtShape(dims)} has too many elements (${size})`);
  }
  return Object.freeze(dims);
}

export function checkFinitePositive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new HeedError(`${name} must be a positive finite number, got ${String(v)}`);
  }
  return v;
}

/** Throws unless v is a positive integer; the message names the owner and the option. */
export function checkPositiveInt(owner: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new HeedError(`${owner}: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}
