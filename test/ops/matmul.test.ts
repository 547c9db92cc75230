import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import { expectClose, randn } from '../util.js';
import { WASM_BACKENDS } from './backends.js';

const js = await init({ backend: 'js' });

// [batch (0 = rank 2), M, N, K]: every SIMD row tail (M % 4) and column tail (N % 8), K from 1 up,
// and M past the 64 rows the SIMD path packs per pass (65, 67, 130, 129).
const SHAPES: [number, number, number, number][] = [
  [0, 1, 1, 1], [0, 3, 5, 7], [0, 4, 8, 4], [0, 5, 13, 3], [0, 7, 17, 33], [0, 8, 9, 13],
  [0, 13, 33, 5], [0, 33, 64, 17], [0, 64, 7, 64], [2, 3, 5, 4], [3, 5, 17, 8], [2, 17, 13, 33],
  [0, 65, 8, 3], [0, 67, 9, 5], [0, 130, 19, 6], [2, 129, 24, 7],
];

type H = typeof js;
function run(h: H, [batch, M, N, K]: number[], transA: boolean, transB: boolean, sharedB: boolean, seed: number) {
  const aShape = transA ? [K, M] : [M, K], bShape = transB ? [N, K] : [K, N];
  const B = batch || 1;
  const a = h.tensor(randn(B * M * K, seed), batch ? [batch, ...aShape] : aShape);
  const b = h.tensor(randn((sharedB ? 1 : B) * K * N, seed + 1), batch && !sharedB ? [batch, ...bShape] : bShape);
  const c = h.ops.matmul(a, b, { transA, transB });
  const out = { shape: [...c.shape], values: c.toArray() };
  for (const t of [a, b, c]) t.dispose();
  return out;
}

describe('matmul: js reference known answers', () => {
  it('multiplies a 2x3 by a 3x2', () => {
    const a = js.tensor([1, 2, 3, 4, 5, 6], [2, 3]), b = js.tensor([7, 8, 9, 10, 11, 12], [3, 2]);
    expect([...js.ops.matmul(a, b).toArray()]).toEqual([58, 64, 139, 154]);
  });
  it('transB reads b as [N,K] (PyTorch Linear layout) and transA reads a as [K,M]', () => {
    const a = js.tensor([1, 2, 3, 4, 5, 6], [2, 3]), w = js.tensor([7, 9, 11, 8, 10, 12], [2, 3]);
    expect([...js.ops.matmul(a, w, { transB: true }).toArray()]).toEqual([58, 64, 139, 154]);
    const at = js.tensor([1, 4, 2, 5, 3, 6], [3, 2]), b = js.tensor([7, 8, 9, 10, 11, 12], [3, 2]);
    expect([...js.ops.matmul(at, b, { transA: true }).toArray()]).toEqual([58, 64, 139, 154]);
  });
  it('shares a rank-2 b across the batch', () => {
    const a = js.tensor([1, 0, 0, 1, 2, 0, 0, 2], [2, 2, 2]), b = js.tensor([1, 2, 3, 4], [2, 2]);
    const c = js.ops.matmul(a, b);
    expect(c.shape).toEqual([2, 2, 2]);
    expect([...c.toArray()]).toEqual([1, 2, 3, 4, 2, 4, 6, 8]);
  });
});

describe.each(WASM_BACKENDS)('matmul: %s against js', async (backend) => {
  const hw = await init({ backend });
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it.each(SHAPES)(`transA=${transA} transB=${transB} [batch %i, M %i, N %i, K %i]`, (...shape) => {
        const seed = shape.reduce((s, d) => s * 31 + d, 7);
        for (const shared of shape[0] ? [false, true] : [false]) {
          const want = run(js, shape, transA, transB, shared, seed), got = run(hw, shape, transA, transB, shared, seed);
          expect(got.shape).toEqual(want.shape);
          expectClose(got.values, want.values, 1e-5, 1e-4);
        }
      });
    }
  }
  it('handles K = 0 (a zero matrix) and empty outputs', () => {
    const c = hw.ops.matmul(hw.zeros([3, 0]), hw.zeros([0, 5]));
    expect(c.shape).toEqual([3, 5]);
    expect([...c.toArray()]).toEqual(new Array(15).fill(0));
    expect(hw.ops.matmul(hw.zeros([0, 4]), hw.zeros([4, 5])).shape).toEqual([0, 5]);
  });
});

describe('matmul: errors name the arguments and both shapes', () => {
  it('rejects mismatched inner dimensions', () => {
    expect(() => js.ops.matmul(js.zeros([2, 3]), js.zeros([4, 5]))).toThrow(HeedError);
    expect(() => js.ops.matmul(js.zeros([2, 3]), js.zeros([4, 5]))).toThrow('inner dimensions differ (3 vs 4): a [2,3] · b [4,5]');
    expect(() => js.ops.matmul(js.zeros([2, 3]), js.zeros([4, 5]), { transB: true })).toThrow('b [4,5] (transposed)');
  });
  it('rejects wrong ranks and batch mismatches', () => {
    expect(() => js.ops.matmul(js.zeros([6]), js.zeros([6, 1]))).toThrow('a: expected a rank-2 or 3 tensor, got shape [6]');
    expect(() => js.ops.matmul(js.zeros([2, 3, 4]), js.zeros([3, 4, 5]))).toThrow('batch sizes differ: a [2,3,4], b [3,4,5]');
    expect(() => js.ops.matmul(js.zeros([3, 4]), js.zeros([2, 4, 5]))).toThrow(HeedError);
  });
});
