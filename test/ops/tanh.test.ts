import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import * as infer from '../../src/infer.js';
import { dotf, expectClose, numericGrad, randn } from '../util.js';
import { ALL_BACKENDS, WASM_BACKENDS } from './backends.js';

const js = await init({ backend: 'js' });
type H = typeof js;
const hs: Record<string, H> = { js };
for (const b of WASM_BACKENDS) hs[b] = await init({ backend: b });

// The tail sizes (below, between and past multiples of 4 and 8) and one large size that runs the
// two-vector loop many times.
const SIZES = [1, 3, 5, 7, 13, 33, 1031] as const;
const TAILS = SIZES.slice(0, -1);

/** [tanh(x), tanhBackward(y, dy)] as plain arrays; y is the forward's own output unless given
 *  (the parity tests give every backend the same y, so that the backward is compared alone). */
function run(h: H, xs: ArrayLike<number>, dys: ArrayLike<number>, shape: number[], ys?: ArrayLike<number>) {
  const x = h.tensor(xs, shape), dy = h.tensor(dys, shape), y = h.ops.tanh(x);
  const yb = ys ? h.tensor(ys, shape) : y, dx = h.ops.tanhBackward(yb, dy);
  const out = [y.toArray(), dx.toArray()];
  for (const t of new Set([x, dy, y, yb, dx])) t.dispose();
  return out;
}

/** The spacing of f32 in the binade of the exact value v (2^-24 just below 1, not 1's 2^-23): a
 *  distance in these units is an error in ulps. Subnormals share the smallest spacing, 2^-149. */
function ulp(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;            // log2 rounded up just below a power of two
  else if (2 ** (e + 1) <= a) e++;
  return 2 ** (e - 23);
}

/** A dense sweep: [−10, 10] in steps of 5e-4 (both branches, the 0.625 switch and saturation) and
 *  10^e for e from −45 to 1 in steps of 0.002, both signs (subnormals and the small-|x| branch). */
const SWEEP = (() => {
  const xs: number[] = [];
  for (let i = -20000; i <= 20000; i++) xs.push(i * 5e-4);
  for (let e = -45; e <= 1; e += 0.002) xs.push(10 ** e, -(10 ** e));
  return Float32Array.from(xs);
})();

/** The bound the sweep test holds every backend to. Measured: at most 1.50 ulps on wasm, wasm-scalar
 *  and wasm-relaxed (this sweep, and 4M random points over [−10, 10] and ±10^[−40, 1]; the worst
 *  lie in the (1 − e)/(1 + e) branch, |x| from 1.3 to 4.5), 0.50 on js (f64, rounded once). */
const MAX_ULPS = 2;

describe('tanh: js reference', () => {
  it.each(TAILS)('backward matches finite differences of forward [%i]', (n) => {
    const x = randn(n, 31 + n, 1.5), dy = randn(n, 32 + n);
    const L = (xs: Float32Array) => dotf(js.ops.tanh(js.tensor(xs, [n])).toArray(), dy);
    const y = js.ops.tanh(js.tensor(x, [n]));
    const dx = js.ops.tanhBackward(y, js.tensor(dy, [n]));
    expectClose(dx.toArray(), numericGrad(L, x, 1e-3), 2e-3, 1e-2);
  });
  it('accumulates into dx as the kernel contract says', () => {
    const y = js.tensor([0.5, -0.25], [2]), dy = js.tensor([2, 4], [2]), dx = js.tensor([10, 20], [2]);
    js.k.tanh_backward(dx.buf, y.buf, dy.buf, 2);
    expectClose(dx.toArray(), [10 + 2 * 0.75, 20 + 4 * 0.9375], 0, 1e-7);
  });
  it('keeps any shape, including empty ones', () => {
    expect(js.ops.tanh(js.zeros([2, 3, 4])).shape).toEqual([2, 3, 4]);
    expect(js.ops.tanh(js.zeros([])).shape).toEqual([]);
    expect(js.ops.tanhBackward(js.zeros([0, 3]), js.zeros([0, 3])).shape).toEqual([0, 3]);
  });
});

describe.each(WASM_BACKENDS)('tanh: %s against js', (backend) => {
  it.each(SIZES)('forward and backward agree [%i]', (n) => {
    const x = randn(n, 1000 + n, 2), dy = randn(n, 2000 + n);
    const want = run(js, x, dy, [n]), got = run(hs[backend], x, dy, [n], want[0]);
    expectClose(got[0], want[0], 0, 2.4e-7);   // 1.5 ulps from the kernel, 0.5 from rounding the f64 answer
    expectClose(got[1], want[1], 1e-30, 4e-7);
  });
  it('forward and backward agree on a [3,5,7] tensor', () => {
    const x = randn(105, 77, 3), dy = randn(105, 78);
    const want = run(js, x, dy, [3, 5, 7]), got = run(hs[backend], x, dy, [3, 5, 7], want[0]);
    expectClose(got[0], want[0], 0, 2.4e-7);
    expectClose(got[1], want[1], 1e-30, 4e-7);
  });
  it('backward matches finite differences of its own forward', () => {
    const n = 13, x = randn(n, 41, 1.5), dy = randn(n, 42), h = hs[backend];
    const L = (xs: Float32Array) => dotf(run(h, xs, dy, [n])[0], dy);
    expectClose(run(h, x, dy, [n])[1], numericGrad(L, x, 1e-2), 2e-3, 1e-2);
  });
});

describe.each(ALL_BACKENDS)('tanh on %s: accuracy and special values', (backend) => {
  it(`is within ${MAX_ULPS} ulps of f64 Math.tanh on a dense sweep (no cancellation near 0, subnormals included)`, () => {
    const [y] = run(hs[backend], SWEEP, SWEEP, [SWEEP.length]);
    let worst = 0, at = 0;
    for (let i = 0; i < SWEEP.length; i++) {
      const t = Math.tanh(SWEEP[i]), e = Math.abs(y[i] - t) / ulp(t);
      if (!(e <= worst)) { worst = e; at = SWEEP[i]; }
    }
    expect(worst, `worst at x = ${at}`).toBeLessThanOrEqual(MAX_ULPS);
  });
  it('tanh(x) = x for tiny and subnormal x, and tanh(±0) = ±0, in the f32x4 body and the scalar tail', () => {
    const vals = [0, -0, 1e-40, -1e-40, 1.4e-45, -1.4e-45, 1e-20, -1e-20, 3e-8, -3e-8];
    const x = Float32Array.from([...vals, ...vals.slice(0, 3)]);
    const [y] = run(hs[backend], x, x.map(() => 1), [x.length]);
    for (let i = 0; i < x.length; i++) expect(Object.is(y[i], x[i]), `tanh(${Object.is(x[i], -0) ? '-0' : x[i]}) = ${y[i]}`).toBe(true);
  });
  it('is exactly ±1 far out and at ±Infinity, with a zero gradient; NaN stays NaN (body and tail)', () => {
    const vals = [10, -10, 20, -20, 44, -44, 88, -88, 1e4, -1e4, 3.4028234663852886e38, -3.4028234663852886e38,
      Infinity, -Infinity, NaN];
    const x = [...vals, ...vals.slice(0, 3)], dy = x.map(() => 1);
    const [y, dx] = run(hs[backend], x, dy, [x.length]);
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i])) {
        expect(Number.isNaN(y[i]) && Number.isNaN(dx[i]), 'tanh(NaN) and its gradient').toBe(true);
        continue;
      }
      expect(y[i], `tanh(${x[i]})`).toBe(Math.sign(x[i]));
      expect(dx[i], `tanh'(${x[i]})`).toBe(0);
    }
  });
  it('agrees with f64 on either side of the branch switch at |x| = 0.625', () => {
    const x = Float32Array.from([0.624, 0.6249999, 0.625, 0.6250001, 0.626].flatMap((v) => [v, -v]));
    const [y] = run(hs[backend], x, x, [x.length]);
    y.forEach((v, i) => expect(Math.abs(v - Math.tanh(x[i])) / ulp(Math.tanh(x[i])), `tanh(${x[i]})`).toBeLessThanOrEqual(MAX_ULPS));
  });
  it('backward keeps its relative accuracy where y is near ±1 (1 − y² formed as (1 − y)(1 + y))', () => {
    // In f32, 1 − y·y at y = 0.99999 is off by ~3e-3 relative (the product's rounding against a
    // difference of 2e-5); (1 − y)(1 + y) is within a few ulps.
    const y = Float32Array.from([0.9999, -0.9999, 0.99999, -0.99999, 0.9999999, -0.9999999, 0.99990004, 0.999963]
      .flatMap((v) => [v, v, v]).slice(0, 13));
    const dy = randn(y.length, 5), h = hs[backend];
    const yt = h.tensor(y, [y.length]), dyt = h.tensor(dy, [y.length]);
    const dx = h.ops.tanhBackward(yt, dyt).toArray();
    expectClose(dx, y.map((v, i) => dy[i] * (1 - v * v)), 0, 1e-6);
    for (const t of [yt, dyt]) t.dispose();
  });
});

describe('tanh: errors', () => {
  it('tanhBackward names dy, y and both shapes', () => {
    const y = js.zeros([2, 3]), dy = js.zeros([3, 2]);
    expect(() => js.ops.tanhBackward(y, dy)).toThrow(HeedError);
    expect(() => js.ops.tanhBackward(y, dy)).toThrow("tanhBackward: dy [3,2] must have y's shape [2,3]");
    expect(() => js.ops.tanhBackward(y, js.zeros([6]))).toThrow("tanhBackward: dy [6] must have y's shape [2,3]");
    // the failed call left both usable
    expect(js.ops.tanhBackward(y, js.zeros([2, 3])).shape).toEqual([2, 3]);
    expect(dy.toArray()).toHaveLength(6);
  });
  it('rejects a non-tensor, a disposed tensor and one from another context, naming the argument', async () => {
    expect(() => js.ops.tanh([1, 2] as never)).toThrow('x: expected a Tensor');
    expect(() => js.ops.tanhBackward(js.zeros([2]), null as never)).toThrow('dy: expected a Tensor, got null');
    const gone = js.zeros([2]);
    gone.dispose();
    expect(() => js.ops.tanh(gone)).toThrow('x: tensor [2] was used after dispose()');
    const other = await init({ backend: 'js' });
    expect(() => js.ops.tanhBackward(other.zeros([2]), js.zeros([2]))).toThrow('y: tensor [2] belongs to another heed context');
  });
});

describe('tanh in heed/infer', () => {
  it.each(ALL_BACKENDS)('%s: ops.tanh is there and gives the same values as the full library', async (backend) => {
    const c = await infer.init({ backend });
    const x = randn(13, 9, 2), want = run(hs[backend], x, x, [13])[0];
    const t = c.tensor(x, [13]), y = c.ops.tanh(t);
    expect(Array.from(y.toArray())).toEqual(Array.from(want));
    t.dispose(); y.dispose();
  });
});
