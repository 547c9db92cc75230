import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import { TAIL_DIMS, dotf, expectClose, numericGrad, randn } from '../util.js';
import { ALL_BACKENDS, WASM_BACKENDS } from './backends.js';

const js = await init({ backend: 'js' });
type H = typeof js;
const SHAPES = TAIL_DIMS.map((C, i) => [1 + (i % 4), C] as const);

// Values where the tanh saturates (±10, ±1e4), overflows x³ in f32 (±1e20) or sits at 0.
const SPECIAL = [0, -0, 1, -1, 10, -10, 1e4, -1e4, 1e20, -1e20, 3, -3, 5.5, -5.5, 1e-6, -1e-6, 8, -8, 20, -20, 25];

function run(h: H, xs: ArrayLike<number>, dys: ArrayLike<number>, shape: number[]) {
  const x = h.tensor(xs, shape), dy = h.tensor(dys, shape);
  const y = h.ops.gelu(x), dx = h.ops.geluBackward(x, dy);
  const out = [y.toArray(), dx.toArray()];
  for (const t of [x, dy, y, dx]) t.dispose();
  return out;
}

describe('gelu: js reference', () => {
  it.each(SHAPES)('backward matches finite differences of forward [%i,%i]', (N, C) => {
    const x = randn(N * C, 11, 2), dy = randn(N * C, 12);
    const L = (xs: Float32Array) => dotf(js.ops.gelu(js.tensor(xs, [N, C])).toArray(), dy);
    const dx = js.ops.geluBackward(js.tensor(x, [N, C]), js.tensor(dy, [N, C]));
    expectClose(dx.toArray(), numericGrad(L, x, 1e-3), 2e-3, 1e-2);
  });
  it('matches PyTorch known answers (gelu(1) = 0.8411920) and their gradients', () => {
    // torch.nn.functional.gelu(x, approximate='tanh') and its gradient, PyTorch 1.13 float32.
    const x = [1, -1, 0, 2, -3, 10, -10, 1e4, -1e4, 0.5];
    const y = [0.8411920070648193, -0.15880799293518066, 0, 1.9545977115631104, -0.0036374330520629883, 10, 0, 1e4, 0,
      0.3457140028476715];
    const g = [1.0829640626907349, -0.08296409249305725, 0.5, 1.0860992670059204, -0.011584296822547913, 1, 0, 1, 0,
      0.8673698902130127];
    for (const h of [js]) {
      const [gy, gdx] = run(h, x, x.map(() => 1), [x.length]);
      expectClose(gy, y, 1e-6, 1e-6);   // torch forms these in f32: ~1e-7 off the f64 oracle
      expectClose(gdx, g, 1e-6, 1e-6);
    }
  });
  it('accumulates into dx as the kernel contract says', () => {
    const x = js.tensor([1, 2], [2]), dy = js.tensor([1, 1], [2]), dx = js.tensor([10, 20], [2]);
    js.k.gelu_backward(dx.buf, x.buf, dy.buf, 2);
    expectClose(dx.toArray(), [11.0829640626907349, 21.0860992670059204], 1e-6, 1e-6);
  });
  it('keeps any shape, including empty ones', () => {
    expect(js.ops.gelu(js.zeros([2, 3, 4])).shape).toEqual([2, 3, 4]);
    expect(js.ops.geluBackward(js.zeros([0, 3]), js.zeros([0, 3])).shape).toEqual([0, 3]);
  });
});

describe.each(WASM_BACKENDS)('gelu: %s against js', async (backend) => {
  const hw = await init({ backend });
  it.each(SHAPES)('forward and backward agree [%i,%i]', (N, C) => {
    const x = randn(N * C, N * 100 + C, 3), dy = randn(N * C, N * 100 + C + 1);
    const want = run(js, x, dy, [N, C]), got = run(hw, x, dy, [N, C]);
    got.forEach((a, i) => expectClose(a, want[i], 1e-5, 1e-4));
  });
  it('is within 1e-6 of the reference on a dense sweep of [-12, 12] (vector exp and gate)', () => {
    const x = Float32Array.from({ length: 2401 }, (_, i) => -12 + i * 0.01), ones = x.map(() => 1);
    const want = run(js, x, ones, [x.length]), got = run(hw, x, ones, [x.length]);
    expectClose(got[0], want[0], 1e-6, 2e-7);
    expectClose(got[1], want[1], 1e-6, 2e-7);
  });
  it('saturates without NaN at ±10, ±1e4, ±1e20 and is exact at 0', () => {
    // Repeat so the special values land in both the f32x4 body and the scalar tail.
    const x = [...SPECIAL, ...SPECIAL.slice(0, 3)], dy = x.map(() => 1);
    const [y, dx] = run(hw, x, dy, [x.length]), [wy, wdx] = run(js, x, dy, [x.length]);
    for (const v of [...y, ...dx]) expect(Number.isFinite(v)).toBe(true);
    expectClose(y, wy, 1e-5, 1e-4);
    expectClose(dx, wdx, 1e-5, 1e-4);
    expect(y[0]).toBe(0);
    expect(dx[0]).toBe(0.5);
    expect(y[x.indexOf(1e4)]).toBe(1e4);
    expect(dx[x.indexOf(1e4)]).toBe(1);
  });
});

// Issue 11: gelu(-3e38) was -1.82 on wasm (x / (1 + e^88) with e^(-2u) clamped); the reference
// gives -0 below about -10 (the gate underflows).
describe.each(ALL_BACKENDS)('gelu on %s: far-negative inputs', async (backend) => {
  const h = backend === 'js' ? js : await init({ backend });
  it('gelu(x) is 0 (gelu\'(x) under 1e-30) for x from -25 down to -3.4e38, in the f32x4 body and the scalar tail', () => {
    const far = [-3e38, -3.4028234663852886e38, -1e30, -1e20, -1e6, -25];
    const x = [...far, ...far.slice(0, 3)], dy = x.map(() => 1);
    const [y, dx] = run(h, x, dy, [x.length]);
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(y[i]), `gelu(${x[i]})`).toBe(0);
      expect(Math.abs(dx[i]), `gelu'(${x[i]})`).toBeLessThan(1e-30);   // the clamped gate: about 1e-35
    }
  });
  it('still the reference value next to the cut (-10 to -20) and NaN stays NaN', () => {
    const x = [-10, -12.5, -19.99, -20, -20.01, NaN, -11, -15, -18], dy = x.map(() => 1);
    const [y] = run(h, x, dy, [x.length]), [wy] = run(js, x, dy, [x.length]);
    expect(Number.isNaN(y[5])).toBe(true);
    expectClose([...y.slice(0, 5), ...y.slice(6)], [...wy.slice(0, 5), ...wy.slice(6)], 1e-30, 0);
  });
});

describe('gelu: errors', () => {
  it('geluBackward names dy and both shapes', () => {
    expect(() => js.ops.geluBackward(js.zeros([2, 3]), js.zeros([3, 2]))).toThrow(HeedError);
    expect(() => js.ops.geluBackward(js.zeros([2, 3]), js.zeros([3, 2]))).toThrow('dy: expected shape [2,3], got [3,2]');
  });
  it('rejects a non-tensor', () => {
    expect(() => js.ops.gelu([1, 2] as never)).toThrow('x: expected a Tensor');
  });
});

// ---------------------------------------------------------------- exact GELU (approximate: 'none')

const EXACT = { approximate: 'none' } as const;

/** What f32 allows for the exact GELU at x: its value's rounding plus the kernels' erfc (1.2e-7
 *  relative), and in the tail the rounding of the exponent −x²/2 itself (about 2.4e-7 of it, from
 *  forming x/√2 and squaring it, which e^(·) turns into that much relative error in the result);
 *  1e-36 absolute below that (exp's clamp at e^−87 leaves ~1e-37 where the value underflows). The
 *  gradient Φ(x) + x·φ(x) is a sum of terms up to ~1 that cancel near its zero (x ≈ −0.75): it gets
 *  1e-7 absolute for their rounding. */
const exactTol = (x: number, want: number, grad = false) =>
  (3e-7 + 2.4e-7 * Math.min(x * x, 400) / 2) * Math.abs(want) + (grad ? 1e-7 : 1e-36);

function runExact(h: H, xs: ArrayLike<number>, dys: ArrayLike<number>, shape: number[]) {
  const x = h.tensor(xs, shape), dy = h.tensor(dys, shape);
  const y = h.ops.gelu(x, EXACT), dx = h.ops.geluBackward(x, dy, EXACT);
  const out = [y.toArray(), dx.toArray()];
  for (const t of [x, dy, y, dx]) t.dispose();
  return out;
}

describe('exact gelu: js reference', () => {
  it.each(SHAPES)('backward matches finite differences of forward [%i,%i]', (N, C) => {
    const x = randn(N * C, 21, 2), dy = randn(N * C, 22);
    const L = (xs: Float32Array) => dotf(js.ops.gelu(js.tensor(xs, [N, C]), EXACT).toArray(), dy);
    const dx = js.ops.geluBackward(js.tensor(x, [N, C]), js.tensor(dy, [N, C]), EXACT);
    expectClose(dx.toArray(), numericGrad(L, x, 1e-3), 2e-3, 1e-2);
  });
  it('gives the exact values (x·½erfc(−x/√2), from Python\'s math.erfc in f64) and their gradients, the far tail included', () => {
    // PyTorch forms 1 + erf(x/√2), which cancels in the negative tail even in float64 (its f64
    // gelu(−10) is −0; in f32, gelu(−5) is −1.19e-6 and gelu(−8) −0): heed computes Φ through erfc
    // and keeps the tail's relative accuracy, so the oracle here is math.erfc.
    const x = [1, -1, 0, 2, -3, 10, -10, 1e4, -1e4, 0.5, -5, -8, -12, 3.5, 0.1];
    const y = [0.8413447460685429, -0.15865525393145707, 0, 1.9544997361036416, -0.004049694094890287, 10, -7.619853024160593e-23,
      1e4, -0, 0.34573123063700656, -1.4332578593959731e-06, -4.9767684594174555e-15, -2.1317785344932424e-32, 3.4991857982233756,
      0.053982783727702904];
    const g = [1.0833154705876864, -0.08331547058768629, 0.5, 1.085231801078197, -0.011945647204183927, 1, -7.618400096464813e-22,
      1, 0, 0.8674951246561629, -7.146946001792295e-06, -3.979607261086796e-14, -2.5578956616748956e-31, 1.0028217603536247,
      0.5795230920247302];
    for (const backend of ALL_BACKENDS) {
      const h = backend === 'js' ? js : hs[backend];
      const [gy, gdx] = runExact(h, x, x.map(() => 1), [x.length]);
      gy.forEach((v, i) => expect(Math.abs(v - y[i]), `${backend} gelu(${x[i]})`).toBeLessThanOrEqual(exactTol(x[i], y[i])));
      gdx.forEach((v, i) => expect(Math.abs(v - g[i]), `${backend} gelu'(${x[i]})`).toBeLessThanOrEqual(exactTol(x[i], g[i], true)));
    }
  });
  it('accumulates into dx', () => {
    const x = js.tensor([1, 2], [2]), dy = js.tensor([1, 1], [2]), dx = js.tensor([10, 20], [2]);
    js.k.gelu_erf_backward(dx.buf, x.buf, dy.buf, 2);
    expectClose(dx.toArray(), [11.0833154705876864, 21.085231801078197], 1e-6, 1e-6);
  });
  it('is not the tanh approximation (they differ by up to ~5e-4)', () => {
    const x = js.tensor([-3, 1.5, 2], [3]);
    const a = js.ops.gelu(x).toArray(), b = js.ops.gelu(x, EXACT).toArray();
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-4);
  });
});

const hs = Object.fromEntries(await Promise.all(WASM_BACKENDS.map(async (b) => [b, await init({ backend: b })] as const))) as Record<string, H>;

describe.each(WASM_BACKENDS)('exact gelu: %s against js', (backend) => {
  it.each(SHAPES)('forward and backward agree [%i,%i]', (N, C) => {
    const x = randn(N * C, N * 100 + C + 7, 3), dy = randn(N * C, N * 100 + C + 8);
    const want = runExact(js, x, dy, [N, C]), got = runExact(hs[backend], x, dy, [N, C]);
    got.forEach((a, i) => expectClose(a, want[i], 1e-6, 1e-6));
  });
  it('is within f32\'s reach of the reference on a dense sweep of [-13, 12], the tail included', () => {
    const x = Float32Array.from({ length: 2501 }, (_, i) => -13 + i * 0.01), ones = x.map(() => 1);
    const want = runExact(js, x, ones, [x.length]), got = runExact(hs[backend], x, ones, [x.length]);
    for (let k = 0; k < 2; k++) {
      for (let i = 0; i < x.length; i++) {
        expect(Math.abs(got[k][i] - want[k][i]), `${k ? 'gelu\'' : 'gelu'}(${x[i]})`).toBeLessThanOrEqual(exactTol(x[i], want[k][i], k === 1));
      }
    }
  });
  it('saturates without NaN at ±1e4, ±1e20, ±3.4e38; is exact at 0; NaN stays NaN (f32x4 body and scalar tail)', () => {
    const vals = [0, -0, 1e4, -1e4, 1e20, -1e20, 3.4e38, -3.4e38, -13.5, -20, 25, NaN];
    const x = [...vals, ...vals.slice(0, 3)], dy = x.map(() => 1);
    const [y, dx] = runExact(hs[backend], x, dy, [x.length]), [wy, wdx] = runExact(js, x, dy, [x.length]);
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i])) { expect(Number.isNaN(y[i]) && Number.isNaN(dx[i])).toBe(true); continue; }
      expect(Number.isFinite(y[i]) && Number.isFinite(dx[i]), `gelu(${x[i]})`).toBe(true);
      expect(Math.abs(y[i] - wy[i]), `gelu(${x[i]})`).toBeLessThanOrEqual(exactTol(x[i], wy[i]));
      expect(Math.abs(dx[i] - wdx[i]), `gelu'(${x[i]})`).toBeLessThanOrEqual(exactTol(x[i], wdx[i], true));
    }
    expect(y[0]).toBe(0);
    expect(dx[0]).toBe(0.5);
    expect(y[x.indexOf(1e4)]).toBe(1e4);
  });
});

describe('exact gelu: errors', () => {
  it('names a bad approximate option', () => {
    expect(() => js.ops.gelu(js.zeros([2]), { approximate: 'erf' as never })).toThrow(`gelu: approximate must be 'tanh' or 'none', got "erf"`);
    expect(() => js.ops.geluBackward(js.zeros([2]), js.zeros([2]), { approximate: 1 as never })).toThrow(HeedError);
  });
});

describe('exact gelu: PyTorch fixtures (test/fixtures/make_gelu_erf_fixture.py)', () => {
  const fx = JSON.parse(readFileSync(new URL('../fixtures/gelu_erf.json', import.meta.url), 'utf8')) as {
    torch: string; cases: { n: number; x: number[]; dy: number[]; y: number[]; dx: number[] }[];
  };
  it.each(ALL_BACKENDS)('%s: y and dx agree with PyTorch on every tail size', (backend) => {
    const h = backend === 'js' ? js : hs[backend];
    for (const c of fx.cases) {
      const [y, dx] = runExact(h, c.x, c.dy, [c.n]);
      expectClose(y, c.y, 1e-6, 1e-6);
      expectClose(dx, c.dx, 1e-6, 1e-6);
    }
  });
});
