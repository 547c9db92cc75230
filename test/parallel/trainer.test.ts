// The data-parallel mode (src/parallel/): steps on several threads agree with trainStep up to float
// rounding, repeat bit for bit, handle uneven and tiny batches, and fail cleanly. Runs the built
// package, since helpers are real workers running dist/worker/worker.js.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { importDist, type Heed } from '../dist.js';
import { orderTask } from '../nn/util.js';

let heed: Heed;
beforeAll(async () => { heed = await importDist(); });
afterEach(() => { vi.unstubAllGlobals(); });

const T = 12, V = 10;
const cfg = { vocabSize: V, maxLen: T, dModel: 16, heads: 2, ffDim: 32, layers: 2, classes: 3, seed: 5 };

function flat(m: { stateDict(): Record<string, { data: Float32Array }> }): Float32Array {
  const parts = Object.values(m.stateDict()).map((e) => e.data);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Largest |a − b| / (atol + rtol·|b|): ≤ 1 means within tolerance. */
function worst(a: Float32Array, b: Float32Array, atol: number, rtol: number): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i])));
  return w;
}

describe('dataParallel', () => {
  it.each([
    ['wasm', 2, 32], ['wasm', 3, 13], ['wasm-scalar', 2, 7], ['js', 2, 5],
  ] as const)('%s, %i threads, B = %i: losses and weights follow trainStep over 4 steps (clipNorm on)', async (backend, threads, B) => {
    const h = await heed.init({ backend });
    const { tokens, labels } = orderTask(B, T, V, 11);
    const lab = labels.map((y) => y % 3);
    const single = h.transformerClassifier(cfg), many = h.transformerClassifier(cfg);
    const o1 = h.adamwOptimizer(single, { lr: 1e-2, weightDecay: 0.1, clipNorm: 0.5 });
    const o2 = h.adamwOptimizer(many, { lr: 1e-2, weightDecay: 0.1, clipNorm: 0.5 });
    const dp = await h.dataParallel(many, o2, { threads });
    try {
      expect(dp.threads).toBe(threads);
      for (let s = 0; s < 4; s++) {
        const want = h.trainStep(single, o1, tokens, [B, T], lab);
        const got = await dp.step(tokens, [B, T], lab);
        expect(Math.abs(got - want)).toBeLessThan(1e-5 * Math.abs(want) + 1e-6);
        expect(Math.abs(o2.lastGradNorm - o1.lastGradNorm)).toBeLessThan(1e-4 * o1.lastGradNorm);
        expect(o2.step).toBe(s + 1);
      }
      // Gradients differ by summation order only (~1e-7 relative); Adam turns that into weight
      // differences of a few 1e-6 after four steps of lr 1e-2 (and up to lr on the entries whose
      // true gradient is exactly 0, which heed's kernels keep at exactly 0 on both paths).
      expect(worst(flat(many), flat(single), 1e-4, 1e-3)).toBeLessThan(1);
    } finally {
      await dp.close();
    }
  }, 30_000);

  it('is bit-for-bit repeatable for a given thread count, and the helpers see the published weights', async () => {
    const h = await heed.init();
    const { tokens, labels } = orderTask(9, T, V, 3);
    const lab = labels.map((y) => y % 3);
    const runOnce = async () => {
      const m = h.transformerClassifier(cfg), o = h.adamwOptimizer(m, { lr: 5e-3 });
      const dp = await h.dataParallel(m, o, { threads: 2 });
      const losses: number[] = [];
      for (let s = 0; s < 3; s++) losses.push(await dp.step(tokens, [9, T], lab));
      await dp.close();
      return { losses, w: flat(m) };
    };
    const a = await runOnce(), b = await runOnce();
    expect(b.losses).toEqual(a.losses);
    expect(b.w).toEqual(a.w);
    // A replica that trained on stale weights would make the second and third losses drift from
    // trainStep's by far more than rounding.
    const m = h.transformerClassifier(cfg), o = h.adamwOptimizer(m, { lr: 5e-3 });
    for (let s = 0; s < 3; s++) expect(Math.abs(h.trainStep(m, o, tokens, [9, T], lab) - a.losses[s])).toBeLessThan(1e-5);
  }, 30_000);

  it('a batch smaller than the thread count runs on the threads it fills, bit-identical to trainStep with one row', async () => {
    const h = await heed.init();
    const { tokens, labels } = orderTask(1, T, V, 8);
    const single = h.transformerClassifier(cfg), many = h.transformerClassifier(cfg);
    const o1 = h.adamwOptimizer(single), o2 = h.adamwOptimizer(many);
    const dp = await h.dataParallel(many, o2, { threads: 3 });
    try {
      for (let s = 0; s < 2; s++) expect(await dp.step(tokens, [1, T], labels)).toBe(h.trainStep(single, o1, tokens, [1, T], labels));
      expect(flat(many)).toEqual(flat(single));
    } finally {
      await dp.close();
    }
  });

  it('the pooling model trains the same way', async () => {
    const h = await heed.init();
    const pcfg = { vocabSize: V, dModel: 8, classes: 2, seed: 2 };
    const { tokens, labels } = orderTask(10, T, V, 4);
    const single = h.attentionPoolingClassifier(pcfg), many = h.attentionPoolingClassifier(pcfg);
    const o1 = h.adamwOptimizer(single, { lr: 1e-2 }), o2 = h.adamwOptimizer(many, { lr: 1e-2 });
    const dp = await h.dataParallel(many, o2, { threads: 2 });
    try {
      for (let s = 0; s < 3; s++) expect(await dp.step(tokens, [10, T], labels)).toBeCloseTo(h.trainStep(single, o1, tokens, [10, T], labels), 5);
      expect(worst(flat(many), flat(single), 1e-4, 1e-3)).toBeLessThan(1);
    } finally {
      await dp.close();
    }
  });

  it('a tokenClassifier trains the same way: each shard counts by its labelled tokens, not its rows', async () => {
    const h = await heed.init();
    const B = 6, { tokens } = orderTask(B, T, V, 6);
    // Shards of 3 rows each: the first has every token labelled, the second only one per row, so
    // weighting shards by rows would give a different loss and gradient than trainStep.
    const tags = Array.from(tokens, (t, i) => (Math.floor(i / T) < 3 || i % T === 0 ? t % 3 : -100));
    const tcfg = { vocabSize: V, maxLen: T, dModel: 16, heads: 2, ffDim: 32, layers: 1, classes: 3, seed: 4 };
    const single = h.tokenClassifier(tcfg), many = h.tokenClassifier(tcfg);
    const o1 = h.adamwOptimizer(single, { lr: 1e-2 }), o2 = h.adamwOptimizer(many, { lr: 1e-2 });
    const dp = await h.dataParallel(many, o2, { threads: 2 });
    try {
      for (let s = 0; s < 3; s++) {
        const want = h.trainStep(single, o1, tokens, [B, T], tags), got = await dp.step(tokens, [B, T], tags);
        expect(Math.abs(got - want)).toBeLessThan(1e-5 * Math.abs(want) + 1e-6);
        expect(Math.abs(o2.lastGradNorm - o1.lastGradNorm)).toBeLessThan(1e-4 * o1.lastGradNorm);
      }
      expect(worst(flat(many), flat(single), 1e-4, 1e-3)).toBeLessThan(1);
    } finally {
      await dp.close();
    }
  });

  it('rejects bad options, bad batches, overlapping steps and use after close, naming the problem', async () => {
    const h = await heed.init();
    const m = h.transformerClassifier(cfg), o = h.adamwOptimizer(m), other = h.adamwOptimizer(h.transformerClassifier(cfg));
    for (const threads of [0, 1.5, 17, '2', undefined]) {
      await expect(h.dataParallel(m, o, { threads } as never)).rejects.toThrow(/^dataParallel: threads must be an integer from 1 to 16, got /);
    }
    await expect(h.dataParallel(m, other, { threads: 2 })).rejects.toThrow('dataParallel: the optimizer was made for another model');
    const dp = await h.dataParallel(m, o, { threads: 2 });
    const { tokens, labels } = orderTask(4, T, V, 1);
    await expect(dp.step(tokens, [4, T], labels.subarray(0, 3))).rejects.toThrow('dataParallel: labels has 3 entries for tokens of shape [4,12] (expected 4)');
    await expect(dp.step(tokens, [4, T], Int32Array.of(0, 1, 7, 0))).rejects.toThrow('dataParallel: label 7 at index 2 is outside [0, 3)');
    const first = dp.step(tokens, [4, T], labels);
    await expect(dp.step(tokens, [4, T], labels)).rejects.toThrow('dataParallel: step() called before the previous step finished (await it)');
    await first;
    await dp.close();
    await expect(dp.step(tokens, [4, T], labels)).rejects.toThrow('dataParallel: step() after close()');
  });

  it('during a step on 2 threads, the model and optimizer refuse trainStep(), dispose() and loadStateDict(); the step is unaffected', async () => {
    const h = await heed.init();
    const m = h.transformerClassifier(cfg), o = h.adamwOptimizer(m, { lr: 1e-2 });
    const ref = h.transformerClassifier(cfg), refOpt = h.adamwOptimizer(ref, { lr: 1e-2 });
    const other = h.adamwOptimizer(m);
    const { tokens, labels } = orderTask(8, T, V, 3);
    const lab = labels.map((y) => y % 3);
    const [dp, dpRef] = [await h.dataParallel(m, o, { threads: 2 }), await h.dataParallel(ref, refOpt, { threads: 2 })];
    try {
      const step = dp.step(tokens, [8, T], lab);
      // Before the fix, this trainStep ran on m's gradient block while the helper's shard was
      // still to be added: the step then mixed both batches' gradients.
      expect(() => h.trainStep(m, other, tokens, [8, T], lab)).toThrow(/^trainStep: this transformer model is in use by a data-parallel trainer; close\(\) the trainer first$/);
      expect(() => m.dispose()).toThrow(/^dispose: this transformer model is in use by a data-parallel trainer/);
      expect(() => o.dispose()).toThrow(/^dispose: this optimizer is in use by a data-parallel trainer/);
      expect(() => m.loadStateDict(m.stateDict())).toThrow(/^loadStateDict: this transformer model is in a data-parallel step; await the step first$/);
      expect(await step).toBe(await dpRef.step(tokens, [8, T], lab));
      expect(flat(m)).toEqual(flat(ref));
      expect(other.step).toBe(0);
    } finally {
      await dp.close();
      await dpRef.close();
    }
    m.dispose();                                   // closed: free again
    o.dispose();
  });

  it('close() during a step rejects that step and frees the trainer only once it has settled', async () => {
    const h = await heed.init();
    const m = h.transformerClassifier(cfg), o = h.adamwOptimizer(m);
    const dp = await h.dataParallel(m, o, { threads: 2 });
    const { tokens, labels } = orderTask(8, T, V, 4);
    const before = flat(m);
    const step = dp.step(tokens, [8, T], labels.map((y) => y % 3));
    const closed = dp.close();
    const user = h.tensor(Float32Array.from({ length: m.parameterCount }, (_, i) => i), [m.parameterCount]);
    await expect(step).rejects.toThrow(heed.HeedError);
    await closed;
    expect(flat(m)).toEqual(before);
    expect(o.step).toBe(0);
    expect(user.toArray()).toEqual(Float32Array.from({ length: m.parameterCount }, (_, i) => i));
    m.dispose();
  });

  it('a non-finite loss on a helper shard stops the step before any parameter changes', async () => {
    const h = await heed.init();
    const m = h.transformerClassifier(cfg), o = h.adamwOptimizer(m, { lr: 1e-2 });
    const dp = await h.dataParallel(m, o, { threads: 2 });
    try {
      const { tokens, labels } = orderTask(4, T, V, 1);
      await dp.step(tokens, [4, T], labels);
      // Poison the weights the helper will read: an infinite embedding row used only by rows 2–3.
      const sd = m.stateDict();
      const before = flat(m);
      sd['embed.weight'].data.fill(Infinity, 9 * 16, 10 * 16);
      m.loadStateDict(sd);
      const poisoned = flat(m);
      const tok = tokens.slice();
      tok.fill(1, 0, 2 * T);          // rows 0–1 (the coordinator's shard) never use token 9
      tok.fill(9, 2 * T, 4 * T);       // rows 2–3 (the helper's) only use token 9
      await expect(dp.step(tok, [4, T], labels)).rejects.toThrow(/^dataParallel: the loss is NaN at step 2; no parameter was changed/);
      expect(flat(m)).toEqual(poisoned);
      expect(o.step).toBe(1);
      expect(before).not.toEqual(poisoned);
      // The trainer stays usable once the weights are sane again.
      m.loadStateDict(Object.fromEntries(Object.entries(sd).map(([k, e]) => [k, { ...e, data: k === 'embed.weight' ? e.data.fill(0.01, 9 * 16, 10 * 16) : e.data }])));
      expect(Number.isFinite(await dp.step(tokens, [4, T], labels))).toBe(true);
      expect(o.step).toBe(2);
    } finally {
      await dp.close();
    }
  });

  it('without SharedArrayBuffer, threads > 1 is a clear error and threads: 1 still works', async () => {
    const h = await heed.init();
    const m = h.transformerClassifier(cfg), o = h.adamwOptimizer(m);
    vi.stubGlobal('SharedArrayBuffer', undefined);
    await expect(h.dataParallel(m, o, { threads: 2 })).rejects.toThrow(/^dataParallel: threads: 2 needs SharedArrayBuffer, which this host does not offer \(in a browser, serve the page cross-origin isolated/);
    expect(() => h.fit({ model: m, data: { sequences: [[1, 2]], labels: [0] }, threads: 2 })).toThrow(/^fit: threads: 2 needs SharedArrayBuffer/);
    vi.unstubAllGlobals();
    const r = await h.fit({ model: m, data: { sequences: [[1, 2], [3, 4]], labels: [0, 1] }, epochs: 1, threads: 1, worker: false }).done;
    expect(r.history).toHaveLength(1);
  });
});

describe('fit({ threads })', () => {
  const data = (n: number, seed: number) => {
    const { tokens, labels } = orderTask(n, T, V, seed);
    return { sequences: Array.from({ length: n }, (_, i) => tokens.slice(i * T, (i + 1) * T).filter((t) => t !== 0)), labels };
  };
  const modelOptions = { kind: 'transformer' as const, vocabSize: V, maxLen: T, dModel: 16, heads: 2, ffDim: 32, layers: 1, seed: 1 };

  it.each([true, false])('worker: %s — 2 threads learn like 1 thread and report the whole batch', async (worker) => {
    const h = await heed.init();
    const opts = { modelOptions, data: data(512, 1), validation: data(128, 2), epochs: 6, batchSize: 32, lr: 3e-3, weightDecay: 0, seed: 3, worker };
    const seen: number[] = [];
    const one = await h.fit(opts).done;
    const two = await h.fit({ ...opts, threads: 2, onStep: (s) => seen.push(s.accuracy) }).done;
    expect(seen).toHaveLength(6 * 16);
    for (let e = 0; e < 6; e++) {
      expect(Math.abs(two.history[e].loss - one.history[e].loss)).toBeLessThan(1e-3);
      expect(Math.abs(two.history[e].accuracy - one.history[e].accuracy)).toBeLessThanOrEqual(3 / 512);
    }
    expect(one.history[5].valAccuracy).toBeGreaterThan(0.85);
    expect(two.history[5].valAccuracy).toBeGreaterThan(0.85);
  }, 60_000);

  it('rejects a bad thread count up front', async () => {
    const h = await heed.init();
    expect(() => h.fit({ modelOptions, data: data(4, 1), threads: 0 })).toThrow('fit: threads must be an integer from 1 to 16, got 0');
  });
});
