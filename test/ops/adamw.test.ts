import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import { TAIL_DIMS, expectClose, randn } from '../util.js';
import type { AdamwOptions } from '../../src/ops/adamw.js';
import { ALL_BACKENDS, WASM_BACKENDS } from './backends.js';

const js = await init({ backend: 'js' });
type H = typeof js;
const BACKENDS = ALL_BACKENDS;
const ctxs = { js } as Record<(typeof BACKENDS)[number], H>;
for (const b of WASM_BACKENDS) ctxs[b] = await init({ backend: b });

interface Opts { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }
const DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

/** torch.optim.AdamW's _single_tensor_adamw, transcribed line for line in f64 (no f32 rounding). */
function torchAdamw(p0: ArrayLike<number>, grads: ArrayLike<number>[], o: Opts) {
  const p = Array.from(p0), m = p.map(() => 0), v = p.map(() => 0);
  grads.forEach((g, s) => {
    const step = s + 1;
    for (let i = 0; i < p.length; i++) {
      p[i] *= 1 - o.lr * o.weightDecay;
      m[i] = m[i] * o.beta1 + (1 - o.beta1) * g[i];
      v[i] = v[i] * o.beta2 + (1 - o.beta2) * g[i] * g[i];
      const bc1 = 1 - o.beta1 ** step, bc2 = 1 - o.beta2 ** step;
      const stepSize = o.lr / bc1, denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + o.eps;
      p[i] += -stepSize * m[i] / denom;
    }
  });
  return [p, m, v];
}

/** `steps` ops.adamw steps on a context from zero state; returns [param, m, v]. */
function run(h: H, p0: ArrayLike<number>, grads: ArrayLike<number>[], o: Partial<Opts> & { lr: number }, shape = [p0.length]) {
  const p = h.tensor(p0, shape), m = h.zeros(shape), v = h.zeros(shape);
  grads.forEach((g, s) => {
    const gt = h.tensor(g, shape);
    h.ops.adamw(p, gt, m, v, { ...o, step: s + 1 });
    gt.dispose();
  });
  const out = [p.toArray(), m.toArray(), v.toArray()];
  for (const t of [p, m, v]) t.dispose();
  return out;
}

describe.each(BACKENDS)('adamw on %s', (backend) => {
  const h = ctxs[backend];
  it('one step by hand: Adam moves each weight by lr·sign(g) on step 1, after decoupled decay', () => {
    // p = [1, −2], g = [0.5, −1], lr 0.1, wd 0.01 → decay: p·(1 − 0.001) = [0.999, −1.998];
    // m = 0.1·g = [0.05, −0.1]; v = 0.001·g² = [0.00025, 0.001]; bc1 = 0.1, bc2 = 0.001;
    // step size 0.1/0.1 = 1; denom = √v/√0.001 + 1e-8 = |g| + 1e-8; update = m/denom ≈ [0.1, −0.1].
    const [p, m, v] = run(h, [1, -2], [[0.5, -1]], { lr: 0.1 });
    expectClose(p, [0.999 - 0.05 / (0.5 + 1e-8), -1.998 + 0.1 / (1 + 1e-8)], 1e-7, 1e-7);
    expectClose(m, [0.05, -0.1], 1e-9, 1e-7);
    expectClose(v, [0.00025, 0.001], 1e-12, 1e-7);
  });
  it('matches PyTorch 1.13 torch.optim.AdamW(lr=0.1) over two steps', () => {
    const [p, m, v] = run(h, [1, -2], [[0.5, -1], [-0.25, 2]], { lr: 0.1 });
    expectClose(p, [0.8714673519134521, -1.932712435722351], 1e-6, 1e-6);
    expectClose(m, [0.019999997690320015, 0.11000000685453415], 1e-8, 1e-6);
    expectClose(v, [0.0003122500202152878, 0.004999000113457441], 1e-10, 1e-6);
  });
  it.each(TAIL_DIMS)('follows the f64 transcription of torch for 10 steps [n %i]', (n) => {
    const p0 = randn(n, n), grads = Array.from({ length: 10 }, (_, s) => randn(n, n * 31 + s, 0.5));
    const o = { lr: 0.01, ...DEFAULTS, weightDecay: 0.1 };
    const want = torchAdamw(p0, grads, o), got = run(h, p0, grads, o);
    got.forEach((a, i) => expectClose(a, want[i], 1e-6, 1e-5));
  });
  it('handles other hyper-parameters: Adam (wd 0), β1 = 0, eps 0, a large lr', () => {
    const n = 13, p0 = randn(n, 1), grads = Array.from({ length: 5 }, (_, s) => randn(n, 2 + s));
    for (const o of [{ lr: 1e-3, ...DEFAULTS, weightDecay: 0 }, { lr: 0.05, beta1: 0, beta2: 0.9, eps: 0, weightDecay: 0.5 },
      { lr: 2, beta1: 0.5, beta2: 0.6, eps: 1e-3, weightDecay: 0.2 }]) {
      const want = torchAdamw(p0, grads, o), got = run(h, p0, grads, o, [n, 1]);
      got.forEach((a, i) => expectClose(a, want[i], 1e-5, 1e-5));
    }
  });
  it('uses PyTorch defaults when options leave them out', () => {
    const p0 = randn(9, 3), grads = [randn(9, 4), randn(9, 5)];
    const a = run(h, p0, grads, { lr: 0.01 }), b = run(h, p0, grads, { lr: 0.01, ...DEFAULTS });
    a.forEach((x, i) => expect([...x]).toEqual([...b[i]]));
  });
  it('lr 0 leaves the parameters alone but still updates the moments', () => {
    const [p, m] = run(h, [1, 2, 3], [[1, 1, 1]], { lr: 0 });
    expect([...p]).toEqual([1, 2, 3]);
    expectClose(m, [0.1, 0.1, 0.1], 1e-8, 1e-6);
  });
  it('sum_squares is f64-accurate to 1e-6 for 1e6 elements; scale multiplies in place', () => {
    const n = 1_000_003, xs = randn(n, 77, 3);
    let want = 0;
    for (let i = 0; i < n; i++) want += xs[i] * xs[i];
    const x = h.tensor(xs, [n]);
    const got = h.k.sum_squares(x.buf, n);
    expect(Math.abs(got - want) / want).toBeLessThan(1e-9);
    h.k.scale(x.buf, n, 0.5);
    const half = x.toArray();
    for (const i of [0, 1, 2, 3, 4, 1000, n - 3, n - 1]) expect(half[i]).toBe(Math.fround(xs[i] * 0.5));
    x.dispose();
  });
  it.each(TAIL_DIMS)('sum_squares and scale agree with js [n %i], NaN and Infinity propagate', (n) => {
    const xs = randn(n, n + 5);
    const x = h.tensor(xs, [n]);
    const ref = js.tensor(xs, [n]);
    expect(h.k.sum_squares(x.buf, n)).toBeCloseTo(js.k.sum_squares(ref.buf, n), 10);
    h.k.scale(x.buf, n, -1.5); js.k.scale(ref.buf, n, -1.5);
    expectClose(x.toArray(), ref.toArray(), 0, 0);
    for (const [bad, want] of [[NaN, NaN], [Infinity, Infinity], [-Infinity, Infinity]]) {
      const ys = Float32Array.from(xs); ys[n - 1] = bad;
      const y = h.tensor(ys, [n]);
      expect(h.k.sum_squares(y.buf, n)).toBe(want);
      y.dispose();
    }
    x.dispose();
  });
});

describe('adamw: errors', () => {
  const p = js.zeros([2, 3]), g = js.zeros([2, 3]), m = js.zeros([2, 3]), v = js.zeros([2, 3]);
  const ok: AdamwOptions = { lr: 1e-3, step: 1 };
  it('names the argument and both shapes', () => {
    expect(() => js.ops.adamw(p, js.zeros([3, 2]), m, v, ok)).toThrow(HeedError);
    expect(() => js.ops.adamw(p, js.zeros([3, 2]), m, v, ok)).toThrow('grad: expected shape [2,3], got [3,2]');
    expect(() => js.ops.adamw(p, g, js.zeros([6]), v, ok)).toThrow('m: expected shape [2,3], got [6]');
    expect(() => js.ops.adamw(p, g, m, js.zeros([2, 3, 1]), ok)).toThrow('v: expected shape [2,3], got [2,3,1]');
  });
  it('rejects aliased state', () => {
    expect(() => js.ops.adamw(p, g, m, m, ok)).toThrow('adamw: m and v are the same tensor');
    expect(() => js.ops.adamw(p, p, m, v, ok)).toThrow('adamw: param and grad are the same tensor');
  });
  it('names the bad option and its value', () => {
    const bad = (o: Partial<AdamwOptions>) => () => js.ops.adamw(p, g, m, v, { ...ok, ...o } as AdamwOptions);
    expect(bad({ lr: -1 })).toThrow('adamw: option lr must be a finite number ≥ 0, got -1');
    expect(bad({ lr: NaN })).toThrow('option lr');
    expect(bad({ lr: undefined })).toThrow('adamw: option lr must be a finite number ≥ 0, got undefined');
    expect(bad({ beta1: 1 })).toThrow('adamw: option beta1 must be in [0, 1), got 1');
    expect(bad({ beta2: -0.1 })).toThrow('adamw: option beta2 must be in [0, 1), got -0.1');
    expect(bad({ eps: -1e-8 })).toThrow('adamw: option eps must be a finite number ≥ 0, got -1e-8');
    expect(bad({ weightDecay: Infinity })).toThrow('adamw: option weightDecay must be a finite number ≥ 0, got Infinity');
    expect(bad({ step: 0 })).toThrow('adamw: option step must be a positive integer, got 0');
    expect(bad({ step: 1.5 })).toThrow('adamw: option step must be a positive integer, got 1.5');
    expect(bad({ step: undefined })).toThrow('option step');
    expect(() => js.ops.adamw(p, g, m, v, null as never)).toThrow('adamw: options must be an object');
  });
  it('one rule for the op, adamwOptimizer and fit: the same values pass and fail with the same words, lr = 0 included (as PyTorch)', async () => {
    const h = await init({ backend: 'js' });
    const model = h.attentionPoolingClassifier({ vocabSize: 10, dModel: 4 });
    const data = { sequences: [[1, 2], [3]], labels: [0, 1] };
    const entries: [string, (o: Record<string, unknown>) => unknown][] = [
      ['adamw: option', (o) => js.ops.adamw(p, g, m, v, { ...ok, ...o } as AdamwOptions)],
      ['adamwOptimizer:', (o) => h.adamwOptimizer(model, o).dispose()],
      ['fit:', (o) => { const run = h.fit({ modelOptions: { kind: 'pooling', vocabSize: 10, dModel: 4 }, data, epochs: 1, worker: false, ...o }); runs.push(run.done); }],
    ];
    const runs: Promise<unknown>[] = [];
    for (const [who, call] of entries) {
      for (const good of [{ lr: 0 }, { eps: 0, weightDecay: 0 }, { beta1: 0, beta2: 0.5 }]) expect(() => call(good), `${who} ${JSON.stringify(good)}`).not.toThrow();
      expect(() => call({ lr: -1 })).toThrow(`${who} lr must be a finite number ≥ 0, got -1`);
      expect(() => call({ lr: Infinity })).toThrow(`${who} lr must be a finite number ≥ 0, got Infinity`);
      expect(() => call({ beta2: 1 })).toThrow(`${who} beta2 must be in [0, 1), got 1`);
      expect(() => call({ eps: NaN })).toThrow(`${who} eps must be a finite number ≥ 0, got NaN`);
      expect(() => call({ weightDecay: '0.1' })).toThrow(`${who} weightDecay must be a finite number ≥ 0, got 0.1`);
    }
    for (const [who, call] of entries.slice(1)) expect(() => call({ clipNorm: 0 })).toThrow(`${who} clipNorm must be a finite number > 0, got 0`);
    expect((await Promise.all(runs)).length).toBe(3); // the accepted fits ran to the end
  });
  it('a rejected call changes nothing', () => {
    const q = js.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(() => js.ops.adamw(q, js.tensor([1, 1, 1, 1, 1, 1], [2, 3]), m, v, { lr: 0.1, step: 0 })).toThrow(HeedError);
    expect([...q.toArray()]).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
