import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import { TAIL_DIMS, dotf, expectClose, numericGrad, randn, rng } from '../util.js';
import { ALL_BACKENDS, WASM_BACKENDS } from './backends.js';

const js = await init({ backend: 'js' });
const BACKENDS = ALL_BACKENDS;
// 'wasm' is always made: some tests compare a backend with another one.
const contexts = { js, wasm: await init({ backend: 'wasm' }) } as Record<(typeof BACKENDS)[number], typeof js>;
for (const b of WASM_BACKENDS) contexts[b] ??= await init({ backend: b });

type H = typeof js;
type Dims = readonly [B: number, H: number, T: number, S: number, D: number];
interface Opts { causal?: boolean; scale?: number }
interface Inputs { q: Float32Array; k: Float32Array; v: Float32Array; dout: Float32Array; mask?: Float32Array }

/** A [B,S] keyMask of 1 (keep) / 0 (padding), each key kept with probability `keep`. */
function randomMask(B: number, S: number, seed: number, keep = 0.7): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: B * S }, () => (u() < keep ? 1 : 0));
}

function inputs([B, H, T, S, D]: Dims, seed: number, mask?: Float32Array): Inputs {
  return { q: randn(B * H * T * D, seed), k: randn(B * H * S * D, seed + 1), v: randn(B * H * S * D, seed + 2),
           dout: randn(B * H * T * D, seed + 3), mask };
}

/** attention, attentionBackward and attentionWeights on backend h → plain arrays; frees everything. */
function run(h: H, [B, Hh, T, S, D]: Dims, inp: Inputs, opts: Opts = {}) {
  const q = h.tensor(inp.q, [B, Hh, T, D]), k = h.tensor(inp.k, [B, Hh, S, D]), v = h.tensor(inp.v, [B, Hh, S, D]);
  const dout = h.tensor(inp.dout, [B, Hh, T, D]);
  const keyMask = inp.mask ? h.tensor(inp.mask, [B, S]) : undefined;
  const o = { ...opts, keyMask };
  const out = h.ops.attention(q, k, v, o);
  const { dq, dk, dv } = h.ops.attentionBackward(q, k, v, dout, o);
  const w = h.ops.attentionWeights(q, k, o);
  const res = { out: out.toArray(), dq: dq.toArray(), dk: dk.toArray(), dv: dv.toArray(), w: w.toArray() };
  for (const t of [q, k, v, dout, keyMask, out, dq, dk, dv, w]) t?.dispose();
  return res;
}

/** An independent f64 implementation the way PyTorch's math path does it: the full T×S score
 *  matrix with −Infinity at masked keys (and where j > i when causal), softmax, then ·v. Fully
 *  masked rows are given zeros (torch would give NaN there). */
function naive([B, Hh, T, S, D]: Dims, inp: Inputs, { causal = false, scale = 1 / Math.sqrt(D) }: Opts = {}) {
  const out = new Float64Array(B * Hh * T * D), w = new Float64Array(B * Hh * T * S);
  for (let b = 0; b < B; b++) for (let h = 0; h < Hh; h++) {
    const bh = b * Hh + h;
    for (let i = 0; i < T; i++) {
      const s = Array.from({ length: S }, (_, j) => {
        if ((inp.mask && inp.mask[b * S + j] === 0) || (causal && j > i)) return -Infinity;
        return scale * dotf(inp.q.subarray((bh * T + i) * D, (bh * T + i + 1) * D), inp.k.subarray((bh * S + j) * D, (bh * S + j + 1) * D));
      });
      const m = Math.max(...s);
      if (m === -Infinity) continue;
      const e = s.map((x) => Math.exp(x - m)), l = e.reduce((a, x) => a + x, 0);
      for (let j = 0; j < S; j++) {
        const p = e[j] / l;
        w[(bh * T + i) * S + j] = p;
        for (let d = 0; d < D; d++) out[(bh * T + i) * D + d] += p * inp.v[(bh * S + j) * D + d];
      }
    }
  }
  return { out, w };
}

const noNaN = (a: Float32Array) => expect(a.some(Number.isNaN), 'NaN').toBe(false);

// [label, dims, mask, options]: every feature alone and together, T = S, T < S and T > S.
const CASES: [string, Dims, Float32Array | undefined, Opts][] = [
  ['plain', [1, 2, 3, 4, 5], undefined, {}],
  ['keyMask', [2, 1, 3, 5, 3], Float32Array.of(1, 1, 0, 1, 0, 0, 1, 1, 1, 1), {}],
  ['causal, T = S', [1, 1, 4, 4, 3], undefined, { causal: true }],
  ['causal, T < S', [1, 2, 3, 5, 2], undefined, { causal: true }],
  ['causal, T > S, keyMask', [1, 1, 5, 3, 2], Float32Array.of(1, 0, 1), { causal: true }],
  ['custom scale 0.3', [2, 1, 2, 3, 4], undefined, { scale: 0.3 }],
  ['a fully masked batch row', [2, 1, 2, 3, 2], Float32Array.of(1, 0, 1, 0, 0, 0), {}],
  ['keyMask, causal, scale 2, T ≠ S', [2, 2, 3, 4, 3], Float32Array.of(0, 1, 1, 1, 1, 1, 0, 1), { causal: true, scale: 2 }],
];

describe('attention: js reference', () => {
  it.each(CASES)('backward matches finite differences of forward: %s', (_, dims, mask, opts) => {
    const [B, Hh, T, S, D] = dims, inp = inputs(dims, 17, mask);
    const keyMask = mask && js.tensor(mask, [B, S]);
    const L = (q: Float32Array, k: Float32Array, v: Float32Array) =>   // L = Σ attention(q,k,v)·dout
      dotf(js.ops.attention(js.tensor(q, [B, Hh, T, D]), js.tensor(k, [B, Hh, S, D]), js.tensor(v, [B, Hh, S, D]),
        { ...opts, keyMask }).toArray(), inp.dout);
    const g = js.ops.attentionBackward(js.tensor(inp.q, [B, Hh, T, D]), js.tensor(inp.k, [B, Hh, S, D]),
      js.tensor(inp.v, [B, Hh, S, D]), js.tensor(inp.dout, [B, Hh, T, D]), { ...opts, keyMask });
    expectClose(g.dq.toArray(), numericGrad((x) => L(x, inp.k, inp.v), inp.q), 5e-4, 2e-3);
    expectClose(g.dk.toArray(), numericGrad((x) => L(inp.q, x, inp.v), inp.k), 5e-4, 2e-3);
    expectClose(g.dv.toArray(), numericGrad((x) => L(inp.q, inp.k, x), inp.v), 5e-4, 2e-3);
  });

  it.each(CASES)('forward and weights match a naive full-matrix implementation: %s', (_, dims, mask, opts) => {
    const inp = inputs(dims, 23, mask), got = run(js, dims, inp, opts), want = naive(dims, inp, opts);
    expectClose(got.out, want.out, 1e-6, 1e-5);
    expectClose(got.w, want.w, 1e-6, 1e-5);
  });

  it('reduces to softmax(q·kᵀ·scale) when nothing is masked', () => {
    const dims: Dims = [1, 1, 3, 4, 2], inp = inputs(dims, 5);
    const scores = Array.from({ length: 12 }, (_, r) =>
      dotf(inp.q.subarray(2 * Math.floor(r / 4), 2 * Math.floor(r / 4) + 2), inp.k.subarray(2 * (r % 4), 2 * (r % 4) + 2)) / Math.SQRT2);
    const p = js.ops.softmax(js.tensor(scores, [3, 4])).toArray();
    expectClose(run(js, dims, inp).w, p, 1e-6, 1e-5);
  });
});

describe('attention: known answers (the 3-token example, single head, D = 2)', () => {
  // q = k = v = [[1,0],[0,1],[1,1]], scale 1/√2 = 0.70710678. Scores q·kᵀ·scale:
  //   row 0: [1,0,1]·0.7071 = [0.70710678, 0, 0.70710678]
  //   row 1: [0,1,1]·0.7071 = [0, 0.70710678, 0.70710678]
  //   row 2: [1,1,2]·0.7071 = [0.70710678, 0.70710678, 1.41421356]
  // With a = e^0.70710678 = 2.02811498 and b = e^1.41421356 = 4.11325038:
  //   row 0: p = [a, 1, a]/(2a + 1) = [0.40111209, 0.19777581, 0.40111209]
  //          out = p0·[1,0] + p1·[0,1] + p2·[1,1] = [p0 + p2, p1 + p2] = [0.80222419, 0.59888791]
  //   row 1: p = [1, a, a]/(2a + 1) = [0.19777581, 0.40111209, 0.40111209] → out [0.59888791, 0.80222419]
  //   row 2: p = [a, a, b]/(2a + b) = [0.24825508, 0.24825508, 0.50348984] → out [0.75174492, 0.75174492]
  const x = [1, 0, 0, 1, 1, 1];
  const a = Math.exp(1 / Math.SQRT2), b = Math.exp(Math.SQRT2);
  const P = [[a, 1, a].map((e) => e / (2 * a + 1)), [1, a, a].map((e) => e / (2 * a + 1)), [a, a, b].map((e) => e / (2 * a + b))];
  const byHand = P.flatMap(([p0, p1, p2]) => [p0 + p2, p1 + p2]);

  it('the formulas above give the numbers written out', () => {
    expect(a).toBeCloseTo(2.02811498, 7);
    expect(b).toBeCloseTo(4.11325038, 7);
    expectClose(P.flat(), [0.40111209, 0.19777581, 0.40111209, 0.19777581, 0.40111209, 0.40111209,
      0.24825508, 0.24825508, 0.50348984], 1e-8, 0);
    expectClose(byHand, [0.80222419, 0.59888791, 0.59888791, 0.80222419, 0.75174492, 0.75174492], 1e-8, 0);
  });

  it.each(BACKENDS)('%s: weights and output', (name) => {
    const h = contexts[name], t = h.tensor(x, [1, 1, 3, 2]);
    expectClose(h.ops.attentionWeights(t, t).toArray(), P.flat(), 1e-6, 1e-6);
    expectClose(h.ops.attention(t, t, t).toArray(), byHand, 1e-6, 1e-6);
  });

  it.each(BACKENDS)('%s: causal: row 0 sees key 0, row 1 keys 0–1, row 2 everything', (name) => {
    // row 0: p = [1] → out = [1,0]; row 1: scores [0, 0.7071] → p = [1, a]/(1 + a) = [0.33023845, 0.66976155]
    const h = contexts[name], t = h.tensor(x, [1, 1, 3, 2]);
    const p1 = [1 / (1 + a), a / (1 + a)];
    expectClose(p1, [0.33023845, 0.66976155], 1e-8, 0);
    expectClose(h.ops.attentionWeights(t, t, { causal: true }).toArray(), [1, 0, 0, p1[0], p1[1], 0, ...P[2]], 1e-6, 1e-6);
    expectClose(h.ops.attention(t, t, t, { causal: true }).toArray(), [1, 0, p1[0], p1[1], byHand[4], byHand[5]], 1e-6, 1e-6);
  });

  it.each(BACKENDS)('%s: keyMask [1,1,0] drops token 2', (name) => {
    // row 0: scores [0.7071, 0] → [a, 1]/(1 + a) = [0.66976155, 0.33023845] → out [0.66976155, 0.33023845]
    // row 1: [0, 0.7071] → out [0.33023845, 0.66976155]; row 2: [0.7071, 0.7071] → p [0.5, 0.5] → out [0.5, 0.5]
    const h = contexts[name], t = h.tensor(x, [1, 1, 3, 2]), keyMask = h.tensor([1, 1, 0], [1, 3]);
    const hi = a / (1 + a), lo = 1 / (1 + a);
    expectClose(h.ops.attention(t, t, t, { keyMask }).toArray(), [hi, lo, lo, hi, 0.5, 0.5], 1e-6, 1e-6);
    expectClose(h.ops.attentionWeights(t, t, { keyMask }).toArray(), [hi, lo, 0, lo, hi, 0, 0.5, 0.5, 0], 1e-6, 1e-6);
  });
});

// [B, H, T, S, D]: D, T and S each run through every tail size with the others small.
const SHAPES: Dims[] = [
  ...TAIL_DIMS.map((D) => [1, 2, 3, 5, D] as const),
  ...TAIL_DIMS.map((T) => [2, 1, T, 7, 4] as const),   // T < S and T > S both occur (causal variant)
  ...TAIL_DIMS.map((S) => [1, 2, 5, S, 8] as const),
  [1, 1, 130, 67, 5], [1, 2, 67, 130, 8],               // several 64-row tiles; GEMMs past 64 rows
];
const VARIANTS: [string, boolean, Opts][] = [
  ['plain', false, {}], ['keyMask', true, {}], ['causal', false, { causal: true }],
  ['keyMask + causal + scale 0.37', true, { causal: true, scale: 0.37 }],
];

describe.each(WASM_BACKENDS)('attention: %s against js', (backend) => {
  const hw = contexts[backend];
  it.each(SHAPES)('forward, backward and weights agree [B %i, H %i, T %i, S %i, D %i]', (...dims) => {
    const seed = dims.reduce((s, d) => s * 31 + d, 3);
    for (const [label, withMask, opts] of VARIANTS) {
      const inp = inputs(dims, seed, withMask ? randomMask(dims[0], dims[3], seed) : undefined);
      const want = run(js, dims, inp, opts), got = run(hw, dims, inp, opts);
      for (const key of ['out', 'dq', 'dk', 'dv', 'w'] as const) {
        noNaN(got[key]);
        try {
          expectClose(got[key], want[key], 1e-5, 1e-4);
        } catch (e) {
          throw new Error(`${label}, ${key}: ${(e as Error).message}`);
        }
      }
    }
  });

  it('logits of ±1e4 (integer q, k, scale 1: exact scores) stay finite and agree', () => {
    const dims: Dims = [1, 2, 6, 9, 4], [B, Hh, T, S, D] = dims, u = rng(99);
    const int = (n: number) => Float32Array.from({ length: n }, () => Math.round(u() * 200 - 100));
    const inp: Inputs = { q: int(B * Hh * T * D), k: int(B * Hh * S * D), v: randn(B * Hh * S * D, 1), dout: randn(B * Hh * T * D, 2) };
    let top = 0;                                     // the largest |q·k| over every (query, key) pair
    for (let bh = 0; bh < B * Hh; bh++) for (let i = 0; i < T; i++) for (let j = 0; j < S; j++) {
      top = Math.max(top, Math.abs(dotf(inp.q.subarray((bh * T + i) * D, (bh * T + i + 1) * D), inp.k.subarray((bh * S + j) * D, (bh * S + j + 1) * D))));
    }
    expect(top).toBeGreaterThan(1e4);
    for (const opts of [{ scale: 1 }, { scale: 1, causal: true }]) {
      const want = run(js, dims, inp, opts), got = run(hw, dims, inp, opts);
      for (const key of ['out', 'dq', 'dk', 'dv', 'w'] as const) {
        noNaN(got[key]);
        expectClose(got[key], want[key], 1e-5, 1e-4);
      }
    }
    expectClose(run(hw, dims, inp, { scale: 1 }).out, naive(dims, inp, { scale: 1 }).out, 1e-5, 1e-4);
  });

  it('a fully masked row gives zeros and zero gradients, never NaN', () => {
    const dims: Dims = [3, 2, 4, 5, 6], mask = Float32Array.of(1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    for (const opts of [{}, { causal: true }]) {
      const inp = inputs(dims, 8, mask), got = run(hw, dims, inp, opts), want = run(js, dims, inp, opts);
      const row = (a: Float32Array, b: number, n: number) => [...a.subarray(b * n, (b + 1) * n)];
      for (const key of ['out', 'dq', 'dk', 'dv', 'w'] as const) {
        noNaN(got[key]);
        expectClose(got[key], want[key], 1e-5, 1e-4);
      }
      expect(row(got.out, 1, 2 * 4 * 6)).toEqual(new Array(48).fill(0));  // batch 1: every key padding
      expect(row(got.dq, 1, 48)).toEqual(new Array(48).fill(0));
      expect(row(got.dk, 1, 2 * 5 * 6)).toEqual(new Array(60).fill(0));
      expect(row(got.dv, 1, 60)).toEqual(new Array(60).fill(0));
      expect(row(got.w, 1, 2 * 4 * 5)).toEqual(new Array(40).fill(0));
    }
    // causal + a mask that hides key 0 only: query 0 of every head sees nothing
    const inp = inputs([1, 1, 3, 3, 4], 4, Float32Array.of(0, 1, 1));
    const got = run(hw, [1, 1, 3, 3, 4], inp, { causal: true });
    expect([...got.out.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...got.dq.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...got.w.subarray(0, 3)]).toEqual([0, 0, 0]);
  });

  it('causal with T ≠ S aligns top-left (query i sees keys 0..i), as torch is_causal does', () => {
    for (const dims of [[1, 2, 3, 8, 5], [1, 2, 8, 3, 5]] as Dims[]) {
      const [, , T, S] = dims, inp = inputs(dims, 12), got = run(hw, dims, inp, { causal: true });
      const want = naive(dims, inp, { causal: true });
      expectClose(got.out, want.out, 1e-5, 1e-4);
      expectClose(got.w, want.w, 1e-5, 1e-4);
      for (let r = 0; r < 2 * T; r++) {
        const i = r % T;
        for (let j = i + 1; j < S; j++) expect(got.w[r * S + j]).toBe(0);
      }
    }
  });
});

describe.each(BACKENDS)('attention on %s: weights, memory, empty sizes', (backend) => {
  const h = contexts[backend];
  it('rows sum to 1 (0 when fully masked) and attention = weights·v', () => {
    const dims: Dims = [2, 2, 5, 7, 6], [B, Hh, T, S, D] = dims;
    const mask = Float32Array.of(1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0);
    for (const opts of [{}, { causal: true }, { scale: 0.5 }]) {
      const inp = inputs(dims, 31, mask), { out, w } = run(h, dims, inp, opts);
      for (let r = 0; r < B * Hh * T; r++) {
        const sum = w.subarray(r * S, (r + 1) * S).reduce((s, x) => s + x, 0);
        expect(sum).toBeCloseTo(r < Hh * T ? 1 : 0, 5);
        const b = Math.floor(r / (Hh * T)), bh = Math.floor(r / T);
        for (let j = 0; j < S; j++) if (mask[b * S + j] === 0) expect(w[r * S + j]).toBe(0);
        for (let d = 0; d < D; d++) {
          let wv = 0;
          for (let j = 0; j < S; j++) wv += w[r * S + j] * inp.v[(bh * S + j) * D + d];
          expect(out[r * D + d]).toBeCloseTo(wv, 5);
        }
      }
    }
  });

  it('frees its temporaries: only the results stay live, and no T×S buffer is ever made', () => {
    const T = 1024, S = 1024, D = 4;   // a T×S f32 buffer would be 4 MB
    const q = h.tensor(randn(T * D, 1), [1, 1, T, D]), k = h.tensor(randn(S * D, 2), [1, 1, S, D]);
    const v = h.tensor(randn(S * D, 3), [1, 1, S, D]), dout = h.tensor(randn(T * D, 4), [1, 1, T, D]);
    const before = h.memory();
    const out = h.ops.attention(q, k, v, { causal: true });
    const g = h.ops.attentionBackward(q, k, v, dout, { causal: true });
    const after = h.memory();
    expect(after.tensors).toBe(before.tensors + 4);
    expect(after.tensorBytes - before.tensorBytes).toBe(4 * (T * D + T * D + 2 * S * D));
    if (backend !== 'js') expect(after.bytes - before.bytes).toBeLessThan((T * S * 4) / 2);
    noNaN(out.toArray());
    for (const t of [q, k, v, dout, out, g.dq, g.dk, g.dv]) t.dispose();
    expect(h.memory().tensors).toBe(before.tensors - 4);
  });

  it('handles empty sizes without a kernel call', () => {
    expect(h.ops.attention(h.zeros([1, 2, 0, 4]), h.zeros([1, 2, 3, 4]), h.zeros([1, 2, 3, 4])).shape).toEqual([1, 2, 0, 4]);
    // S = 0: no keys, every row is masked → zeros
    const out = h.ops.attention(h.tensor([1, 2, 3, 4], [1, 1, 2, 2]), h.zeros([1, 1, 0, 2]), h.zeros([1, 1, 0, 2]));
    expect([...out.toArray()]).toEqual([0, 0, 0, 0]);
    const g = h.ops.attentionBackward(h.zeros([1, 1, 2, 2]), h.zeros([1, 1, 0, 2]), h.zeros([1, 1, 0, 2]), h.zeros([1, 1, 2, 2]));
    expect([...g.dq.toArray()]).toEqual([0, 0, 0, 0]);
    expect(g.dk.shape).toEqual([1, 1, 0, 2]);
    // D = 0: all scores are 0, so the weights are uniform
    expectClose(h.ops.attentionWeights(h.zeros([1, 1, 2, 0]), h.zeros([1, 1, 4, 0])).toArray(), new Array(8).fill(0.25), 1e-7, 0);
  });
});

// Issue 11: scores past f32's range (q·k ≈ 4e40) were ±Infinity on wasm and the max subtracted
// from them made NaN, where the reference (f64) stays finite. The kernels saturate scores at
// ±3.4e38 (README, Guarantees): keys whose scores saturate tie, which is the reference's answer
// whenever they tie in f64 too, as here.
describe.each(BACKENDS)('attention on %s: scores overflowing f32', (backend) => {
  const h = contexts[backend];
  // Each key is +big or −big along every dimension; each query is +big: scores are ±D·big², ties
  // among the + keys, and the − keys get exactly 0 weight.
  const overflowing = ([B, Hh, T, S, D]: Dims, big: number): Inputs => {
    const u = rng(T * 31 + S);
    const k = new Float32Array(B * Hh * S * D);
    for (let r = 0; r < B * Hh * S; r++) { const sgn = r % 3 === 1 ? -1 : 1; k.fill(sgn * big, r * D, (r + 1) * D); }
    return { q: new Float32Array(B * Hh * T * D).fill(big), k, v: randn(B * Hh * S * D, 5), dout: Float32Array.from({ length: B * Hh * T * D }, () => u() - 0.5) };
  };
  it.each([
    [[1, 2, 2, 5, 4] as Dims, 1e20],     // T < 4: the row-wise kernels
    [[1, 2, 7, 9, 4] as Dims, 1e20],     // T ≥ 4: the tiled kernels, with a tail of keys
    [[2, 1, 5, 13, 3] as Dims, 3e19],
  ])('%j, |q|=|k|=%d: out, weights and gradients finite and equal to the reference', (dims, big) => {
    const inp = overflowing(dims, big);
    for (const opts of [{}, { causal: true }]) {
      const got = run(h, dims, inp, opts), want = run(js, dims, inp, opts);
      for (const key of ['out', 'w', 'dv'] as const) {
        noNaN(got[key]);
        expectClose(got[key], want[key], 1e-5, 1e-4);
      }
      // dq, dk: ds·k and dsᵀ·q with |k|, |q| = big; ds is 0 for a tie (p·(dp − Σp·dp) sums to 0
      // over tied keys only up to rounding), so compare relative to big.
      for (const key of ['dq', 'dk'] as const) {
        noNaN(got[key]);
        expectClose(got[key].map((x) => x / big), want[key].map((x) => x / big), 1e-5, 1e-4);
      }
    }
  });
});

describe('attention: errors name the argument and both shapes', () => {
  const q = js.zeros([2, 4, 3, 8]), k = js.zeros([2, 4, 5, 8]), v = js.zeros([2, 4, 5, 8]);
  it('rejects misshapen q, k, v, dout and keyMask', () => {
    expect(() => js.ops.attention(q, js.zeros([2, 4, 5, 7]), v)).toThrow(HeedError);
    expect(() => js.ops.attention(q, k, js.zeros([2, 4, 5, 7]))).toThrow('v: expected shape [2,4,5,8], got [2,4,5,7]');
    expect(() => js.ops.attention(q, js.zeros([2, 4, 5, 7]), v)).toThrow('k: expected shape [2,4,5,8], got [2,4,5,7]');
    expect(() => js.ops.attention(q, js.zeros([2, 3, 5, 8]), v)).toThrow('k: expected shape [2,4,5,8], got [2,3,5,8]');
    expect(() => js.ops.attention(q, k, js.zeros([2, 4, 6, 8]))).toThrow('v: expected shape [2,4,5,8], got [2,4,6,8]');
    expect(() => js.ops.attention(js.zeros([4, 3, 8]), k, v)).toThrow('q: expected a rank-4 tensor, got shape [4,3,8]');
    expect(() => js.ops.attention(q, js.zeros([4, 5, 8]), v)).toThrow('k: expected a rank-4 tensor, got shape [4,5,8]');
    expect(() => js.ops.attention(q, k, v, { keyMask: js.zeros([2, 4]) })).toThrow('keyMask: expected shape [2,5], got [2,4]');
    expect(() => js.ops.attentionWeights(q, k, { keyMask: js.zeros([5]) })).toThrow('keyMask: expected shape [2,5], got [5]');
    expect(() => js.ops.attentionBackward(q, k, v, js.zeros([2, 4, 5, 8]))).toThrow('dout: expected shape [2,4,3,8], got [2,4,5,8]');
    expect(() => js.ops.attentionBackward(q, k, js.zeros([2, 4, 5, 1]), js.zeros([2, 4, 3, 8]))).toThrow('v: expected shape [2,4,5,8], got [2,4,5,1]');
  });
  it('rejects a bad scale or causal flag', () => {
    for (const scale of [0, -1, NaN, Infinity]) {
      expect(() => js.ops.attention(q, k, v, { scale })).toThrow(`scale must be a positive finite number, got ${scale}`);
    }
    expect(() => js.ops.attention(q, k, v, { causal: 1 as unknown as boolean })).toThrow('causal must be a boolean, got 1');
  });
  it('rejects tensors of another context and disposed tensors', async () => {
    const other = await init({ backend: 'js' });
    expect(() => js.ops.attention(q, other.zeros([2, 4, 5, 8]), v)).toThrow('k: tensor [2,4,5,8] belongs to another heed context');
    expect(() => js.ops.attention(q, k, v, { keyMask: other.zeros([2, 5]) })).toThrow('keyMask: tensor [2,5] belongs to another heed context');
    const d = js.zeros([2, 4, 5, 8]);
    d.dispose();
    expect(() => js.ops.attention(q, k, d)).toThrow('v: tensor [2,4,5,8] was used after dispose()');
    expect(() => js.ops.attentionBackward(q, k, v, d)).toThrow('dout: tensor [2,4,5,8] was used after dispose()');
  });
});

describe.each(BACKENDS)('attentionWithLse and attentionBackward({ saved }): %s', (backend) => {
  const h = contexts[backend];
  // [dims, masked, options]: the row-wise path (T < 4), tiles, a fully masked row, causal.
  const CASES: [Dims, boolean, Opts][] = [
    [[1, 2, 3, 5, 4], false, {}], [[2, 1, 7, 9, 5], true, {}], [[1, 2, 13, 13, 8], true, { causal: true }],
    [[1, 1, 70, 33, 3], false, { scale: 0.4 }],
  ];
  it.each(CASES)('dims %j, mask %s, %j: out matches attention(), lse the f64 log-sum-exp, and the saved backward the rerun one bit for bit', (dims, masked, opts) => {
    const [B, Hh, T, S, D] = dims, seed = 41;
    const mask = masked ? randomMask(B, S, seed, 0.6) : undefined;
    if (mask) mask.fill(0, 0, S);                      // batch 0: every key masked
    const inp = inputs(dims, seed, mask);
    const q = h.tensor(inp.q, [B, Hh, T, D]), k = h.tensor(inp.k, [B, Hh, S, D]), v = h.tensor(inp.v, [B, Hh, S, D]);
    const dout = h.tensor(inp.dout, [B, Hh, T, D]), keyMask = mask ? h.tensor(mask, [B, S]) : undefined;
    const o = { ...opts, keyMask };
    const saved = h.ops.attentionWithLse(q, k, v, o), plain = h.ops.attention(q, k, v, o);
    expect(saved.lse.shape).toEqual([B, Hh, T]);
    expect(saved.out.toArray()).toEqual(plain.toArray());
    const lse = saved.lse.toArray(), scale = opts.scale ?? 1 / Math.sqrt(D);
    for (let b = 0; b < B; b++) for (let hh = 0; hh < Hh; hh++) for (let i = 0; i < T; i++) {
      const bh = b * Hh + hh, s: number[] = [];
      for (let j = 0; j < S; j++) {
        if ((mask && mask[b * S + j] === 0) || (opts.causal && j > i)) continue;
        s.push(scale * dotf(inp.q.subarray((bh * T + i) * D, (bh * T + i + 1) * D), inp.k.subarray((bh * S + j) * D, (bh * S + j + 1) * D)));
      }
      const want = s.length === 0 ? Infinity : Math.max(...s) + Math.log(s.reduce((a, x) => a + Math.exp(x - Math.max(...s)), 0));
      if (want === Infinity) expect(lse[bh * T + i]).toBe(Infinity);
      else expect(Math.abs(lse[bh * T + i] - want)).toBeLessThan(1e-5 * (1 + Math.abs(want)));
    }
    const a = h.ops.attentionBackward(q, k, v, dout, { ...o, saved }), b = h.ops.attentionBackward(q, k, v, dout, o);
    for (const key of ['dq', 'dk', 'dv'] as const) expect(a[key].toArray()).toEqual(b[key].toArray());
    // The backward really reads the saved lse: one raised by ln 2 halves every probability, so dv.
    const shifted = h.tensor(lse.map((x) => x + Math.LN2), [B, Hh, T]);
    const c = h.ops.attentionBackward(q, k, v, dout, { ...o, saved: { out: saved.out, lse: shifted } });
    expectClose(c.dv.toArray(), b.dv.toArray().map((x) => x / 2), 1e-5, 1e-4);
    for (const t of [q, k, v, dout, keyMask, saved.out, saved.lse, plain, a.dq, a.dk, a.dv, b.dq, b.dk, b.dv, shifted, c.dq, c.dk, c.dv]) t?.dispose();
  });

  it('rejects saved tensors of the wrong shape or context, naming them', () => {
    const q = h.zeros([1, 2, 3, 4]), k = h.zeros([1, 2, 5, 4]), dout = h.zeros([1, 2, 3, 4]);
    const good = h.ops.attentionWithLse(q, k, k);
    expect(() => h.ops.attentionBackward(q, k, k, dout, { saved: { out: good.out, lse: h.zeros([1, 2, 4]) } }))
      .toThrow(/saved\.lse.*\[1,2,4\].*\[1,2,3\]|saved\.lse.*\[1,2,3\].*\[1,2,4\]/);
    expect(() => h.ops.attentionBackward(q, k, k, dout, { saved: { out: h.zeros([1, 2, 3, 5]), lse: good.lse } })).toThrow(HeedError);
    expect(() => h.ops.attentionBackward(q, k, k, dout, { saved: 3 as never })).toThrow('saved must be { out, lse } from attentionWithLse, got number');
    const other = contexts[backend === 'js' ? 'wasm' : 'js'];
    expect(() => h.ops.attentionBackward(q, k, k, dout, { saved: { out: other.zeros([1, 2, 3, 4]), lse: good.lse } })).toThrow(HeedError);
    // D = 0: every score is 0, so lse is the log of the visible key count (+∞ with none), on both
    // the tiled path (T ≥ 4) and the row-wise one.
    for (const T of [2, 6]) for (const causal of [false, true]) {
      const z = h.ops.attentionWithLse(h.zeros([1, 1, T, 0]), h.zeros([1, 1, 3, 0]), h.zeros([1, 1, 3, 0]),
        { keyMask: h.tensor([0, 1, 1], [1, 3]), causal });
      const want = Array.from({ length: T }, (_, i) => {
        const visible = causal ? Math.max(0, Math.min(i, 2)) : 2;   // key 0 is masked
        return visible === 0 ? Infinity : Math.log(visible);
      });
      expectClose(z.lse.toArray(), Float32Array.from(want), 1e-6, 1e-6);
      expect(z.out.shape).toEqual([1, 1, T, 0]);
    }
    const empty = h.ops.attentionWithLse(h.zeros([1, 1, 2, 3]), h.zeros([1, 1, 0, 3]), h.zeros([1, 1, 0, 3]));
    expect([...empty.lse.toArray()]).toEqual([Infinity, Infinity]);
    expect([...empty.out.toArray()]).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
