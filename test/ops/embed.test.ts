// The embed kernels have no public op (the models call them): they are tested at kernel level
// through each context's kernel table, with tokens copied into backend storage by withInts.
import { describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { TAIL_DIMS, dotf, expectClose, numericGrad, randint, randn } from '../util.js';
import { WASM_BACKENDS } from './backends.js';

const js = await init({ backend: 'js' });
type H = typeof js;
const SHAPES = TAIL_DIMS.map((C, i) => [1 + (i % 4), C] as const);

/** Tokens with padding (0), repeated ids and, for B > 1, an all-padding row 1. */
function poolTokens(B: number, T: number, seed: number): Int32Array {
  const tok = randint(B * T, 0, 4, seed);
  if (B > 1) tok.fill(0, T, 2 * T);
  return tok;
}

function embedding(h: H, tokens: Int32Array, w: Float32Array, dout: Float32Array, V: number, C: number) {
  const N = tokens.length;
  const wt = h.tensor(w, [V, C]), dt = h.tensor(dout, [N, C]), out = h.zeros([N, C]), dw = h.zeros([V, C]);
  h.withInts(tokens, (ib) => {
    h.k.embedding_forward(out.buf, ib, wt.buf, N, C);
    h.k.embedding_backward(dw.buf, ib, dt.buf, N, C);
  });
  const r = [out.toArray(), dw.toArray()];
  for (const t of [wt, dt, out, dw]) t.dispose();
  return r;
}

function bias(h: H, y0: Float32Array, b: Float32Array, dy: Float32Array, N: number, C: number) {
  const y = h.tensor(y0, [N, C]), bt = h.tensor(b, [C]), dyt = h.tensor(dy, [N, C]), db = h.zeros([C]);
  h.k.bias_forward(y.buf, bt.buf, N, C);
  h.k.bias_backward(db.buf, dyt.buf, N, C);
  const r = [y.toArray(), db.toArray()];
  for (const t of [y, bt, dyt, db]) t.dispose();
  return r;
}

function pool(h: H, x: Float32Array, tokens: Int32Array, dout: Float32Array, B: number, T: number, C: number) {
  const xt = h.tensor(x, [B, T, C]), dt = h.tensor(dout, [B, C]);
  const out = h.tensor(new Float32Array(B * C).fill(7), [B, C]);   // garbage: forward must overwrite
  const dx = h.zeros([B, T, C]);
  h.withInts(tokens, (ib) => {
    h.k.mean_pool_forward(out.buf, xt.buf, ib, B, T, C);
    h.k.mean_pool_backward(dx.buf, dt.buf, ib, B, T, C);
  });
  const r = [out.toArray(), dx.toArray()];
  for (const t of [xt, dt, out, dx]) t.dispose();
  return r;
}

function maskAndAdd(h: H, tokens: Int32Array, a: Float32Array, b: Float32Array) {
  const n = tokens.length;
  const mask = h.zeros([n]), at = h.tensor(a, [n]), bt = h.tensor(b, [n]), y = h.zeros([n]);
  h.withInts(tokens, (ib) => h.k.token_mask(mask.buf, ib, n));
  h.k.add_forward(y.buf, at.buf, bt.buf, n);
  h.k.add_forward(at.buf, at.buf, bt.buf, n);       // y aliases a
  h.k.add_forward(bt.buf, at.buf, bt.buf, n);       // y aliases b: b + (a + b)
  const r = [mask.toArray(), y.toArray(), at.toArray(), bt.toArray()];
  for (const t of [mask, at, bt, y]) t.dispose();
  return r;
}

describe('embed kernels: js reference against finite differences', () => {
  it.each(SHAPES)('embedding_backward is the gradient of embedding_forward [N %i, C %i]', (N, C) => {
    const V = 5, tokens = randint(N + 2, 0, V, N * 10 + C); // N + 2 ≥ 3 rows over 5 ids: repeats likely
    const w = randn(V * C, 1), dout = randn((N + 2) * C, 2);
    const L = (ws: Float32Array) => dotf(embedding(js, tokens, ws, dout, V, C)[0], dout);
    expectClose(embedding(js, tokens, w, dout, V, C)[1], numericGrad(L, w), 2e-3, 1e-2);
  });
  it.each(SHAPES)('bias_backward is the gradient of bias_forward [N %i, C %i]', (N, C) => {
    const y0 = randn(N * C, 3), b = randn(C, 4), dy = randn(N * C, 5);
    const L = (bs: Float32Array) => dotf(bias(js, y0, bs, dy, N, C)[0], dy);
    expectClose(bias(js, y0, b, dy, N, C)[1], numericGrad(L, b), 2e-3, 1e-2);
  });
  it.each(SHAPES)('mean_pool_backward is the gradient of mean_pool_forward [B %i, C %i]', (B, C) => {
    const T = 3, tokens = poolTokens(B, T, B * 10 + C), x = randn(B * T * C, 6), dout = randn(B * C, 7);
    const L = (xs: Float32Array) => dotf(pool(js, xs, tokens, dout, B, T, C)[0], dout);
    expectClose(pool(js, x, tokens, dout, B, T, C)[1], numericGrad(L, x), 2e-3, 1e-2);
  });
});

describe('embed kernels: js reference known answers', () => {
  it('looks up rows and scatter-adds repeated tokens', () => {
    const w = Float32Array.from([0, 0, 1, 2, 3, 4]);              // V 3, C 2
    const [out, dw] = embedding(js, Int32Array.from([2, 1, 2]), w, Float32Array.from([1, 1, 10, 20, 100, 200]), 3, 2);
    expect([...out]).toEqual([3, 4, 1, 2, 3, 4]);
    expect([...dw]).toEqual([0, 0, 10, 20, 101, 201]);
  });
  it('adds a bias to every row and sums dy over rows', () => {
    const [y, db] = bias(js, Float32Array.from([1, 2, 3, 4]), Float32Array.from([10, 20]), Float32Array.from([1, 2, 3, 4]), 2, 2);
    expect([...y]).toEqual([11, 22, 13, 24]);
    expect([...db]).toEqual([4, 6]);
  });
  it('pools over non-padding tokens only; an all-padding row pools to zeros with zero gradient', () => {
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 9, 9, 9, 9, 9, 9]);  // B 2, T 3, C 2
    const [out, dx] = pool(js, x, Int32Array.from([1, 0, 2, 0, 0, 0]), Float32Array.from([2, 4, 1, 1]), 2, 3, 2);
    expect([...out]).toEqual([3, 4, 0, 0]);
    expect([...dx]).toEqual([1, 2, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0]);
  });
  it('masks padding and adds, in place too', () => {
    const [mask, y, a2, b2] = maskAndAdd(js, Int32Array.from([5, 0, -1, 0, 1]), Float32Array.from([1, 2, 3, 4, 5]),
      Float32Array.from([10, 20, 30, 40, 50]));
    expect([...mask]).toEqual([1, 0, 1, 0, 1]);
    expect([...y]).toEqual([11, 22, 33, 44, 55]);
    expect([...a2]).toEqual([11, 22, 33, 44, 55]);
    expect([...b2]).toEqual([21, 42, 63, 84, 105]);
  });
});

describe.each(WASM_BACKENDS)('embed kernels: %s against js', async (backend) => {
  const hw = await init({ backend });
  it.each(SHAPES)('embedding forward and backward agree, repeated tokens included [N %i, C %i]', (N, C) => {
    const V = 7, tokens = randint(3 * N + 4, 0, V, N * 100 + C);  // more rows than ids: repeats
    tokens[0] = tokens[1] = tokens[2] = 3;
    const w = randn(V * C, C), dout = randn(tokens.length * C, C + 1);
    const want = embedding(js, tokens, w, dout, V, C), got = embedding(hw, tokens, w, dout, V, C);
    got.forEach((a, i) => expectClose(a, want[i], 1e-5, 1e-4));
  });
  it.each(SHAPES)('bias forward and backward agree [N %i, C %i]', (N, C) => {
    const NN = N * 5, y0 = randn(NN * C, C), b = randn(C, C + 1), dy = randn(NN * C, C + 2);
    const want = bias(js, y0, b, dy, NN, C), got = bias(hw, y0, b, dy, NN, C);
    got.forEach((a, i) => expectClose(a, want[i], 1e-5, 1e-4));
  });
  it.each(SHAPES)('mean pool forward and backward agree, all-padding row included [B %i, C %i]', (B, C) => {
    const T = 5, B2 = B + 1, tokens = poolTokens(B2, T, B * 100 + C);
    const x = randn(B2 * T * C, C), dout = randn(B2 * C, C + 1);
    const want = pool(js, x, tokens, dout, B2, T, C), got = pool(hw, x, tokens, dout, B2, T, C);
    got.forEach((a, i) => expectClose(a, want[i], 1e-5, 1e-4));
    expect([...got[0].subarray(C, 2 * C)]).toEqual(new Array(C).fill(0));   // row 1 is all padding
    for (const v of [...got[0], ...got[1]]) expect(Number.isFinite(v)).toBe(true);
  });
  it.each(TAIL_DIMS)('token_mask and add_forward (aliased too) agree [n %i]', (n) => {
    const tokens = randint(n, -1, 3, n), a = randn(n, n), b = randn(n, n + 1);
    const want = maskAndAdd(js, tokens, a, b), got = maskAndAdd(hw, tokens, a, b);
    got.forEach((v, i) => expectClose(v, want[i], 0, 0));
  });
  it('the known answers hold here too', () => {
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 9, 9, 9, 9, 9, 9]);
    const [out, dx] = pool(hw, x, Int32Array.from([1, 0, 2, 0, 0, 0]), Float32Array.from([2, 4, 1, 1]), 2, 3, 2);
    expect([...out]).toEqual([3, 4, 0, 0]);
    expect([...dx]).toEqual([1, 2, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0]);
    const [, dw] = embedding(hw, Int32Array.from([2, 1, 2]), new Float32Array(6), Float32Array.from([1, 1, 10, 20, 100, 200]), 3, 2);
    expect([...dw]).toEqual([0, 0, 10, 20, 101, 201]);
  });
});
