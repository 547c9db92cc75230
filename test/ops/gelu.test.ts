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
