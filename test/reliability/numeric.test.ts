// Numeric guards, gathered in one place and run on all three backends against analytic answers:
// softmax and both losses at logits of ±1e4, GELU at ±1e4, layer norm of rows with mean 1e4 and
// spread 1e-2 against an f64 computation, fully masked attention (zeros, zero gradients), and an
// exploding learning rate that stops trainStep and fit with a HeedError naming the step and the
// non-finite value while leaving the last good parameters untouched.
import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import type { Context } from '../../src/context.js';
import { Rng } from '../../src/nn/rng.js';
import { sameBits } from './fuzz-util.js';

const BACKENDS = ['js', 'wasm', 'wasm-scalar'] as const;
const ctxs = Object.fromEntries(await Promise.all(BACKENDS.map(async (b) => [b, await init({ backend: b })] as const))) as Record<typeof BACKENDS[number], Context>;

const close = (got: ArrayLike<number>, want: ArrayLike<number>, abs: number, rel: number, what: string) => {
  expect(got.length, what).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    expect(Number.isFinite(got[i]), `${what}[${i}] = ${got[i]}`).toBe(true);
    expect(Math.abs(got[i] - want[i]), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(abs + rel * Math.abs(want[i]));
  }
};

describe.each(BACKENDS)('%s: logits of ±1e4', (backend) => {
  const h = ctxs[backend];

  it('softmax is finite and exact: max subtracted, the rest underflows to 0', () => {
    // Rows of 5 hit the f32x4 body and the scalar tail.
    const x = [1e4, -1e4, 0, 9999, -1e4, /**/ -1e4, -1e4, -1e4, -1e4, -1e4, /**/ 1e4, 1e4, -1e4, 1e4, 1e4];
    const y = h.ops.softmax(h.tensor(x, [3, 5])).toArray();
    const e1 = Math.exp(-1);
    close(y, [1 / (1 + e1), 0, 0, e1 / (1 + e1), 0, 0.2, 0.2, 0.2, 0.2, 0.2, 0.25, 0.25, 0, 0.25, 0.25], 1e-7, 1e-6, 'softmax');
    const dx = h.ops.softmaxBackward(h.tensor(y, [3, 5]), h.tensor(x.map((_, i) => (i % 3) - 1), [3, 5])).toArray();
    expect(dx.every(Number.isFinite)).toBe(true);
  });

  it('crossEntropy: loss and gradient equal the analytic values', () => {
    const x = [1e4, -1e4, 0, /**/ -1e4, 1e4, 1e4, /**/ 1e4, -1e4, -1e4];
    const { loss, dlogits } = h.ops.crossEntropy(h.tensor(x, [3, 3]), Int32Array.of(1, 0, 0));
    // row 0: lse 1e4, label −1e4 → 2e4; row 1: lse 1e4 + ln 2, label −1e4 → 2e4 + ln 2; row 2: 0.
    expect(loss).toBeCloseTo((4e4 + Math.LN2) / 3, 2);
    expect(Math.abs(loss - (4e4 + Math.LN2) / 3) / 1e4).toBeLessThan(1e-6);
    close(dlogits.toArray(), [1, -1, 0, -1, 0.5, 0.5, 0, 0, 0].map((v) => v / 3), 1e-7, 1e-6, 'dlogits');
  });

  it('bceWithLogits: loss and gradient equal the analytic values', () => {
    const x = [1e4, -1e4, 1e4, -1e4, 0], t = [0, 1, 1, 0, 1];
    const { loss, dlogits } = h.ops.bceWithLogits(h.tensor(x, [5]), Float32Array.from(t));
    expect(Math.abs(loss - (2e4 + Math.LN2) / 5)).toBeLessThan(1e-2);
    close(dlogits.toArray(), [1, -1, 0, 0, -0.5].map((v) => v / 5), 1e-7, 1e-6, 'dlogits');
  });

  it('gelu saturates: gelu(1e4) = 1e4, gelu(−1e4) ≈ 0 (|·| < 1e-30), finite gradients', () => {
    const x = h.tensor([1e4, -1e4, 0], [3]);
    close(h.ops.gelu(x).toArray(), [1e4, 0, 0], 1e-30, 0, 'gelu');
    close(h.ops.geluBackward(x, h.tensor([1, 1, 1], [3])).toArray(), [1, 0, 0.5], 1e-7, 1e-6, 'dgelu');
  });
});

describe.each(BACKENDS)('%s: layerNorm of rows with mean 1e4 and spread 1e-2', (backend) => {
  const h = ctxs[backend];
  it('forward and backward match an f64 computation from the same f32 inputs', () => {
    const N = 4, C = 37, eps = 1e-5, rng = new Rng(11);
    const x = Float32Array.from({ length: N * C }, () => 1e4 + (rng.uniform() * 2 - 1) * 1e-2);
    const g = Float32Array.from({ length: C }, () => 0.5 + rng.uniform());
    const b = Float32Array.from({ length: C }, () => rng.uniform() - 0.5);
    const dy = Float32Array.from({ length: N * C }, () => rng.uniform() * 2 - 1);
    const wantY = new Float64Array(N * C), wantDx = new Float64Array(N * C);
    for (let n = 0; n < N; n++) {
      const row = Array.from(x.subarray(n * C, (n + 1) * C));
      const mean = row.reduce((a, v) => a + v, 0) / C;
      const v = row.reduce((a, u) => a + (u - mean) ** 2, 0) / C;
      const rstd = 1 / Math.sqrt(v + eps);
      const xh = row.map((u) => (u - mean) * rstd);
      const gdy = xh.map((_, c) => g[c] * dy[n * C + c]);
      const m1 = gdy.reduce((a, u) => a + u, 0) / C, m2 = gdy.reduce((a, u, c) => a + u * xh[c], 0) / C;
      for (let c = 0; c < C; c++) {
        wantY[n * C + c] = xh[c] * g[c] + b[c];
        wantDx[n * C + c] = rstd * (gdy[c] - m1 - xh[c] * m2);
      }
    }
    const [tx, tg, tb, tdy] = [h.tensor(x, [N, C]), h.tensor(g, [C]), h.tensor(b, [C]), h.tensor(dy, [N, C])];
    const y = h.ops.layerNorm(tx, tg, tb, eps).toArray();
    const { dx } = h.ops.layerNormBackward(tx, tg, tdy, eps);
    // |y| ≲ 2: an error of 1e-3 is ~0.05% (E[x²]−E[x]² in f32 would give a variance of pure rounding
    // noise at this mean: errors of order 1). dx scales with rstd ≈ 170.
    close(y, wantY, 1e-3, 1e-3, `${backend} y`);
    close(dx.toArray(), wantDx, 0.2, 1e-3, `${backend} dx`);
  });
});

describe.each(BACKENDS)('%s: attention with every key masked', (backend) => {
  const h = ctxs[backend];
  it('gives zeros and zero gradients (keyMask all 0, and causal rows whose only keys are masked), never NaN', () => {
    const B = 2, H = 2, T = 3, S = 3, D = 5, rng = new Rng(3);
    const r = (n: number) => Array.from({ length: n }, () => rng.uniform() * 4 - 2);
    const [q, k, v, dout] = [r(B * H * T * D), r(B * H * S * D), r(B * H * S * D), r(B * H * T * D)].map((a, i) =>
      h.tensor(a, [B, H, i === 0 || i === 3 ? T : S, D]));
    // batch 0: every key masked; batch 1: key 0 masked, so with causal its query 0 sees nothing.
    const keyMask = h.tensor([0, 0, 0, 0, 1, 1], [B, S]);
    for (const causal of [false, true]) {
      const out = h.ops.attention(q, k, v, { keyMask, causal }).toArray();
      const { dq, dk, dv } = h.ops.attentionBackward(q, k, v, dout, { keyMask, causal });
      const g = { out, dq: dq.toArray(), dk: dk.toArray(), dv: dv.toArray() };
      for (const [name, a] of Object.entries(g)) expect(a.every(Number.isFinite), `${name} finite (causal ${causal})`).toBe(true);
      const half = H * T * D;
      for (const [name, a] of Object.entries(g)) expect(Array.from(a.subarray(0, half)).every((x) => x === 0), `${name} of batch 0 is zero`).toBe(true);
      if (causal) {
        for (let hh = 0; hh < H; hh++) {
          const row = (a: Float32Array) => a.subarray(half + hh * T * D, half + hh * T * D + D); // batch 1, head hh, query 0
          expect(Array.from(row(g.out)).every((x) => x === 0), 'causal row with only masked keys').toBe(true);
          expect(Array.from(row(g.dq)).every((x) => x === 0), 'its dq').toBe(true);
        }
        // masked key 0 of batch 1 receives no gradient
        for (let hh = 0; hh < H; hh++) {
          const key0 = (a: Float32Array) => a.subarray(half + hh * S * D, half + hh * S * D + D);
          expect(Array.from(key0(g.dk)).every((x) => x === 0) && Array.from(key0(g.dv)).every((x) => x === 0), 'masked key gradient').toBe(true);
        }
      }
    }
  });
});

// ---- an exploding learning rate ----------------------------------------------------------------

const V = 12, T = 6;
function batch(seed: number, B = 8) {
  const rng = new Rng(seed);
  const tokens = Int32Array.from({ length: B * T }, (_, i) => (i % T < 2 + (i % 3) ? 1 + rng.int(V - 1) : 0));
  const labels = Int32Array.from({ length: B }, () => rng.int(2));
  return { tokens, labels, shape: [B, T] as [number, number] };
}

describe.each(BACKENDS)('%s: an exploding learning rate', (backend) => {
  const h = ctxs[backend];
  it.each(['pooling', 'transformer'] as const)('%s: trainStep stops with a HeedError naming the step and the value; the last good step is kept', (kind) => {
    const m = kind === 'pooling' ? h.attentionPoolingClassifier({ vocabSize: V, dModel: 8, seed: 1 })
      : h.transformerClassifier({ vocabSize: V, maxLen: T, dModel: 8, heads: 2, ffDim: 8, layers: 1, seed: 1 });
    const opt = h.adamwOptimizer(m, { lr: 1e30, weightDecay: 0 });
    let good = m.stateDict(), goodOpt = opt.state(), steps = 0, err: unknown;
    for (let i = 0; i < 50 && err === undefined; i++) {
      const b = batch(i);
      try {
        const loss = h.trainStep(m, opt, b.tokens, b.shape, b.labels);
        expect(Number.isFinite(loss)).toBe(true);
        steps++;
        good = m.stateDict();
        goodOpt = opt.state();
      } catch (e) { err = e; }
    }
    expect(err, 'training must stop').toBeInstanceOf(HeedError);
    const msg = (err as Error).message;
    expect(msg).toMatch(new RegExp(`^trainStep: (the loss|a gradient) is (NaN|-?Infinity) at step ${steps + 1}\\b`));
    expect(msg).toMatch(/no parameter was changed/);
    // Parameters and optimizer state are those of the last good step, bit for bit.
    const now = m.stateDict();
    for (const k of Object.keys(good)) expect(sameBits(now[k].data, good[k].data), k).toBe(true);
    const s = opt.state();
    expect(s.step).toBe(goodOpt.step);
    expect(sameBits(s.m, goodOpt.m) && sameBits(s.v, goodOpt.v)).toBe(true);
    // …and the model still works: it forwards, and a second attempt fails the same way.
    const b = batch(99);
    m.forward(b.tokens, b.shape).dispose();
    expect(() => h.trainStep(m, opt, b.tokens, b.shape, b.labels)).toThrow(`at step ${steps + 1}`);
    opt.dispose();
    m.dispose();
  });
});

describe('fit (on this thread) with an exploding learning rate', () => {
  it('rejects with a HeedError naming the step and the value; the last checkpoint is finite and the given model untouched', async () => {
    const h = ctxs.wasm;
    const model = h.attentionPoolingClassifier({ vocabSize: V, dModel: 8, seed: 2 });
    const before = model.stateDict();
    const data = { sequences: Array.from({ length: 8 }, (_, i) => Int32Array.from({ length: 1 + (i % T) }, (_, j) => 1 + ((i + j) % (V - 1)))),
      labels: Int32Array.from({ length: 8 }, (_, i) => i % 2) };
    const checkpoints: { epoch: number; params: Float32Array }[] = [];
    // One batch per epoch: epoch 1's single step is finite (parameters ~1e30), epoch 2's overflows.
    const run = h.fit({ model, data, epochs: 5, batchSize: 8, lr: 1e30, weightDecay: 0, seed: 1, worker: false,
      onCheckpoint: (c) => checkpoints.push({ epoch: c.epoch, params: c.params.slice() }) });
    const err = await run.done.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(HeedError);
    expect((err as Error).message).toMatch(/^trainStep: (the loss|a gradient) is (NaN|-?Infinity) at step 2\b/);
    expect(checkpoints.map((c) => c.epoch)).toEqual([1]);
    expect(checkpoints[0].params.every(Number.isFinite)).toBe(true);
    const after = model.stateDict();
    for (const k of Object.keys(before)) expect(sameBits(after[k].data, before[k].data), k).toBe(true);
    // The checkpoint loads back into a model of the same config.
    const m2 = h.attentionPoolingClassifier(model.config);
    const sd = m2.stateDict();
    for (const e of m2.layout.entries) sd[e.name].data = checkpoints[0].params.slice(e.offset, e.offset + e.size);
    m2.loadStateDict(sd);
    expect(sameBits(m2.stateDict()['embed.weight'].data, sd['embed.weight'].data)).toBe(true);
    m2.dispose();
    model.dispose();
  });
});
