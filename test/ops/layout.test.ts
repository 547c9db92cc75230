// Head layout kernels (no public op): known layout, adjointness of each backward, backend parity.
import { describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { dotf, expectClose, randn } from '../util.js';
import { WASM_BACKENDS } from './backends.js';

type H = Awaited<ReturnType<typeof init>>;
const js = await init({ backend: 'js' });
const SHAPES = [[1, 1, 1, 1], [2, 3, 2, 5], [1, 5, 3, 4], [2, 7, 1, 13], [1, 4, 4, 8]] as const;

function split(h: H, qkv: Float32Array, B: number, T: number, Hh: number, D: number) {
  const src = h.tensor(qkv, [B, T, 3 * Hh * D]);
  const [q, k, v] = [0, 1, 2].map(() => h.zeros([B, Hh, T, D]));
  h.k.split_heads_forward(q.buf, k.buf, v.buf, src.buf, B, T, Hh, D);
  return [q, k, v].map((t) => t.toArray());
}
function splitBack(h: H, dq: Float32Array, dk: Float32Array, dv: Float32Array, B: number, T: number, Hh: number, D: number) {
  const [a, b, c] = [dq, dk, dv].map((x) => h.tensor(x, [B, Hh, T, D]));
  const d = h.tensor(new Float32Array(B * T * 3 * Hh * D).fill(1), [B, T, 3 * Hh * D]); // accumulates onto 1
  h.k.split_heads_backward(d.buf, a.buf, b.buf, c.buf, B, T, Hh, D);
  return d.toArray().map((x) => x - 1);
}
function merge(h: H, x: Float32Array, B: number, T: number, Hh: number, D: number) {
  const src = h.tensor(x, [B, Hh, T, D]), y = h.zeros([B, T, Hh * D]);
  h.k.merge_heads_forward(y.buf, src.buf, B, T, Hh, D);
  return y.toArray();
}
function mergeBack(h: H, dy: Float32Array, B: number, T: number, Hh: number, D: number) {
  const g = h.tensor(dy, [B, T, Hh * D]), dx = h.tensor(new Float32Array(B * Hh * T * D).fill(1), [B, Hh, T, D]);
  h.k.merge_heads_backward(dx.buf, g.buf, B, T, Hh, D);
  return dx.toArray().map((x) => x - 1);
}

describe('head layout: js reference', () => {
  it('splits [B,T,3,H,D] rows into q, k, v heads (known answer)', () => {
    // B=1, T=2, H=2, D=1: row t holds q0 q1 k0 k1 v0 v1.
    const [q, k, v] = split(js, Float32Array.from([1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16]), 1, 2, 2, 1);
    expect([...q]).toEqual([1, 11, 2, 12]);
    expect([...k]).toEqual([3, 13, 4, 14]);
    expect([...v]).toEqual([5, 15, 6, 16]);
  });
  it.each(SHAPES)('backwards are the adjoints of the forwards [B%i T%i H%i D%i]', (B, T, Hh, D) => {
    const n = B * T * Hh * D, x = randn(3 * n, 1), g = [randn(n, 2), randn(n, 3), randn(n, 4)];
    const ys = split(js, x, B, T, Hh, D);
    expect(dotf(ys[0], g[0]) + dotf(ys[1], g[1]) + dotf(ys[2], g[2])).toBeCloseTo(dotf(x, splitBack(js, g[0], g[1], g[2], B, T, Hh, D)), 4);
    const m = merge(js, g[0], B, T, Hh, D);
    expect(dotf(m, g[1])).toBeCloseTo(dotf(g[0], mergeBack(js, g[1], B, T, Hh, D)), 4);
  });
  it('merge undoes the head split of a [B,T,H,D] tensor', () => {
    const B = 2, T = 3, Hh = 2, D = 3, x = randn(3 * B * T * Hh * D, 5);
    const [q] = split(js, x, B, T, Hh, D);
    const y = merge(js, q, B, T, Hh, D);
    for (let bt = 0; bt < B * T; bt++) expect([...y.subarray(bt * Hh * D, (bt + 1) * Hh * D)]).toEqual([...x.subarray(bt * 3 * Hh * D, bt * 3 * Hh * D + Hh * D)]);
  });
});

describe.each(WASM_BACKENDS)('head layout: %s against js', async (backend) => {
  const hw = await init({ backend });
  it.each(SHAPES)('all four kernels agree [B%i T%i H%i D%i]', (B, T, Hh, D) => {
    const n = B * T * Hh * D, x = randn(3 * n, 6), g = [randn(n, 7), randn(n, 8), randn(n, 9)];
    split(hw, x, B, T, Hh, D).forEach((a, i) => expectClose(a, split(js, x, B, T, Hh, D)[i], 0, 0));
    expectClose(splitBack(hw, g[0], g[1], g[2], B, T, Hh, D), splitBack(js, g[0], g[1], g[2], B, T, Hh, D), 1e-6, 1e-6);
    expectClose(merge(hw, g[0], B, T, Hh, D), merge(js, g[0], B, T, Hh, D), 0, 0);
    expectClose(mergeBack(hw, g[1], B, T, Hh, D), mergeBack(js, g[1], B, T, Hh, D), 1e-6, 1e-6);
  });
});
