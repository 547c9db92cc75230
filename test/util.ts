// Shared test helpers: a seeded normal generator, closeness with explicit tolerances, and
// central finite differences for gradient checks.
import { expect } from 'vitest';

/** Mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n standard-normal float32 values from `seed` (Box–Muller), times `scale`. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const u = rng(seed), out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - u())), th = 2 * Math.PI * u();
    out[i] = r * Math.cos(th) * scale;
  }
  return out;
}

/** Integers in [lo, hi) from `seed`. */
export function randint(n: number, lo: number, hi: number, seed: number): Int32Array {
  const u = rng(seed), out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + Math.floor(u() * (hi - lo));
  return out;
}

/** Asserts |got − want| ≤ atol + rtol·|want| elementwise (NaN never passes), reporting the worst index. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol = 1e-5, rtol = 1e-4): void {
  expect(got.length, 'length').toBe(want.length);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (g === w) continue; // covers equal infinities
    const excess = Math.abs(g - w) - (atol + rtol * Math.abs(w));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) { worst = i; worstExcess = excess; }
  }
  if (worst >= 0) {
    expect.fail(`element ${worst} of ${want.length}: got ${got[worst]}, want ${want[worst]} (atol ${atol}, rtol ${rtol})`);
  }
}

/** Central differences of the scalar f at x: one gradient entry per element of x (f64 math). */
export function numericGrad(f: (x: Float32Array) => number, x: Float32Array, h = 1e-2): Float32Array {
  const g = new Float32Array(x.length), xp = Float32Array.from(x);
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    xp[i] = x0 + h; const fp = f(xp);
    xp[i] = x0 - h; const fm = f(xp);
    xp[i] = x0;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

/** Σ a[i]·b[i] in f64. */
export function dotf(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** The sizes that hit every SIMD tail: below, at, between and past multiples of 4 and 8. */
export const TAIL_DIMS = [1, 3, 4, 5, 7, 8, 13, 17, 33, 64] as const;
