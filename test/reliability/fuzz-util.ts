// Shared helpers of the reliability tests: a seeded generator with the few draws the fuzzers need,
// a JSON writer that can express what JSON.stringify cannot (duplicate keys, raw number text), and
// the environment knobs for longer runs.
import { Rng } from '../../src/nn/rng.js';

/** HEED_FUZZ_CASES overrides the number of cases of every fuzz test (CI runs the default). */
export const fuzzCases = (dflt: number): number => {
  const v = Number(process.env.HEED_FUZZ_CASES);
  return Number.isInteger(v) && v > 0 ? v : dflt;
};
/** HEED_FUZZ_SEED changes the base seed; case i of a run uses seed base + i. */
export const FUZZ_SEED = Number.isInteger(Number(process.env.HEED_FUZZ_SEED)) && process.env.HEED_FUZZ_SEED
  ? Number(process.env.HEED_FUZZ_SEED) : 7_000_001;
/** HEED_FUZZ_CASE runs only that case (to reproduce a failure). */
export const ONLY_CASE = process.env.HEED_FUZZ_CASE === undefined ? undefined : Number(process.env.HEED_FUZZ_CASE);

export class Gen {
  readonly rng: Rng;
  constructor(seed: number) { this.rng = new Rng(seed); }
  /** Integer in [0, n). */
  int(n: number): number { return this.rng.int(n); }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number { return lo + this.rng.int(hi - lo + 1); }
  pick<T>(a: readonly T[]): T { return a[this.rng.int(a.length)]; }
  chance(p: number): boolean { return this.rng.uniform() < p; }
  bytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.rng.int(256);
    return b;
  }
}

/** A JSON value that may hold duplicate keys (Obj keeps pairs) and verbatim text (Raw). */
export class Raw { constructor(readonly text: string) {} }
export class Obj { constructor(public pairs: [string, Val][]) {} }
export type Val = null | boolean | number | string | Raw | Obj | Val[];

/** A parsed JSON value as Val (objects become Obj, keeping key order). */
export function toVal(v: unknown): Val {
  if (Array.isArray(v)) return v.map(toVal);
  if (v !== null && typeof v === 'object') return new Obj(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toVal(x)]));
  return v as Val;
}

export function ser(v: Val): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Obj) return `{${v.pairs.map(([k, x]) => `${JSON.stringify(k)}:${ser(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(ser).join(',')}]`;
  return JSON.stringify(v);
}

export const get = (o: Obj, key: string): Val | undefined => o.pairs.find(([k]) => k === key)?.[1];
export function set(o: Obj, key: string, v: Val): void {
  const p = o.pairs.find(([k]) => k === key);
  if (p) p[1] = v; else o.pairs.push([key, v]);
}

export const concatBytes = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

/** Bitwise equality of two float arrays (NaN payloads and -0 included). */
export const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
