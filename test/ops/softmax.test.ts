import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import { TAIL_DIMS, dotf, expectClose, numericGrad, randn } from '../util.js';
import { WASM_BACKENDS } from './backends.js';

const js = await init({ backend: 'js' });
// N < 4, N % 4 != 0 and N % 4 == 0 hit the scalar tail and the f32x4 body of every row loop.
const SHAPES = TAIL_DIMS.map((N, i) => [1 + (i % 4), N] as const);

type H = typeof js;
/** softmax and softmaxBackward of x [R,N] (dy random) → [y, dx] as plain arrays. */
function run(h: H, x: Float32Array, R: number, N: number, seed: number) {
  const xt = h.tensor(x, [R, N]), dy = h.tensor(randn(R * N, seed), [R, N]);
  const y = h.ops.softmax(xt);
  const dx = h.ops.softmaxBackward(y, dy);
  const out = [y.toArray(), dx.toArray()];
  for (const t of [xt, dy, y, dx]) t.dispose();
  return out;
}

/** Rows of ±1e4 logits, rows with −Infinity entries and an all −Infinity row. */
function specialRows(N: number, seed: number): Float32Array {
  const r = randn(4 * N, seed);
  const x = new Float32Array(4 * N);
  for (let i = 0; i < N; i++) {
    x[i] = Math.max(-3, Math.min(3, Math.round(r[i] * 3))) * 1e4 / 3; // row 0: ±1e4 logits, exact ties
    x[N + i] = i % 3 === 1 ? -Infinity : r[N + i];          // row 1: some −Infinity entries
    x[2 * N + i] = -Infinity;                               // row 2: all −Infinity → zeros
    x[3 * N + i] = i === N - 1 ? r[3 * N + i] : -Infinity;  // row 3: one finite entry → one-hot
  }
  return x;
}

describe('softmax: js reference', () => {
  it.each(SHAPES)('backward matches finite differences of forward [%i,%i]', (R, N) => {
    const x = randn(R * N, 11 + N), dy = randn(R * N, 12 + N);
    const L = (xs: Float32Array) => dotf(js.ops.softmax(js.tensor(xs, [R, N])).toArray(), dy); // L = Σ softmax(x)·dy
    const dx = js.ops.softmaxBackward(js.ops.softmax(js.tensor(x, [R, N])), js.tensor(dy, [R, N]));
    expectClose(dx.toArray(), numericGrad(L, x), 5e-4, 2e-3);
  });
  it('known answer: softmax([1,2,3]) = [0.09003057, 0.24472847, 0.66524096]', () => {
    const y = js.ops.softmax(js.tensor([1, 2, 3], [3])).toArray();
    expectClose(y, [0.09003057, 0.24472847, 0.66524096], 1e-7, 1e-6);
    // by hand: e^(x−3) = [e^−2, e^−1, 1] over their sum
    const e = [Math.exp(-2), Math.exp(-1), 1], s = e[0] + e[1] + e[2];
    expectClose(y, e.map((v) => v / s), 1e-7, 1e-6);
  });
  it('is shift-invariant and handles ±1e4 logits without overflow', () => {
    const y = js.ops.softmax(js.tensor([1e4, 1e4 - 1, -1e4, 1e4], [4])).toArray();
    const e = 1 / (2 + Math.exp(-1));
    expectClose(y, [e, Math.exp(-1) * e, 0, e], 1e-7, 1e-6);
  });
  it('gives −Infinity entries probability 0 and an all −Infinity row zeros, not NaN', () => {
    const y = js.ops.softmax(js.tensor([0, -Infinity, Math.log(3), -Infinity, -Infinity, -Infinity], [2, 3]));
    expectClose(y.toArray(), [0.25, 0, 0.75, 0, 0, 0], 1e-7, 1e-6);
    const dx = js.ops.softmaxBackward(y, js.tensor([1, 2, 3, 4, 5, 6], [2, 3])).toArray();
    // dx = y(dy − Σ y·dy): Σ y·dy = 0.25 + 2.25 = 2.5 → [0.25·(1−2.5), 0, 0.75·(3−2.5)]; the empty row stays 0
    expectClose(dx, [-0.375, 0, 0.375, 0, 0, 0], 1e-7, 1e-6);
  });
  it('works over the last axis of any rank and keeps the shape', () => {
    const x = randn(2 * 3 * 5, 3);
    const y = js.ops.softmax(js.tensor(x, [2, 3, 5]));
    expect(y.shape).toEqual([2, 3, 5]);
    expectClose(y.toArray(), js.ops.softmax(js.tensor(x, [6, 5])).toArray(), 0, 0);
    expect(js.ops.softmax(js.zeros([0, 4])).shape).toEqual([0, 4]);
    expect(js.ops.softmaxBackward(js.zeros([3, 0]), js.zeros([3, 0])).shape).toEqual([3, 0]);
  });
});

describe.each(WASM_BACKENDS)('softmax: %s against js', async (backend) => {
  const hw = await init({ backend });
  it.each(SHAPES)('forward and backward agree [%i,%i]', (R, N) => {
    const x = randn(R * N, R * 100 + N, 3);
    const want = run(js, x, R, N, N), got = run(hw, x, R, N, N);
    got.forEach((a, i) => expectClose(a, want[i], 1e-5, 1e-4));
  });
  it.each(TAIL_DIMS)('special values: ±1e4 logits, −Infinity entries and rows [4,%i]', (N) => {
    const x = specialRows(N, N);
    const want = run(js, x, 4, N, N + 1), got = run(hw, x, 4, N, N + 1);
    got.forEach((a, i) => {
      expect(a.some(Number.isNaN), 'NaN').toBe(false);
      expectClose(a, want[i], 1e-5, 1e-4);
    });
    expect([...got[0].subarray(2 * N, 3 * N)]).toEqual(new Array(N).fill(0));  // all −Infinity row
    expect([...got[1].subarray(2 * N, 3 * N)]).toEqual(new Array(N).fill(0));
    expect(got[0][4 * N - 1]).toBe(1);                                         // one finite entry
  });
  it('rows sum to 1', () => {
    const y = hw.ops.softmax(hw.tensor(randn(5 * 33, 9, 10), [5, 33])).toArray();
    for (let r = 0; r < 5; r++) expect(y.subarray(r * 33, r * 33 + 33).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 6);
  });
});

describe('softmax: errors', () => {
  it('names dy and both shapes', () => {
    const y = js.zeros([2, 4]);
    expect(() => js.ops.softmaxBackward(y, js.zeros([4, 2]))).toThrow(HeedError);
    expect(() => js.ops.softmaxBackward(y, js.zeros([4, 2]))).toThrow('dy: expected shape [2,4], got [4,2]');
  });
  it('rejects a scalar, a tensor of another context and a disposed tensor', async () => {
    expect(() => js.ops.softmax(js.zeros([]))).toThrow('x: expected at least one axis, got shape []');
    const other = await init({ backend: 'js' });
    expect(() => js.ops.softmax(other.zeros([2, 3]))).toThrow('x: tensor [2,3] belongs to another heed context');
    const t = js.zeros([2, 3]);
    t.dispose();
    expect(() => js.ops.softmax(t)).toThrow('x: tensor [2,3] was used after dispose()');
    expect(() => js.ops.softmaxBackward(js.zeros([2, 3]), t)).toThrow(HeedError);
  });
});
