// Attention over a KV cache (issue 12, item 5): a query position offset for causal masking
// (`qOffset`) and keys/values read in place from the first `kvLength` positions of a cache
// [B,H,Smax,D] (the kernels' head stride kvStride = Smax·D). Oracles: an independent f64
// full-matrix implementation, the js reference (for the wasm builds), PyTorch's
// scaled_dot_product_attention (test/fixtures/ops.json, attentionKvCache), and the KV-cache
// property itself: decoding token by token equals one causal pass over the whole sequence.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import * as ref from '../../src/ref/attention.js';
import { TAIL_DIMS, dotf, expectClose, numericGrad, randn, rng } from '../util.js';
import { ALL_BACKENDS, WASM_BACKENDS } from './backends.js';

const js = await init({ backend: 'js' });
const contexts = { js } as Record<(typeof ALL_BACKENDS)[number], typeof js>;
for (const b of WASM_BACKENDS) contexts[b] = await init({ backend: b });
type Ctx = typeof js;

/** B, H, T query rows, S attended keys out of a cache of Smax, head size D. */
interface Dims { B: number; H: number; T: number; S: number; Smax: number; D: number }
interface Opts { causal?: boolean; qOffset?: number; scale?: number }
interface Inputs { q: Float32Array; kc: Float32Array; vc: Float32Array; dout: Float32Array; mask?: Float32Array }

/** A cache [B,H,Smax,D] whose first S positions per head are random and the rest `tail`: NaN
 *  there makes any read past kvLength show up in every output. */
function cache({ B, H, S, Smax, D }: Dims, seed: number, tail: number): Float32Array {
  const c = new Float32Array(B * H * Smax * D).fill(tail), x = randn(B * H * S * D, seed);
  for (let bh = 0; bh < B * H; bh++) c.set(x.subarray(bh * S * D, (bh + 1) * S * D), bh * Smax * D);
  return c;
}

function inputs(d: Dims, seed: number, tail = NaN, mask?: Float32Array): Inputs {
  return { q: randn(d.B * d.H * d.T * d.D, seed), kc: cache(d, seed + 1, tail), vc: cache(d, seed + 2, tail),
           dout: randn(d.B * d.H * d.T * d.D, seed + 3), mask };
}

/** The first S positions of each head of a cache, as a contiguous [B,H,S,D] copy. */
function slice({ B, H, S, Smax, D }: Dims, c: Float32Array): Float32Array {
  const out = new Float32Array(B * H * S * D);
  for (let bh = 0; bh < B * H; bh++) out.set(c.subarray(bh * Smax * D, bh * Smax * D + S * D), bh * S * D);
  return out;
}

/** attention, attentionWithLse, attentionBackward and attentionWeights over the cache on h. */
function run(h: Ctx, d: Dims, inp: Inputs, opts: Opts = {}) {
  const { B, H, T, S, Smax, D } = d;
  const q = h.tensor(inp.q, [B, H, T, D]), k = h.tensor(inp.kc, [B, H, Smax, D]), v = h.tensor(inp.vc, [B, H, Smax, D]);
  const dout = h.tensor(inp.dout, [B, H, T, D]), keyMask = inp.mask ? h.tensor(inp.mask, [B, S]) : undefined;
  const o = { ...opts, keyMask, kvLength: S };
  const saved = h.ops.attentionWithLse(q, k, v, o);
  const g = h.ops.attentionBackward(q, k, v, dout, { ...o, saved });
  const w = h.ops.attentionWeights(q, k, o);
  expect(g.dk.shape).toEqual([B, H, Smax, D]);
  expect(w.shape).toEqual([B, H, T, S]);
  const res = { out: saved.out.toArray(), lse: saved.lse.toArray(), dq: g.dq.toArray(), dk: g.dk.toArray(),
                dv: g.dv.toArray(), w: w.toArray() };
  for (const t of [q, k, v, dout, keyMask, saved.out, saved.lse, g.dq, g.dk, g.dv, w]) t?.dispose();
  return res;
}

/** f64, the full T×S score matrix: key j is visible to query t when j ≤ t + qOffset (causal) and
 *  not padding; softmax; ·v. Fully masked rows are zeros. Independent of the kernels' tiling. */
function naive(d: Dims, inp: Inputs, { causal = false, qOffset = 0, scale = 1 / Math.sqrt(d.D) }: Opts = {}) {
  const { B, H, T, S, Smax, D } = d, out = new Float64Array(B * H * T * D), w = new Float64Array(B * H * T * S);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const bh = b * H + h;
    for (let t = 0; t < T; t++) {
      const qr = inp.q.subarray((bh * T + t) * D, (bh * T + t + 1) * D);
      const s = Array.from({ length: S }, (_, j) => {
        if ((inp.mask && inp.mask[b * S + j] === 0) || (causal && j > t + qOffset)) return -Infinity;
        return scale * dotf(qr, inp.kc.subarray((bh * Smax + j) * D, (bh * Smax + j + 1) * D));
      });
      const m = Math.max(...s);
      if (m === -Infinity) continue;
      const e = s.map((x) => Math.exp(x - m)), l = e.reduce((a, x) => a + x, 0);
      for (let j = 0; j < S; j++) {
        w[(bh * T + t) * S + j] = e[j] / l;
        for (let i = 0; i < D; i++) out[(bh * T + t) * D + i] += (e[j] / l) * inp.vc[(bh * Smax + j) * D + i];
      }
    }
  }
  return { out, w };
}

/** The cache rows past S of every head of a [B,H,Smax,D] gradient. */
function pastS({ B, H, S, Smax, D }: Dims, g: Float32Array): number[] {
  const rest: number[] = [];
  for (let bh = 0; bh < B * H; bh++) rest.push(...g.subarray(bh * Smax * D + S * D, (bh + 1) * Smax * D));
  return rest;
}

const dims = (B: number, H: number, T: number, S: number, Smax: number, D: number): Dims => ({ B, H, T, S, Smax, D });

// [label, dims, options, masked]: offsets top-left, bottom-right and past the end; strided and
// contiguous caches; the row-wise kernels (T < 4) and the tiled ones.
const CASES: [string, Dims, Opts, boolean][] = [
  ['decode T=1, qOffset S−1, stride', dims(2, 2, 1, 6, 9, 3), { causal: true, qOffset: 5 }, false],
  ['bottom-right chunk, keyMask', dims(2, 1, 4, 9, 11, 5), { causal: true, qOffset: 5 }, true],
  ['qOffset + T > S (rows past the end see every key)', dims(1, 2, 5, 4, 7, 2), { causal: true, qOffset: 2 }, false],
  ['contiguous with an offset, scale 0.6', dims(1, 1, 3, 5, 5, 4), { causal: true, qOffset: 1, scale: 0.6 }, true],
  ['strided, not causal', dims(2, 2, 3, 4, 6, 3), {}, true],
];

describe('attention over a cache: js reference', () => {
  it.each(CASES)('forward and weights match a naive full-matrix implementation: %s', (_, d, opts, masked) => {
    const mask = masked ? Float32Array.from({ length: d.B * d.S }, (_, i) => (i % 3 === 1 ? 0 : 1)) : undefined;
    const inp = inputs(d, 7, NaN, mask), got = run(js, d, inp, opts), want = naive(d, inp, opts);
    expectClose(got.out, want.out, 1e-6, 1e-5);
    expectClose(got.w, want.w, 1e-6, 1e-5);
  });

  it.each(CASES)('backward matches finite differences of the forward, over the whole cache: %s', (_, d, opts, masked) => {
    const { B, H, T, S, Smax, D } = d;
    const mask = masked ? Float32Array.from({ length: B * S }, (_, i) => (i % 3 === 1 ? 0 : 1)) : undefined;
    const inp = inputs(d, 11, 0.5, mask);           // a finite tail: its numeric gradient must be 0
    const keyMask = mask && js.tensor(mask, [B, S]), o = { ...opts, keyMask, kvLength: S };
    const L = (q: Float32Array, kc: Float32Array, vc: Float32Array) =>   // L = Σ attention·dout
      dotf(js.ops.attention(js.tensor(q, [B, H, T, D]), js.tensor(kc, [B, H, Smax, D]), js.tensor(vc, [B, H, Smax, D]), o)
        .toArray(), inp.dout);
    const g = js.ops.attentionBackward(js.tensor(inp.q, [B, H, T, D]), js.tensor(inp.kc, [B, H, Smax, D]),
      js.tensor(inp.vc, [B, H, Smax, D]), js.tensor(inp.dout, [B, H, T, D]), o);
    expectClose(g.dq.toArray(), numericGrad((x) => L(x, inp.kc, inp.vc), inp.q), 5e-4, 2e-3);
    expectClose(g.dk.toArray(), numericGrad((x) => L(inp.q, x, inp.vc), inp.kc), 5e-4, 2e-3);
    expectClose(g.dv.toArray(), numericGrad((x) => L(inp.q, inp.kc, x), inp.vc), 5e-4, 2e-3);
    expect(g.dv.toArray().some((x) => x !== 0)).toBe(true);
  });

  it('the twin refuses a head stride shorter than S·D and a negative or fractional offset', () => {
    const z = new Float32Array(64);
    expect(() => ref.attention_forward(z, z, z, z, z, z, 0, 1, 2, 1, 4, 4, 1, 0, 0, 15)).toThrow('kvStride 15 must be an integer ≥ S·D = 16');
    expect(() => ref.attention_probs(z, z, z, z, 0, 1, 1, 1, 4, 4, 1, 1, -1, 16)).toThrow('qOffset -1');
    expect(() => ref.attention_backward(z, z, z, z, z, z, z, z, z, z, 0, 1, 1, 1, 4, 4, 1, 1, 0.5, 16)).toThrow('qOffset 0.5');
  });
});

// [label, T, S, Smax, D]: T, S and D each through every tail size, the others small, for
// every offset variant below. Past T = 64 the tiled kernels run several tiles.
const SHAPES: [number, number, number, number][] = [
  ...TAIL_DIMS.map((D) => [3, 5, 8, D] as [number, number, number, number]),
  ...TAIL_DIMS.map((T) => [T, 7, 10, 4] as [number, number, number, number]),
  ...TAIL_DIMS.map((S) => [5, S, S + 3, 8] as [number, number, number, number]),
  [70, 100, 103, 5], [130, 67, 67, 3],
];
/** qOffset choices for T rows over S keys: top-left, bottom-right (when T ≤ S), a small one. */
const offsets = (T: number, S: number) => [...new Set([0, Math.max(0, S - T), 2])];

describe.each(WASM_BACKENDS)('attention over a cache: %s against js', (backend) => {
  const hw = contexts[backend];
  it.each(SHAPES)('T %i, S %i of a cache of %i, D %i: every offset, with and without a keyMask', (T, S, Smax, D) => {
    for (const B of [1, 2]) for (const qOffset of offsets(T, S)) for (const masked of [false, true]) {
      const d = dims(B, 3 - B, T, S, Smax, D), seed = T * 1009 + S * 31 + D + qOffset;
      const u = rng(seed);
      const mask = masked ? Float32Array.from({ length: B * S }, () => (u() < 0.75 ? 1 : 0)) : undefined;
      const inp = inputs(d, seed, NaN, mask), opts = { causal: true, qOffset };
      const want = run(js, d, inp, opts), got = run(hw, d, inp, opts);
      for (const key of ['out', 'lse', 'dq', 'dk', 'dv', 'w'] as const) {
        try {
          expect(got[key].some(Number.isNaN), 'NaN (a read past kvLength?)').toBe(false);
          expectClose(got[key], want[key], 1e-5, 1e-4);
        } catch (e) {
          throw new Error(`B ${B}, qOffset ${qOffset}, mask ${masked}, ${key}: ${(e as Error).message}`);
        }
      }
      expect(pastS(d, got.dk).every((x) => x === 0) && pastS(d, got.dv).every((x) => x === 0), 'dk, dv past S').toBe(true);
    }
  });
});

describe.each(ALL_BACKENDS)('attention over a cache on %s', (backend) => {
  const h = contexts[backend];

  it('a strided cache gives bit for bit what a contiguous copy of its first S keys gives', () => {
    for (const d of [dims(2, 2, 2, 5, 9, 6), dims(1, 3, 9, 13, 20, 5), dims(1, 1, 70, 40, 41, 3)]) {
      for (const opts of [{}, { causal: true }, { causal: true, qOffset: d.S - d.T > 0 ? d.S - d.T : 3 }]) {
        const inp = inputs(d, 5, NaN), flat = dims(d.B, d.H, d.T, d.S, d.S, d.D);
        const got = run(h, d, inp, opts), want = run(h, flat, { ...inp, kc: slice(d, inp.kc), vc: slice(d, inp.vc) }, opts);
        for (const key of ['out', 'lse', 'dq', 'w'] as const) expect(got[key]).toEqual(want[key]);
        expect(slice(d, got.dk)).toEqual(want.dk);
        expect(slice(d, got.dv)).toEqual(want.dv);
      }
    }
  });

  it('qOffset 0 is the plain causal op, and an offset past the keys is no mask at all', () => {
    const d = dims(1, 2, 6, 6, 6, 4), inp = inputs(d, 3);
    const q = h.tensor(inp.q, [1, 2, 6, 4]), k = h.tensor(inp.kc, [1, 2, 6, 4]), v = h.tensor(inp.vc, [1, 2, 6, 4]);
    expect(h.ops.attention(q, k, v, { causal: true, qOffset: 0 }).toArray()).toEqual(h.ops.attention(q, k, v, { causal: true }).toArray());
    const all = h.ops.attention(q, k, v).toArray();
    for (const qOffset of [5, 6, 2 ** 31, 2 ** 60]) expect(h.ops.attention(q, k, v, { causal: true, qOffset }).toArray()).toEqual(all);
    expect(h.ops.attention(q, k, v, { causal: true, qOffset: 4 }).toArray()).not.toEqual(all);
  });

  // The property a decoder relies on. L = 37 tokens: the full pass runs the tiled kernels, each
  // decoding step the row-wise ones, and the chunks both. The cache past the filled positions is
  // NaN, so a step that read one position too far would show it.
  it('decoding token by token (and in chunks) over a growing cache equals one causal pass', () => {
    const B = 2, H = 2, L = 37, Lmax = 40, D = 8;
    const full = dims(B, H, L, L, L, D), inp = inputs(full, 21, NaN);
    const want = run(h, full, inp, { causal: true });
    const exact = backend === 'js';                   // the f64 twin sums each row the same way
    const sub = (a: Float32Array, rows: number, t0: number, n: number) => {   // rows t0..t0+n of [B,H,rows,D]
      const out = new Float32Array(B * H * n * D);
      for (let bh = 0; bh < B * H; bh++) out.set(a.subarray((bh * rows + t0) * D, (bh * rows + t0 + n) * D), bh * n * D);
      return out;
    };
    const dk = new Float32Array(B * H * Lmax * D), dv = new Float32Array(B * H * Lmax * D);
    for (const chunks of [Array(L).fill(1), [5, 4, 13, 1, 14]]) {
      dk.fill(0); dv.fill(0);
      let t0 = 0;
      for (const n of chunks) {
        const d = dims(B, H, n, t0 + n, Lmax, D);
        // the cache holds keys 0..t0+n−1 of the sequence (this chunk's own included), NaN after
        const kc = new Float32Array(B * H * Lmax * D).fill(NaN), vc = Float32Array.from(kc);
        for (let bh = 0; bh < B * H; bh++) {
          kc.set(inp.kc.subarray(bh * L * D, (bh * L + t0 + n) * D), bh * Lmax * D);
          vc.set(inp.vc.subarray(bh * L * D, (bh * L + t0 + n) * D), bh * Lmax * D);
        }
        const got = run(h, d, { q: sub(inp.q, L, t0, n), kc, vc, dout: sub(inp.dout, L, t0, n) }, { causal: true, qOffset: t0 });
        for (const [key, a, b] of [['out', got.out, sub(want.out, L, t0, n)], ['dq', got.dq, sub(want.dq, L, t0, n)]] as const) {
          try {
            if (exact) expect(a).toEqual(b);
            else expectClose(a, b, 1e-5, 1e-4);
          } catch (e) {
            throw new Error(`chunk at ${t0} of ${n}, ${key}: ${(e as Error).message}`);
          }
        }
        for (let i = 0; i < dk.length; i++) { dk[i] += got.dk[i]; dv[i] += got.dv[i]; }
        t0 += n;
      }
      // Each query's share of dk, dv is separate, so the chunks' cache gradients add up to the full pass's.
      expectClose(slice(dims(B, H, L, L, Lmax, D), dk), want.dk, 1e-5, 1e-4);
      expectClose(slice(dims(B, H, L, L, Lmax, D), dv), want.dv, 1e-5, 1e-4);
    }
  });

  it('kvLength 0 attends to nothing: zeros, lse +∞, zero gradients of the cache shape', () => {
    const d = dims(1, 2, 3, 0, 4, 2), r = run(h, d, inputs(d, 2, NaN), { causal: true, qOffset: 1 });
    expect([...r.out]).toEqual(new Array(12).fill(0));
    expect([...r.lse]).toEqual(new Array(6).fill(Infinity));
    expect([...r.dq]).toEqual(new Array(12).fill(0));
    expect([...r.dk]).toEqual(new Array(16).fill(0));
    expect(r.w.length).toBe(0);
  });
});

describe('attention over a cache: errors name the option and the shapes, and leave the tensors usable', () => {
  const q = js.zeros([2, 4, 3, 8]), k = js.zeros([2, 4, 5, 8]), v = js.zeros([2, 4, 5, 8]);
  it('rejects bad offsets', () => {
    for (const qOffset of [-1, 1.5, NaN, Infinity, '2' as unknown as number]) {
      expect(() => js.ops.attention(q, k, v, { causal: true, qOffset }))
        .toThrow(`qOffset must be an integer ≥ 0 (q [2,4,3,8], k [2,4,5,8]), got ${String(qOffset)}`);
    }
    expect(() => js.ops.attention(q, k, v, { qOffset: 2 })).toThrow(HeedError);
    expect(() => js.ops.attentionWeights(q, k, { qOffset: 2, causal: false }))
      .toThrow('qOffset 2 needs causal: true (without it every query sees all 5 keys; q [2,4,3,8], k [2,4,5,8])');
  });
  it('rejects bad kvLengths and a keyMask that does not match kvLength', () => {
    for (const kvLength of [6, -1, 2.5, NaN, null as unknown as number]) {
      expect(() => js.ops.attentionWithLse(q, k, v, { kvLength }))
        .toThrow(`kvLength must be an integer in [0, 5] (k [2,4,5,8] holds 5 keys per head; q [2,4,3,8]), got ${String(kvLength)}`);
    }
    expect(() => js.ops.attention(q, k, v, { kvLength: 3, keyMask: js.zeros([2, 5]) })).toThrow('keyMask: expected shape [2,3], got [2,5]');
    expect(() => js.ops.attentionBackward(q, k, v, js.zeros([2, 4, 3, 8]), { kvLength: 9 })).toThrow(HeedError);
  });
  it('after each rejection the same tensors still work', () => {
    expect(() => js.ops.attention(q, k, v, { causal: true, qOffset: -3 })).toThrow(HeedError);
    const out = js.ops.attention(q, k, v, { causal: true, qOffset: 2, kvLength: 4 });
    expect(out.shape).toEqual([2, 4, 3, 8]);
    expect(q.toArray().length).toBe(2 * 4 * 3 * 8);
    out.dispose();
  });
});

// PyTorch's scaled_dot_product_attention on k, v sliced from a bigger cache, with the boolean
// mask built for the offset (test/fixtures/make_fixtures.py, attention_kv_cache_cases).
type Enc = { shape: number[]; data: (number | string)[] };
interface KvCase { name: string; q: Enc; kCache: Enc; vCache: Enc; dout: Enc; kvLength: number; qOffset: number;
                   causal: boolean; keyMask?: Enc; scale?: number; out: Enc; weights: Enc; dq: Enc; dk: Enc; dv: Enc }
const fixtures: KvCase[] = JSON.parse(readFileSync(new URL('../fixtures/ops.json', import.meta.url), 'utf8')).attentionKvCache;
const dec = (e: Enc) => Float32Array.from(e.data, (x) => (x === 'Infinity' ? Infinity : x === '-Infinity' ? -Infinity : (x as number)));

describe.each(ALL_BACKENDS)('attention over a cache on %s: PyTorch fixtures', (backend) => {
  const h = contexts[backend];
  it('has the cases', () => expect(fixtures.length).toBeGreaterThanOrEqual(6));
  it.each(fixtures.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const t = (e: Enc) => h.tensor(dec(e), e.shape);
    const [q, k, v, dout] = [t(c.q), t(c.kCache), t(c.vCache), t(c.dout)], keyMask = c.keyMask && t(c.keyMask);
    const o = { causal: c.causal, qOffset: c.qOffset, kvLength: c.kvLength, keyMask, scale: c.scale };
    const out = h.ops.attention(q, k, v, o), w = h.ops.attentionWeights(q, k, o);
    const g = h.ops.attentionBackward(q, k, v, dout, o);
    for (const [label, got, want] of [['out', out, c.out], ['weights', w, c.weights], ['dq', g.dq, c.dq],
      ['dk', g.dk, c.dk], ['dv', g.dv, c.dv]] as const) {
      expect(got.shape, label).toEqual(want.shape);
      try {
        expectClose(got.toArray(), dec(want), 1e-5, 1e-4);
      } catch (e) {
        throw new Error(`${label}: ${(e as Error).message}`);
      }
    }
    for (const x of [q, k, v, dout, keyMask, out, w, g.dq, g.dk, g.dv]) x?.dispose();
  });
});
