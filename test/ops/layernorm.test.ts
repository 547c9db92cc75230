import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import { TAIL_DIMS, dotf, expectClose, numericGrad, randn } from '../util.js';
import { ALL_BACKENDS, WASM_BACKENDS } from './backends.js';

const js = await init({ backend: 'js' });
const SHAPES = TAIL_DIMS.map((C, i) => [1 + (i % 4), C] as const);

function run(h: typeof js, N: number, C: number, seed: number, scale = 1, shift = 0) {
  const x = h.tensor(randn(N * C, seed, scale).map((v) => v + shift), [N, C]);
  const [g, b] = [randn(C, seed + 1), randn(C, seed + 2)].map((a) => h.tensor(a, [C]));
  const dy = h.tensor(randn(N * C, seed + 3), [N, C]);
  const y = h.ops.layerNorm(x, g, b);
  const { dx, dgamma, dbeta } = h.ops.layerNormBackward(x, g, dy);
  const out = [y, dx, dgamma, dbeta].map((t) => t.toArray());
  for (const t of [x, g, b, dy, y, dx, dgamma, dbeta]) t.dispose();
  return out;
}

describe('layerNorm: js reference', () => {
  it.each(SHAPES)('backward matches finite differences of forward [%i,%i]', (N, C) => {
    const x = randn(N * C, 7), g = randn(C, 8), b = randn(C, 9), dy = randn(N * C, 10);
    const L = (xs: Float32Array, gs: Float32Array, bs: Float32Array) =>
      dotf(js.ops.layerNorm(js.tensor(xs, [N, C]), js.tensor(gs, [C]), js.tensor(bs, [C])).toArray(), dy);
    const r = js.ops.layerNormBackward(js.tensor(x, [N, C]), js.tensor(g, [C]), js.tensor(dy, [N, C]));
    expectClose(r.dx.toArray(), numericGrad((v) => L(v, g, b), x), 2e-3, 1e-2);
    expectClose(r.dgamma.toArray(), numericGrad((v) => L(x, v, b), g), 2e-3, 1e-2);
    expectClose(r.dbeta.toArray(), numericGrad((v) => L(x, g, v), b), 2e-3, 1e-2);
  });
  it('normalises a known row: [1,2,3] → [-1.2247, 0, 1.2247]', () => {
    const y = js.ops.layerNorm(js.tensor([1, 2, 3], [1, 3]), js.tensor([1, 1, 1], [3]), js.tensor([0, 0, 0], [3]));
    expectClose(y.toArray(), [-1.2247357, 0, 1.2247357], 1e-6, 1e-6);
  });
  it('accepts any leading axes and keeps the shape', () => {
    const y = js.ops.layerNorm(js.zeros([2, 3, 4]), js.zeros([4]), js.zeros([4]));
    expect(y.shape).toEqual([2, 3, 4]);
  });
});

describe.each(WASM_BACKENDS)('layerNorm: %s against js', async (backend) => {
  const hw = await init({ backend });
  it.each(SHAPES)('forward and backward agree [%i,%i]', (N, C) => {
    const want = run(js, N, C, N * 100 + C), got = run(hw, N, C, N * 100 + C);
    got.forEach((a, i) => expectClose(a, want[i], 1e-5, 1e-4));
  });
  it('stays accurate for rows with mean 1e4 and spread 1e-2 (two-pass statistics)', () => {
    const want = run(js, 3, 33, 5, 1e-2, 1e4), got = run(hw, 3, 33, 5, 1e-2, 1e4);
    // f32 input itself is quantised at 1e4 (ulp ≈ 1e-3): compare against the f64 oracle loosely but
    // far tighter than E[x²]−E[x]² could ever manage (its variance would be pure rounding noise).
    expectClose(got[0], want[0], 2e-3, 2e-3);
  });
});

// Issue 11: rows with |x| ≥ 1e19 gave zeros on wasm (Σ(x − mean)² overflowed f32, so rstd was 0),
// where the reference (f64) gives ±1; a row near f32's max overflowed the mean as well.
describe.each(ALL_BACKENDS)('layerNorm on %s: rows past f32\'s square root', async (backend) => {
  const h = backend === 'js' ? js : await init({ backend });
  const rows: [string, number[]][] = [
    ['±1e19', [1e19, -1e19, 1e19, -1e19, 1e19, -1e19, 1e19, -1e19]],
    ['±3e20 with a tail', [3e20, -3e20, 1e20, -1e20, 2e20, -2e20, 0]],
    ['1e30 and small values', [1e30, 1, 2, 3, 4]],
    ['near f32\'s max (the sum overflows)', [3e38, 3e38, 3e38, 1e38, 2e38]],
  ];
  it.each(rows)('%s: forward and backward agree with js, finite', (_, row) => {
    const C = row.length, x = Float32Array.from(row), g = randn(C, 1), b = randn(C, 2), dy = randn(C, 3);
    const go = (hh: typeof js) => {
      const [xt, gt, bt, dyt] = [x, g, b, dy].map((a, i) => hh.tensor(a, i % 3 === 0 ? [1, C] : [C]));
      const y = hh.ops.layerNorm(xt, gt, bt), r = hh.ops.layerNormBackward(xt, gt, dyt);
      const out = [y, r.dx, r.dgamma, r.dbeta].map((t) => t.toArray());
      for (const t of [xt, gt, bt, dyt, y, r.dx, r.dgamma, r.dbeta]) t.dispose();
      return out;
    };
    const got = go(h), want = go(js);
    for (const a of got) for (const v of a) expect(Number.isFinite(v)).toBe(true);
    expectClose(got[0], want[0], 1e-5, 1e-4);                    // y: x̂·gamma + beta, x̂ about ±1
    expectClose(got[2], want[2], 1e-5, 1e-4);                    // dgamma = dy·x̂
    const big = Math.max(...row.map(Math.abs)), scaled = (a: Float32Array) => a.map((v) => v * big);
    expectClose(scaled(got[1]), scaled(want[1]), 1e-5, 1e-4);    // dx ∝ rstd ≈ 1/big
  });
  it('the ±1e19 row normalises to ±1', () => {
    const x = h.tensor([1e19, -1e19, 1e19, -1e19], [1, 4]), g = h.tensor([1, 1, 1, 1], [4]), b = h.tensor([0, 0, 0, 0], [4]);
    const y = h.ops.layerNorm(x, g, b);
    expectClose(y.toArray(), [1, -1, 1, -1], 1e-6, 0);
    for (const t of [x, g, b, y]) t.dispose();
  });
});

describe('layerNorm: errors', () => {
  it('names gamma and both shapes', () => {
    expect(() => js.ops.layerNorm(js.zeros([2, 4]), js.zeros([3]), js.zeros([4]))).toThrow(HeedError);
    expect(() => js.ops.layerNorm(js.zeros([2, 4]), js.zeros([3]), js.zeros([4]))).toThrow('gamma: expected shape [4], got [3]');
    expect(() => js.ops.layerNormBackward(js.zeros([2, 4]), js.zeros([4]), js.zeros([4, 2]))).toThrow('dy: expected shape [2,4], got [4,2]');
  });
});
