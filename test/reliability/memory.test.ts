// Memory: a configurable cap (init({ maxMemoryMB })) turns an oversized request into a HeedError and
// leaves the context working; linear memory and the JS heap stay flat across 2,000 training steps and
// 10,000 predictions; dispose() returns memory for reuse; attention at T = 4096 runs without a T×T
// buffer.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import type { Context } from '../../src/context.js';
import { Rng } from '../../src/nn/rng.js';

// A real gc() for heap measurements, whatever flags vitest's worker was started with.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapAfterGc = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
const MiB = 2 ** 20;

const V = 20, T = 8;
function batch(rng: Rng, B: number) {
  const tokens = Int32Array.from({ length: B * T }, (_, i) => (i % T < 2 + (i % 5) ? 1 + rng.int(V - 1) : 0));
  return { tokens, labels: Int32Array.from({ length: B }, () => rng.int(2)), shape: [B, T] as [number, number] };
}

describe('init({ maxMemoryMB })', () => {
  it('is validated: a positive number of MiB', async () => {
    for (const bad of [0, -1, NaN, Infinity, '8', null, true]) {
      await expect(init({ backend: 'js', maxMemoryMB: bad as never })).rejects.toThrow(HeedError);
      await expect(init({ backend: 'js', maxMemoryMB: bad as never })).rejects.toThrow(/^init: maxMemoryMB must be a positive number of MiB, got/);
    }
    const h = await init({ backend: 'js', maxMemoryMB: 0.5 });
    expect(h.memory().maxBytes).toBe(MiB / 2);
    expect((await init({ backend: 'js' })).memory().maxBytes).toBe(null);
  });

  describe.each(['wasm', 'wasm-scalar', 'js'] as const)('%s', (backend) => {
    it('an oversized tensor is a HeedError naming the request and the cap; nothing is allocated; the context keeps working', async () => {
      const h = await init({ backend, maxMemoryMB: 32 });
      const keep = h.tensor([1, 2, 3, 4], [2, 2]);
      const before = h.memory();
      let err: unknown;
      try { h.zeros([1024, 1024, 16]); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(HeedError);
      expect((err as Error).message).toBe("tensor [1024,1024,16]: out of memory: a request for 67,108,864 bytes would bring heed's memory to 67,108,880 bytes, " +
        'over the cap of 33,554,432 bytes (init({ maxMemoryMB: 32 })); nothing was allocated');
      expect(h.memory()).toEqual(before);
      // An op whose output does not fit fails the same way and leaves nothing behind.
      const big = h.zeros([2048, 2048]); // 16 MiB: fits
      expect(() => h.ops.matmul(big, big)).toThrow(/^tensor \[2048,2048\]: out of memory: .*over the cap of 33,554,432 bytes/);
      big.dispose();
      const { bytes: _, ...rest } = before; // (linear memory grew for \`big\`: memory is reused, not returned to the host)
      expect(h.memory()).toMatchObject(rest);
      // Still working: ops, a model, a training step.
      expect(Array.from(h.ops.matmul(keep, keep).toArray())).toEqual([7, 10, 15, 22]);
      const m = h.attentionPoolingClassifier({ vocabSize: V, dModel: 8 });
      const b = batch(new Rng(1), 4);
      expect(Number.isFinite(h.trainStep(m, h.adamwOptimizer(m), b.tokens, b.shape, b.labels))).toBe(true);
    });

    it('an oversized model or optimizer is a HeedError and leaves no half-built block behind', async () => {
      const h = await init({ backend, maxMemoryMB: 8 });
      const before = h.memory();
      // 1.5M parameters: the 6 MB parameter block fits, its gradient block does not.
      expect(() => h.attentionPoolingClassifier({ vocabSize: 375_000, dModel: 4 })).toThrow(/^out of memory: a request for 6,000,060 bytes .*cap of 8,388,608 bytes/);
      expect(h.memory().allocatedBytes).toBe(before.allocatedBytes);
      expect(() => h.transformerClassifier({ vocabSize: 1_000_000, dModel: 64 })).toThrow(HeedError);
      expect(h.memory().allocatedBytes).toBe(before.allocatedBytes);
      // A model that fits (8 MB with its gradients) but whose optimizer does not.
      const m = h.attentionPoolingClassifier({ vocabSize: 240_000, dModel: 4 });
      const withModel = h.memory().allocatedBytes;
      expect(() => h.adamwOptimizer(m)).toThrow(/out of memory: .*over the cap/);
      expect(h.memory().allocatedBytes).toBe(withModel);
      // A model file whose model does not fit.
      const small = await init({ backend });
      const bytes = small.saveModel(small.attentionPoolingClassifier({ vocabSize: 300_000, dModel: 4 }));
      expect(() => h.loadModel(bytes)).toThrow(/out of memory: .*over the cap/);
      expect(h.memory().allocatedBytes).toBe(withModel);
      m.dispose();
      expect(h.memory().allocatedBytes).toBe(before.allocatedBytes);
      // The memory is there again: a model of the same size now fits, and trains.
      const m2 = h.attentionPoolingClassifier({ vocabSize: 100_000, dModel: 4 });
      const b = batch(new Rng(2), 4);
      expect(Number.isFinite(h.trainStep(m2, h.adamwOptimizer(m2), b.tokens, b.shape, b.labels))).toBe(true);
    });
  });

  it('wasm: under churn below the cap, linear memory stays within twice the cap (the allocator doubles when it grows)', async () => {
    const h = await init({ backend: 'wasm', maxMemoryMB: 16 });
    const rng = new Rng(5);
    const live: ReturnType<Context['zeros']>[] = [];
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      if (live.length > 0 && rng.uniform() < 0.45) live.splice(rng.int(live.length), 1)[0].dispose();
      else {
        try { live.push(h.zeros([1 + rng.int(1 << (8 + rng.int(12)))])); } catch (e) { expect(e).toBeInstanceOf(HeedError); refused++; }
      }
      expect(h.memory().allocatedBytes).toBeLessThanOrEqual(16 * MiB);
    }
    console.log(`churn under a 16 MiB cap: ${refused} requests refused, linear memory ${(h.memory().bytes / MiB).toFixed(1)} MiB`);
    expect(refused).toBeGreaterThan(0);
    expect(h.memory().bytes).toBeLessThanOrEqual(2 * 16 * MiB + MiB);
  });

  it.each(['wasm', 'wasm-scalar', 'js'] as const)('%s: the cap counts byte allocations of every dtype exactly (no rounding to floats)', async (backend) => {
    const h = await init({ backend, maxMemoryMB: 1 });
    const keep = h.tensor([1, 2, 3, 4], [2, 2]);
    const base = h.memory().allocatedBytes;
    const room = MiB - base;
    const i8 = h.be.allocBytes(room - 3, 'i8');                  // an odd number of bytes
    expect(h.memory().allocatedBytes).toBe(MiB - 3);
    expect(() => h.be.allocBytes(4, 'f16')).toThrow(`out of memory: a request for 4 bytes would bring heed's memory to ${(MiB + 1).toLocaleString('en')} bytes, ` +
      'over the cap of 1,048,576 bytes (init({ maxMemoryMB: 1 })); nothing was allocated');
    expect(() => h.zeros([1])).toThrow(/^tensor \[1\]: out of memory: a request for 4 bytes/);
    expect(h.memory().allocatedBytes).toBe(MiB - 3);
    const u8 = h.be.allocBytes(3, 'u8');                         // exactly up to the cap
    expect(h.memory().allocatedBytes).toBe(MiB);
    h.be.free(i8); h.be.free(u8);
    expect(h.memory().allocatedBytes).toBe(base);
    expect(Array.from(h.ops.matmul(keep, keep).toArray())).toEqual([7, 10, 15, 22]);
  });

  it('without a cap, a request past what wasm32 can address is a HeedError, and the context keeps working', async () => {
    const h = await init({ backend: 'wasm' });
    expect(() => h.zeros([2 ** 30])).toThrow(/^tensor \[1073741824\]: out of memory: 4294967296 bytes asked for, more than 32-bit WebAssembly memory can hold/);
    const [a, b] = [h.zeros([2 ** 15, 1]), h.zeros([1, 2 ** 15])];
    expect(() => h.ops.matmul(a, b)).toThrow(/^tensor \[32768,32768\]: out of memory: 4294967296 bytes asked for/);
    expect(h.memory().allocatedBytes).toBe(a.size * 8);
    a.dispose(); b.dispose();
    expect(h.memory().allocatedBytes).toBe(0);
    expect(Array.from(h.ops.softmax(h.tensor([0, 0], [1, 2])).toArray())).toEqual([0.5, 0.5]);
  });
});

describe('flat memory', () => {
  it('wasm: 2,000 training steps leave linear memory unchanged and the JS heap flat', async () => {
    const h = await init({ backend: 'wasm' });
    const m = h.transformerClassifier({ vocabSize: V, maxLen: T, dModel: 16, heads: 2, ffDim: 32, layers: 1, seed: 1 });
    const opt = h.adamwOptimizer(m, { lr: 1e-3 });
    const rng = new Rng(3);
    const batches = Array.from({ length: 16 }, () => batch(rng, 16));
    const step = (i: number) => { const b = batches[i % batches.length]; return h.trainStep(m, opt, b.tokens, b.shape, b.labels); };
    for (let i = 0; i < 100; i++) step(i); // warm-up: arena planned, code optimised
    const mem0 = h.memory(), heap0 = heapAfterGc();
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) expect(Number.isFinite(step(i))).toBe(true);
    const ms = performance.now() - t0;
    const heapGrowth = heapAfterGc() - heap0;
    console.log(`2,000 training steps in ${ms.toFixed(0)} ms: linear memory ${mem0.bytes} → ${h.memory().bytes} bytes, JS heap ${(heapGrowth / 1024).toFixed(0)} KiB`);
    expect(h.memory()).toEqual(mem0);
    expect(heapGrowth).toBeLessThan(2 * MiB);
  });

  it.each(['wasm', 'js'] as const)('%s: 10,000 predictions (forward + dispose) leave memory unchanged and the JS heap flat', async (backend) => {
    const h = await init({ backend });
    const m = h.attentionPoolingClassifier({ vocabSize: V, dModel: 16, classes: 3, seed: 2 });
    const rng = new Rng(4);
    const batches = Array.from({ length: 8 }, () => batch(rng, 4));
    const predict = (i: number) => { const b = batches[i % batches.length]; const y = m.forward(b.tokens, b.shape); const a = y.toArray(); y.dispose(); return a; };
    for (let i = 0; i < 200; i++) predict(i);
    const mem0 = h.memory(), heap0 = heapAfterGc();
    const t0 = performance.now();
    for (let i = 0; i < 10_000; i++) predict(i);
    const ms = performance.now() - t0;
    const heapGrowth = heapAfterGc() - heap0;
    console.log(`${backend}: 10,000 predictions in ${ms.toFixed(0)} ms: memory ${mem0.bytes} → ${h.memory().bytes} bytes, JS heap ${(heapGrowth / 1024).toFixed(0)} KiB`);
    expect(h.memory()).toEqual(mem0);
    expect(heapGrowth).toBeLessThan(2 * MiB);
  });

  it.each(['wasm', 'js'] as const)('%s: dispose() returns memory: 200 rounds of model + optimizer + training + tensors stop growing memory', async (backend) => {
    const h = await init({ backend });
    const base = h.memory();
    const rng = new Rng(6);
    const round = (i: number) => {
      const m = i % 2 ? h.attentionPoolingClassifier({ vocabSize: 500, dModel: 32, seed: i })
        : h.transformerClassifier({ vocabSize: 500, maxLen: T, dModel: 16, heads: 2, layers: 1, seed: i });
      const opt = h.adamwOptimizer(m);
      const b = batch(rng, 8);
      h.trainStep(m, opt, b.tokens, b.shape, b.labels);
      const { logits, attention } = m.forward(b.tokens, b.shape, { returnAttention: true });
      const x = h.tensor(logits.toArray(), logits.shape);
      const y = h.ops.softmax(x);
      for (const t of [logits, x, y, ...(Array.isArray(attention) ? attention : [attention])]) t.dispose();
      opt.dispose();
      m.dispose();
    };
    for (let i = 0; i < 10; i++) round(i);
    const after10 = h.memory();
    expect(after10.allocatedBytes).toBe(base.allocatedBytes);
    expect(after10.tensors).toBe(0);
    for (let i = 10; i < 200; i++) round(i);
    const after200 = h.memory();
    console.log(`${backend}: 200 model rounds: memory ${base.bytes} → ${after10.bytes} (10) → ${after200.bytes} (200) bytes`);
    expect(after200).toEqual(after10);
  });
});

describe('long sequences', () => {
  it('wasm: attention and its backward at T = 4096 run without a T×T buffer (linear memory grows by far less than 64 MiB)', async () => {
    const h = await init({ backend: 'wasm' });
    const Tn = 4096, D = 16, rng = new Rng(8);
    const data = () => Float32Array.from({ length: Tn * D }, () => rng.uniform() * 2 - 1);
    const [qa, ka, va, da] = [data(), data(), data(), data()];
    const [q, k, v, dout] = [qa, ka, va, da].map((a) => h.tensor(a, [1, 1, Tn, D]));
    const mask = Float32Array.from({ length: Tn }, (_, i) => (i % 7 === 3 ? 0 : 1));
    const keyMask = h.tensor(mask, [1, Tn]);
    const linear0 = h.memory().bytes;
    const t0 = performance.now();
    for (const causal of [false, true]) {
      const out = h.ops.attention(q, k, v, { keyMask, causal });
      const { dq, dk, dv } = h.ops.attentionBackward(q, k, v, dout, { keyMask, causal });
      const o = out.toArray();
      for (const t of [o, dq.toArray(), dk.toArray(), dv.toArray()]) expect(t.every(Number.isFinite)).toBe(true);
      // A few query rows against a direct f64 computation.
      for (const i of [0, 1, 2047, 4095]) {
        const scores: number[] = [];
        for (let j = 0; j < Tn; j++) {
          if (mask[j] === 0 || (causal && j > i)) { scores.push(-Infinity); continue; }
          let s = 0;
          for (let d = 0; d < D; d++) s += qa[i * D + d] * ka[j * D + d];
          scores.push(s / Math.sqrt(D));
        }
        const mx = Math.max(...scores);
        const w = scores.map((s) => (s === -Infinity ? 0 : Math.exp(s - mx)));
        const z = w.reduce((a, x) => a + x, 0);
        for (let d = 0; d < D; d++) {
          const want = z === 0 ? 0 : w.reduce((a, x, j) => a + x * va[j * D + d], 0) / z;
          expect(Math.abs(o[i * D + d] - want), `row ${i} (causal ${causal})`).toBeLessThan(1e-4);
        }
      }
      for (const t of [out, dq, dk, dv]) t.dispose();
    }
    const grew = h.memory().bytes - linear0;
    console.log(`T = 4096 attention + backward (plain and causal) in ${(performance.now() - t0).toFixed(0)} ms; linear memory grew ${(grew / MiB).toFixed(2)} MiB`);
    expect(grew).toBeLessThan(16 * MiB); // one T×T float buffer alone would be 64 MiB
  });
});

// Issue 11 item 10: training data is packed once at fit's boundary (tokens + offsets + targets)
// and stays packed through the loop, its batches and validation: no object per row anywhere. An
// Int32Array view per row costs ~100 bytes of JS heap (the old unpack built one per row on each
// side), so 200,000 rows would add ~20 MiB; the packed buffers are off-heap ArrayBuffers.
describe('training data in memory', () => {
  it.each(['packed', 'one array per row'] as const)('fit (on this thread) adds no per-row objects to the JS heap: 200,000 rows given %s, heap growth under 20 bytes a row', async (form) => {
    const h = await init({ backend: 'wasm' });
    const N = 200_000, rng = new Rng(8);
    const lengths = Int32Array.from({ length: N }, () => 1 + rng.int(3));
    const offsets = new Int32Array(N + 1);
    for (let i = 0; i < N; i++) offsets[i + 1] = offsets[i] + lengths[i];
    const tokens = Int32Array.from({ length: offsets[N] }, () => 1 + rng.int(V - 1));
    const labels = Int32Array.from({ length: N }, (_, i) => tokens[offsets[i]] % 2);
    const rows = (n: number) => Array.from({ length: n }, (_, i) => tokens.subarray(offsets[i], offsets[i + 1]));
    const data = form === 'packed' ? { tokens, offsets, labels } : { sequences: rows(N), labels };
    const validation = form === 'packed' ? { tokens: tokens.slice(0, offsets[N / 4]), offsets: offsets.slice(0, N / 4 + 1), labels: labels.slice(0, N / 4) }
      : { sequences: rows(N / 4), labels: labels.slice(0, N / 4) };
    const heap0 = heapAfterGc();
    let atStep = 0, atEpoch = 0;
    const run = h.fit({ modelOptions: { kind: 'pooling', vocabSize: V, dModel: 8, seed: 1 }, data, validation, epochs: 1, batchSize: 4096,
      worker: false, tokenDropout: 0.1,
      onStep: (s) => { if (s.step === 2) atStep = heapAfterGc() - heap0; },
      onEpoch: () => { atEpoch = heapAfterGc() - heap0; } });
    const r = await run.done;
    console.log(`fit on ${N.toLocaleString('en')} rows (${form}): JS heap +${(atStep / MiB).toFixed(1)} MiB while training, +${(atEpoch / MiB).toFixed(1)} MiB after validation`);
    expect(r.history[0].valAccuracy).toBeGreaterThan(0.4);
    expect(atStep).toBeLessThan(N * 20);
    expect(atEpoch).toBeLessThan(N * 20);
    r.model.dispose();
  });
});
