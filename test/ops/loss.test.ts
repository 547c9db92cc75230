import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import { TAIL_DIMS, expectClose, numericGrad, randint, randn, rng } from '../util.js';
import { WASM_BACKENDS } from './backends.js';

const js = await init({ backend: 'js' });
type H = typeof js;
const SHAPES = TAIL_DIMS.map((C, i) => [1 + (i % 4), C] as const);

function ce(h: H, logits: ArrayLike<number>, labels: ArrayLike<number>, N: number, C: number) {
  const x = h.tensor(logits, [N, C]);
  const { loss, dlogits } = h.ops.crossEntropy(x, labels);
  const d = dlogits.toArray();
  x.dispose(); dlogits.dispose();
  return { loss, d };
}

function bce(h: H, logits: ArrayLike<number>, targets: ArrayLike<number>) {
  const x = h.tensor(logits, [logits.length]);
  const { loss, dlogits } = h.ops.bceWithLogits(x, targets);
  const d = dlogits.toArray();
  x.dispose(); dlogits.dispose();
  return { loss, d };
}

const binary = (n: number, seed: number) => { const u = rng(seed); return Float32Array.from({ length: n }, () => (u() < 0.5 ? 0 : 1)); };

describe('losses: js reference', () => {
  it.each(SHAPES)('crossEntropy dlogits matches finite differences of the loss [%i,%i]', (N, C) => {
    const x = randn(N * C, N + C, 2), labels = randint(N, 0, C, N * C);
    const g = numericGrad((xs) => ce(js, xs, labels, N, C).loss, x);
    expectClose(ce(js, x, labels, N, C).d, g, 1e-4, 1e-2);
  });
  it.each(TAIL_DIMS)('bceWithLogits dlogits matches finite differences of the loss [%i]', (N) => {
    const x = randn(N, N, 2), t = binary(N, N + 1);
    const g = numericGrad((xs) => bce(js, xs, t).loss, x);
    expectClose(bce(js, x, t).d, g, 1e-4, 1e-2);
  });
  it('known answers: CE of [[0,0]] is ln 2, BCE of logit 0 is ln 2', () => {
    const c = ce(js, [0, 0], [0], 1, 2);
    expect(c.loss).toBeCloseTo(Math.LN2, 12);
    expectClose(c.d, [-0.5, 0.5], 1e-7, 0);
    const b = bce(js, [0], [1]);
    expect(b.loss).toBeCloseTo(Math.LN2, 12);
    expectClose(b.d, [-0.5], 1e-7, 0);
  });
  it('matches PyTorch known answers (F.cross_entropy, F.binary_cross_entropy_with_logits)', () => {
    // ln(e+e²+e³) − 3 and ln(e^0.5+e^−1+e^4) − 0.5, averaged; gradients from PyTorch 1.13.
    const c = ce(js, [1, 2, 3, 0.5, -1, 4], [2, 0], 2, 3);
    expect(c.loss).toBeCloseTo(1.9719377756118774, 6);
    expectClose(c.d, [0.04501529037952423, 0.12236424535512924, -0.1673794984817505,
      -0.48543912172317505, 0.0032489714212715626, 0.48219016194343567], 1e-7, 1e-6);
    const b = bce(js, [2, -1, 0, 3], [0, 1, 1, 1]);
    expect(b.loss).toBeCloseTo(1.0454810857772827, 6);
    expectClose(b.d, [0.22019925713539124, -0.18276464939117432, -0.125, -0.01185646653175354], 1e-7, 1e-6);
  });
  it('BCE takes soft targets in [0,1] and logits shaped [N,1]', () => {
    const x = js.tensor([0.5, -2], [2, 1]);
    const r = js.ops.bceWithLogits(x, [0.25, 1]);
    expect(r.dlogits.shape).toEqual([2, 1]);
    const want = (0.5 - 0.5 * 0.25 + Math.log1p(Math.exp(-0.5)) + 2 + Math.log1p(Math.exp(-2))) / 2;
    expect(r.loss).toBeCloseTo(want, 7);
  });
});

describe.each([...WASM_BACKENDS, 'js'] as const)('losses: N = 0 on %s', async (backend) => {
  const h = backend === 'js' ? js : await init({ backend });
  it('gives loss 0 (not NaN) and empty gradients', () => {
    const c = h.ops.crossEntropy(h.zeros([0, 3]), []);
    expect(c.loss).toBe(0);
    expect(c.dlogits.shape).toEqual([0, 3]);
    const b = h.ops.bceWithLogits(h.zeros([0]), new Float32Array(0));
    expect(b.loss).toBe(0);
    expect(b.dlogits.shape).toEqual([0]);
  });
});

describe.each(WASM_BACKENDS)('losses: %s against js', async (backend) => {
  const hw = await init({ backend });
  it.each(SHAPES)('crossEntropy agrees [%i,%i]', (N, C) => {
    const x = randn(N * C, N * 100 + C, 3), labels = randint(N, 0, C, N + C);
    const want = ce(js, x, labels, N, C), got = ce(hw, x, labels, N, C);
    expectClose([got.loss], [want.loss], 1e-6, 1e-5);
    expectClose(got.d, want.d, 1e-5, 1e-4);
  });
  it.each(TAIL_DIMS)('bceWithLogits agrees [%i]', (N) => {
    const x = randn(N, N * 7, 3), t = binary(N, N);
    const want = bce(js, x, t), got = bce(hw, x, t);
    expectClose([got.loss], [want.loss], 1e-6, 1e-5);
    expectClose(got.d, want.d, 1e-5, 1e-4);
  });
  it('crossEntropy stays finite and matches for logits of ±1e4 (max subtracted)', () => {
    // C = 5 puts columns in the f32x4 body and the tail; the label sits on the max, the min and between.
    const x = [1e4, -1e4, 0, 1e4, -1e4, -1e4, -1e4, 1e4, 5, -3, 0, 1e4, -1e4, 2, 1e4];
    const labels = [1, 2, 4];
    const want = ce(js, x, labels, 3, 5), got = ce(hw, x, labels, 3, 5);
    expect(Number.isFinite(got.loss)).toBe(true);
    for (const v of got.d) expect(Number.isFinite(v)).toBe(true);
    expectClose([got.loss], [want.loss], 1e-6, 1e-5);
    expectClose(got.d, want.d, 1e-5, 1e-4);
    // row 0: 1e4 + ln 2 − (−1e4) (two tied maxima); row 1: ≈ 0 (label on the max); row 2: ln 2 (tied).
    expect(want.loss).toBeCloseTo((2e4 + 2 * Math.LN2) / 3, 6);
  });
  it('bceWithLogits stays finite and matches for logits of ±1e4', () => {
    const x = [1e4, -1e4, 1e4, -1e4, 30, -30, 0], t = [1, 1, 0, 0, 1, 0, 1];
    const want = bce(js, x, t), got = bce(hw, x, t);
    expect(Number.isFinite(got.loss)).toBe(true);
    for (const v of got.d) expect(Number.isFinite(v)).toBe(true);
    expectClose([got.loss], [want.loss], 1e-6, 1e-5);
    expectClose(got.d, want.d, 1e-5, 1e-4);
    expect(want.loss).toBeCloseTo((2e4 + 2 * Math.log1p(Math.exp(-30)) + Math.LN2) / 7, 6);
  });
  it('writes dlogits rather than accumulating (kernel contract)', () => {
    const x = hw.tensor([0, 0], [1, 2]), d = hw.tensor([5, 5], [1, 2]);
    const loss = hw.withInts([1], (ib) => hw.k.cross_entropy(d.buf, x.buf, ib, 1, 2));
    expect(loss).toBeCloseTo(Math.LN2, 6);
    expectClose(d.toArray(), [0.5, -0.5], 1e-7, 0);
  });
});

describe('losses: errors', () => {
  const x = js.zeros([3, 4]);
  it('crossEntropy checks the logits rank and the labels length', () => {
    expect(() => js.ops.crossEntropy(js.zeros([4]), [0, 1, 2, 3])).toThrow(HeedError);
    expect(() => js.ops.crossEntropy(js.zeros([4]), [0, 1, 2, 3])).toThrow('logits: expected a rank-2 tensor, got shape [4]');
    expect(() => js.ops.crossEntropy(x, [0, 1])).toThrow('labels: expected 3 labels (one per row of logits [3,4]), got 2');
    expect(() => js.ops.crossEntropy(x, 3 as never)).toThrow('labels: expected an array or typed array, got number');
  });
  it('crossEntropy names the offending label index and value', () => {
    expect(() => js.ops.crossEntropy(x, [0, 4, 1])).toThrow('labels[1]: expected an integer class in [0, 4), got 4');
    expect(() => js.ops.crossEntropy(x, Int32Array.from([0, 1, -1]))).toThrow('labels[2]: expected an integer class in [0, 4), got -1');
    expect(() => js.ops.crossEntropy(x, [1.5, 0, 0])).toThrow('labels[0]: expected an integer class in [0, 4), got 1.5');
    expect(() => js.ops.crossEntropy(x, [0, NaN, 0])).toThrow('labels[1]: expected an integer class in [0, 4), got NaN');
  });
  it('bceWithLogits checks the logits shape, the targets length and their range', () => {
    expect(() => js.ops.bceWithLogits(js.zeros([2, 2]), [0, 1])).toThrow('logits: expected shape [N] or [N,1], got [2,2]');
    expect(() => js.ops.bceWithLogits(js.zeros([2, 1, 1]), [0, 1])).toThrow('logits: expected a rank-1 or 2 tensor, got shape [2,1,1]');
    expect(() => js.ops.bceWithLogits(js.zeros([3]), [0, 1])).toThrow('targets: expected 3 targets (one per logit of [3]), got 2');
    expect(() => js.ops.bceWithLogits(js.zeros([3]), [0, 2, 1])).toThrow('targets[1]: expected a number in [0, 1], got 2');
    expect(() => js.ops.bceWithLogits(js.zeros([3]), Float32Array.from([0, 1, NaN]))).toThrow('targets[2]: expected a number in [0, 1], got NaN');
    expect(() => js.ops.bceWithLogits(js.zeros([3]), [0, 1, -0.5])).toThrow(HeedError);
  });
});

// ---------------------------------------------------------------- crossEntropyIgnoreIndex, mseLoss

function cei(h: H, logits: ArrayLike<number>, labels: ArrayLike<number>, N: number, C: number, ignoreIndex?: number) {
  const x = h.tensor(logits, [N, C]);
  const { loss, dlogits, count } = h.ops.crossEntropyIgnoreIndex(x, labels, ignoreIndex);
  const d = dlogits.toArray();
  x.dispose(); dlogits.dispose();
  return { loss, d, count };
}

function mse(h: H, x: ArrayLike<number>, targets: ArrayLike<number>) {
  const t = h.tensor(x, [x.length]);
  const { loss, dlogits } = h.ops.mseLoss(t, targets);
  const d = dlogits.toArray();
  t.dispose(); dlogits.dispose();
  return { loss, d };
}

/** Labels in [0, C) with about a third of them replaced by ignoreIndex (at least one kept when N > 1). */
function padded(N: number, C: number, ignoreIndex: number, seed: number): Int32Array {
  const labels = randint(N, 0, C, seed), u = rng(seed + 1);
  for (let i = 0; i < N; i++) if (u() < 0.35) labels[i] = ignoreIndex;
  if (N > 1) labels[N - 1] = (seed % C);
  return labels;
}

// N and C both run over the tail sizes (C: the f32x4 body and tail of the exp; N: the mean).
const CE_SHAPES = TAIL_DIMS.map((C, i) => [TAIL_DIMS[(i + 3) % TAIL_DIMS.length], C] as const);

describe('crossEntropyIgnoreIndex, mseLoss: js reference', () => {
  it.each(CE_SHAPES)('crossEntropyIgnoreIndex dlogits matches finite differences of the loss [%i,%i]', (N, C) => {
    const x = randn(N * C, N + C, 2), labels = padded(N, C, -100, N * C);
    const g = numericGrad((xs) => cei(js, xs, labels, N, C).loss, x);
    expectClose(cei(js, x, labels, N, C).d, g, 1e-4, 1e-2);
  });
  it.each(TAIL_DIMS)('mseLoss dlogits matches finite differences of the loss [%i]', (N) => {
    const x = randn(N, N, 2), t = randn(N, N + 1);
    const g = numericGrad((xs) => mse(js, xs, t).loss, x);
    expectClose(mse(js, x, t).d, g, 1e-4, 1e-2);
  });
  it('ignored rows add nothing: the loss is crossEntropy over the kept rows, dlogits 0 on the rest', () => {
    const N = 7, C = 5, x = randn(N * C, 11, 2), labels = [2, -100, 0, -100, -100, 4, 1];
    const keep = [0, 2, 5, 6];
    const r = cei(js, x, labels, N, C);
    const sub = ce(js, keep.flatMap((n) => [...x.subarray(n * C, n * C + C)]), keep.map((n) => labels[n]), keep.length, C);
    expect(r.count).toBe(4);
    expect(r.loss).toBeCloseTo(sub.loss, 12);
    keep.forEach((n, j) => expectClose(r.d.subarray(n * C, n * C + C), sub.d.subarray(j * C, j * C + C), 1e-7, 0));
    for (const n of [1, 3, 4]) expect([...r.d.subarray(n * C, n * C + C)]).toEqual([0, 0, 0, 0, 0]);
  });
  it('with no label ignored it equals crossEntropy', () => {
    const x = randn(4 * 3, 5), labels = [0, 2, 1, 1];
    const a = cei(js, x, labels, 4, 3), b = ce(js, x, labels, 4, 3);
    expect(a.count).toBe(4);
    expect(a.loss).toBe(b.loss);
    expect([...a.d]).toEqual([...b.d]);
  });
  it('known answers: MSE of [1,2,3] against [1,0,0] is 13/3 with gradient [0, 4/3, 2]', () => {
    const r = mse(js, [1, 2, 3], [1, 0, 0]);
    expect(r.loss).toBeCloseTo(13 / 3, 12);
    expectClose(r.d, [0, 4 / 3, 2], 1e-7, 1e-7);
  });
});

describe.each([...WASM_BACKENDS, 'js'] as const)('crossEntropyIgnoreIndex, mseLoss: edge cases on %s', async (backend) => {
  const h = backend === 'js' ? js : await init({ backend });
  it('N = 0 gives loss 0 (not NaN) and empty gradients', () => {
    const c = h.ops.crossEntropyIgnoreIndex(h.zeros([0, 3]), []);
    expect(c.loss).toBe(0);
    expect(c.count).toBe(0);
    expect(c.dlogits.shape).toEqual([0, 3]);
    const m = h.ops.mseLoss(h.zeros([0]), new Float32Array(0));
    expect(m.loss).toBe(0);
    expect(m.dlogits.shape).toEqual([0]);
    const m2 = h.ops.mseLoss(h.zeros([3, 0]), []);
    expect(m2.dlogits.shape).toEqual([3, 0]);
  });
  it('every row ignored gives loss 0 and dlogits all 0 (PyTorch gives NaN; heed deliberately 0)', () => {
    // C = 5: the zeroing covers the f32x4 body and the tail; dlogits starts as whatever memory held.
    const x = randn(3 * 5, 9, 1e3);
    for (const ii of [-100, 0, 4, 2147483647, -2147483648]) {
      const r = cei(h, x, [ii, ii, ii], 3, 5, ii);
      expect(r.loss).toBe(0);
      expect(r.count).toBe(0);
      expect([...r.d]).toEqual(new Array(15).fill(0));
    }
  });
  it('an ignoreIndex inside [0, C) ignores that class, as PyTorch does', () => {
    const x = [1, 2, 3, 0.5, -1, 4, 0, 0, 0], labels = [1, 2, 1];   // ignore class 1: only row 1 counts
    const r = cei(h, x, labels, 3, 3, 1);
    expect(r.count).toBe(1);
    const lse = Math.log(Math.exp(0.5) + Math.exp(-1) + Math.exp(4));
    expect(r.loss).toBeCloseTo(lse - 4, 5);
    expectClose(r.d.subarray(0, 3), [0, 0, 0], 0, 0);
    expectClose(r.d.subarray(6, 9), [0, 0, 0], 0, 0);
  });
});

describe.each(WASM_BACKENDS)('crossEntropyIgnoreIndex, mseLoss: %s against js', async (backend) => {
  const hw = await init({ backend });
  it.each(CE_SHAPES)('crossEntropyIgnoreIndex agrees [%i,%i] (ignoreIndex -100)', (N, C) => {
    const x = randn(N * C, N * 100 + C, 3), labels = padded(N, C, -100, N + C);
    const want = cei(js, x, labels, N, C), got = cei(hw, x, labels, N, C);
    expect(got.count).toBe(want.count);
    expectClose([got.loss], [want.loss], 1e-6, 1e-5);
    expectClose(got.d, want.d, 1e-5, 1e-4);
  });
  it.each(CE_SHAPES)('crossEntropyIgnoreIndex agrees [%i,%i] (ignoreIndex 0, a class)', (N, C) => {
    const x = randn(N * C, N * 100 + C, 4), labels = randint(N, 0, C, N * 3 + C);
    const want = cei(js, x, labels, N, C, 0), got = cei(hw, x, labels, N, C, 0);
    expectClose([got.loss], [want.loss], 1e-6, 1e-5);
    expectClose(got.d, want.d, 1e-5, 1e-4);
  });
  it('crossEntropyIgnoreIndex agrees with crossEntropy bit for bit when nothing is ignored', () => {
    const x = randn(5 * 13, 17), labels = randint(5, 0, 13, 18);
    const a = cei(hw, x, labels, 5, 13), b = ce(hw, x, labels, 5, 13);
    expect(a.loss).toBe(b.loss);
    expect([...a.d]).toEqual([...b.d]);
  });
  it.each(TAIL_DIMS)('mseLoss agrees [%i]', (N) => {
    const x = randn(N, N * 7, 3), t = randn(N, N * 7 + 1, 3);
    const want = mse(js, x, t), got = mse(hw, x, t);
    expectClose([got.loss], [want.loss], 1e-6, 1e-5);
    expectClose(got.d, want.d, 1e-5, 1e-4);
  });
  it('crossEntropyIgnoreIndex stays finite and matches for logits of ±1e4', () => {
    const x = [1e4, -1e4, 0, 1e4, -1e4, -1e4, -1e4, 1e4, 5, -3, 0, 1e4, -1e4, 2, 1e4, 1e4, 1e4, 1e4, 1e4, 1e4];
    const labels = [1, -100, 4, 0];
    const want = cei(js, x, labels, 4, 5), got = cei(hw, x, labels, 4, 5);
    for (const v of got.d) expect(Number.isFinite(v)).toBe(true);
    expectClose([got.loss], [want.loss], 1e-6, 1e-5);
    expectClose(got.d, want.d, 1e-5, 1e-4);
    // row 0: 1e4 + ln 2 − (−1e4); row 2: ln 2 (tied maxima); row 3: ln 5; averaged over 3 rows.
    expect(want.loss).toBeCloseTo((2e4 + 2 * Math.LN2 + Math.log(5)) / 3, 6);
  });
  it('mseLoss sums the squares in f64: 4099 values agree with the reference to 1e-12 relative', () => {
    const x = randn(4099, 41, 100), t = randn(4099, 42);
    const want = mse(js, x, t), got = mse(hw, x, t);
    expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(1e-12);
  });
  it('mseLoss stays exact for ±1e4 differences beside small ones', () => {
    const x = [1e4, -1e4, 1e-3, 0, 3, -2, 1e4, 0.5, 7], t = [-1e4, 1e4, 0, 1e-3, 3, 2, 1e4, 0, -7];
    const want = mse(js, x, t), got = mse(hw, x, t);
    expectClose([got.loss], [want.loss], 1e-6, 1e-7);
    expectClose(got.d, want.d, 1e-5, 1e-6);
    expect(want.loss).toBeCloseTo((2 * 4e8 + 2 * Math.fround(1e-3) ** 2 + 16 + 0.25 + 196) / 9, 3);
  });
  it('both write dlogits rather than accumulating (kernel contract)', () => {
    const x = hw.tensor([0, 0, 9, 9], [2, 2]), d = hw.tensor([5, 5, 5, 5], [2, 2]);
    const loss = hw.withInts([1, -1], (ib) => hw.k.cross_entropy_ignore_index(d.buf, x.buf, ib, 2, 2, -1));
    expect(loss).toBeCloseTo(Math.LN2, 6);
    expectClose(d.toArray(), [0.5, -0.5, 0, 0], 1e-7, 0);
    const y = hw.tensor([1, 2], [2]), t = hw.tensor([0, 0], [2]), dy = hw.tensor([5, 5], [2]);
    expect(hw.k.mse_loss(dy.buf, y.buf, t.buf, 2)).toBeCloseTo(2.5, 6);
    expectClose(dy.toArray(), [1, 2], 1e-7, 0);
    for (const a of [x, d, y, t, dy]) a.dispose();
  });
});

describe('crossEntropyIgnoreIndex, mseLoss: errors', () => {
  const x = js.zeros([3, 4]);
  it('crossEntropyIgnoreIndex checks the logits rank, the labels and the ignoreIndex', () => {
    expect(() => js.ops.crossEntropyIgnoreIndex(js.zeros([4]), [0, 1, 2, 3])).toThrow('logits: expected a rank-2 tensor, got shape [4]');
    expect(() => js.ops.crossEntropyIgnoreIndex(x, [0, 1])).toThrow('labels: expected 3 labels (one per row of logits [3,4]), got 2');
    expect(() => js.ops.crossEntropyIgnoreIndex(x, 3 as never)).toThrow('labels: expected an array or typed array, got number');
    expect(() => js.ops.crossEntropyIgnoreIndex(x, [0, 4, 1])).toThrow('labels[1]: expected an integer class in [0, 4) or the ignoreIndex -100, got 4');
    expect(() => js.ops.crossEntropyIgnoreIndex(x, [0, -1, 1])).toThrow('labels[1]: expected an integer class in [0, 4) or the ignoreIndex -100, got -1');
    expect(() => js.ops.crossEntropyIgnoreIndex(x, [0, -100, 1], -1)).toThrow('labels[1]: expected an integer class in [0, 4) or the ignoreIndex -1, got -100');
    expect(() => js.ops.crossEntropyIgnoreIndex(x, [0, NaN, 1])).toThrow('labels[1]: expected an integer class in [0, 4) or the ignoreIndex -100, got NaN');
    expect(() => js.ops.crossEntropyIgnoreIndex(x, [0, 1, 2], 1.5)).toThrow('ignoreIndex: expected an int32 integer, got 1.5');
    expect(() => js.ops.crossEntropyIgnoreIndex(x, [0, 1, 2], 2 ** 31)).toThrow('ignoreIndex: expected an int32 integer, got 2147483648');
    expect(() => js.ops.crossEntropyIgnoreIndex(x, [0, 1, 2], NaN)).toThrow(HeedError);
    expect(() => js.ops.crossEntropyIgnoreIndex(x, [0, 1, 2], '1' as never)).toThrow('ignoreIndex: expected an int32 integer, got 1');
  });
  it('mseLoss checks the targets length and that they are finite', () => {
    expect(() => js.ops.mseLoss(js.zeros([2, 3]), [0, 1])).toThrow('targets: expected 6 targets (one per value of x [2,3]), got 2');
    expect(() => js.ops.mseLoss(js.zeros([3]), [0, NaN, 1])).toThrow('targets[1]: expected a finite number, got NaN');
    expect(() => js.ops.mseLoss(js.zeros([3]), Float32Array.from([0, 1, Infinity]))).toThrow('targets[2]: expected a finite number, got Infinity');
    expect(() => js.ops.mseLoss(js.zeros([2]), null as never)).toThrow('targets: expected an array or typed array, got null');
    expect(() => js.ops.mseLoss([1, 2] as never, [0, 1])).toThrow('x: expected a Tensor, got object');
  });
});

describe.each(WASM_BACKENDS)('crossEntropyIgnoreIndex, mseLoss: %s uses the labels and targets it checked', async (backend) => {
  const hw = await init({ backend });
  /** An array whose elements read honestly once, then as `later` (a caller mutating it mid-call). */
  const changing = (first: number[], later: number[]): number[] => {
    const reads = new Map<PropertyKey, number>();
    return new Proxy(first, {
      get(_, key) {
        const n = (reads.get(key) ?? 0) + 1;
        reads.set(key, n);
        return Reflect.get(n <= 1 ? first : later, key);
      },
    });
  };
  it('each label and target is read once, into the copy the kernel gets', () => {
    const logits = hw.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const want = hw.ops.crossEntropyIgnoreIndex(logits, [-100, 0]).loss;
    expect(hw.ops.crossEntropyIgnoreIndex(logits, changing([-100, 0], [4000, -4000])).loss).toBe(want);
    const x = hw.tensor([0.5, -1], [2]);
    expect(hw.ops.mseLoss(x, changing([1, 0], [NaN, 1e30])).loss).toBe(hw.ops.mseLoss(x, [1, 0]).loss);
  });
});
