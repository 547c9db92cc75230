// heed.fit on a worker thread (from the built package, as users run it) and on this thread:
// progress, cancel, a responsive event loop, determinism, and errors from inside the worker.
import { beforeAll, describe, expect, it } from 'vitest';
import { importDist, type Heed } from '../dist.js';
import { orderTask } from '../nn/util.js';

let heed: Heed;
beforeAll(async () => { heed = await importDist(); });

const T = 12, V = 10;
function task(n: number, seed: number) {
  const { tokens, labels } = orderTask(n, T, V, seed);
  const sequences = Array.from({ length: n }, (_, i) => {
    const row = tokens.subarray(i * T, (i + 1) * T);
    const len = row.indexOf(0) < 0 ? T : row.indexOf(0);
    return row.slice(0, len);
  });
  return { sequences, labels };
}
const modelOptions = { kind: 'transformer' as const, vocabSize: V, maxLen: T, dModel: 16, heads: 2, ffDim: 32, layers: 1, seed: 1 };

describe('fit', () => {
  it('trains on a worker: onStep and onEpoch arrive, validation is reported, the model learns', async () => {
    const h = await heed.init();
    const steps: number[] = [], epochs: number[] = [];
    const run = h.fit({ modelOptions, data: task(512, 1), validation: task(128, 2), epochs: 6, batchSize: 32, lr: 3e-3, weightDecay: 0, seed: 3,
      onStep: (s) => steps.push(s.globalStep), onEpoch: (e) => epochs.push(e.epoch) });
    const r = await run.done;
    expect(epochs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(steps.length).toBe(6 * 16);
    expect(steps[steps.length - 1]).toBe(96);
    expect(r.history).toHaveLength(6);
    expect(r.history[5].valAccuracy).toBeGreaterThan(0.85);
    expect(r.model.config.kind).toBe('transformer');
    const logits = r.model.forward(task(4, 9).sequences[0], [1, task(4, 9).sequences[0].length]);
    expect(logits.shape).toEqual([1, 2]);
  });

  it('keeps the calling thread responsive: timers fire while the worker trains', async () => {
    const h = await heed.init();
    let ticks = 0, last = Date.now(), maxGap = 0;
    const timer = setInterval(() => { const t = Date.now(); maxGap = Math.max(maxGap, t - last); last = t; ticks++; }, 10);
    const t0 = Date.now();
    await h.fit({ modelOptions, data: task(2048, 4), epochs: 4, batchSize: 16, seed: 1 }).done;
    clearInterval(timer);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThan(200); // long enough to mean something
    // Training on this thread would block it for tens of milliseconds at a time.
    expect(ticks).toBeGreaterThan(elapsed / 10 / 2);
    expect(maxGap).toBeLessThan(100);
  });

  it('cancel() stops after the current step and resolves with the model so far', async () => {
    const h = await heed.init();
    let seen = 0;
    const run = h.fit({ modelOptions, data: task(1024, 5), epochs: 50, batchSize: 8, seed: 1,
      onStep: () => { if (++seen === 20) run.cancel(); } });
    const r = await run.done;
    expect(r.cancelled).toBe(true);
    expect(r.history.length).toBeLessThan(50);
    expect(r.model.stateDict()['head.weight'].data.every(Number.isFinite)).toBe(true);
  });

  it('gives bit-identical weights on a worker and on this thread for the same seed', async () => {
    const h = await heed.init();
    const opts = { modelOptions, data: task(256, 6), validation: task(64, 7), epochs: 3, batchSize: 16, seed: 11, tokenDropout: 0.1, warmup: 0.1, schedule: 'cosine' as const };
    const a = await h.fit({ ...opts, worker: true }).done, b = await h.fit({ ...opts, worker: false }).done, c = await h.fit({ ...opts }).done;
    for (const [k, t] of Object.entries(a.model.stateDict())) {
      expect(Buffer.from(t.data.buffer).equals(Buffer.from(b.model.stateDict()[k].data.buffer)), k).toBe(true);
      expect(Buffer.from(t.data.buffer).equals(Buffer.from(c.model.stateDict()[k].data.buffer)), k).toBe(true);
    }
    expect(a.history.map((e) => e.loss)).toEqual(b.history.map((e) => e.loss));
  });

  it('rejects done with the error raised inside the worker (an exploding learning rate)', async () => {
    const h = await heed.init();
    const run = h.fit({ modelOptions: { kind: 'pooling', vocabSize: V, dModel: 8 }, data: task(256, 8), epochs: 50, lr: 1e30, weightDecay: 0, seed: 1 });
    await expect(run.done).rejects.toThrow(heed.HeedError);
    await expect(run.done).rejects.toThrow(/not finite|is NaN|Infinity|is -?Infinity/);
  });

  it('early stopping restores the weights of the best validation epoch', async () => {
    const h = await heed.init();
    const r = await h.fit({ modelOptions: { kind: 'pooling', vocabSize: V, dModel: 8 }, data: task(64, 9), validation: task(64, 10),
      epochs: 40, lr: 0.05, patience: 2, seed: 2, worker: false }).done;
    if (r.stoppedEarly) {
      expect(r.bestEpoch).not.toBeNull();
      expect(r.history.length).toBe(r.bestEpoch! + 2);
    } else {
      expect(r.history.length).toBe(40);
    }
  });

  it('resuming from a checkpoint gives the same weights and early stop as an uninterrupted run', async () => {
    const h = await heed.init();
    const opts = { modelOptions: { kind: 'pooling' as const, vocabSize: V, dModel: 8 }, data: task(96, 12), validation: task(64, 13),
      epochs: 30, lr: 0.05, patience: 2, seed: 4, worker: false, tokenDropout: 0.1 };
    const checkpoints: { epoch: number; params: Float32Array; optimizer: { step: number; m: Float32Array; v: Float32Array }; early: unknown }[] = [];
    const a = await h.fit({ ...opts, onCheckpoint: (c) => checkpoints.push(c) }).done;
    expect(a.stoppedEarly).toBe(true);
    expect(a.history.length).toBeGreaterThan(a.bestEpoch! + 1); // the early stop kept an earlier epoch
    const c = checkpoints[a.bestEpoch!]; // one epoch past the best: the state must remember the best
    const model = h.attentionPoolingClassifier(opts.modelOptions);
    model.be.write(model.params, c.params);
    const b = await h.fit({ ...opts, model, worker: true, resume: { optimizer: c.optimizer, epoch: c.epoch, early: c.early as never } }).done;
    expect(b.stoppedEarly).toBe(true);
    expect(b.bestEpoch).toBe(a.bestEpoch);
    expect(c.epoch + b.history.length).toBe(a.history.length);
    for (const [k, t] of Object.entries(a.model.stateDict())) {
      expect(Buffer.from(t.data.buffer).equals(Buffer.from(b.model.stateDict()[k].data.buffer)), k).toBe(true);
    }
  });

  it("applies the caller's init({ maxMemoryMB }) cap inside the worker too", async () => {
    const h = await heed.init({ maxMemoryMB: 16 });
    // 50,000 × 64 embeddings: 12.8 MB of parameters, ×4 with gradients and AdamW's m and v.
    const run = h.fit({ modelOptions: { kind: 'pooling', vocabSize: 50_000, dModel: 64 }, data: task(32, 14), epochs: 1, seed: 1 });
    await expect(run.done).rejects.toThrow(heed.HeedError);
    await expect(run.done).rejects.toThrow(/maxMemoryMB: 16/);
  });

  it.each([true, false])('worker: %s — a model in use by fit refuses dispose(), trainStep(), loadStateDict() and a second user until done', async (worker) => {
    const h = await heed.init();
    const { kind: _, ...cfg } = modelOptions;
    const m = h.transformerClassifier(cfg), opt = h.adamwOptimizer(m);
    const run = h.fit({ model: m, data: task(128, 21), epochs: 2, batchSize: 16, seed: 1, worker });
    const { tokens, labels } = orderTask(4, T, V, 22);
    expect(() => m.dispose()).toThrow(heed.HeedError);
    expect(() => m.dispose()).toThrow(/^dispose: this transformer model is in use by fit; wait for run\.done$/);
    expect(() => h.trainStep(m, opt, tokens, [4, T], labels)).toThrow(/^trainStep: this transformer model is in use by fit; wait for run\.done$/);
    expect(() => m.loadStateDict(m.stateDict())).toThrow(/^loadStateDict: this transformer model is in use by fit; wait for run\.done$/);
    expect(() => h.fit({ model: m, data: task(8, 23), worker: false })).toThrow(/^fit: this transformer model is already in use by fit/);
    await expect(h.dataParallel(m, opt, { threads: 1 })).rejects.toThrow(/^dataParallel: this transformer model is already in use by fit/);
    expect(m.forward(tokens, [4, T]).toArray().every(Number.isFinite)).toBe(true);    // reading is fine
    const user = h.tensor(Float32Array.from({ length: 4096 }, (_, i) => i), [4096]);
    const r = await run.done;
    expect(r.model).toBe(m);
    expect(opt.step).toBe(0);
    expect(user.toArray()).toEqual(Float32Array.from({ length: 4096 }, (_, i) => i));
    h.trainStep(m, opt, tokens, [4, T], labels);                 // free again
    m.dispose();
    expect(m.disposed).toBe(true);
  });

  it('rejects done (never hangs) when the trained weights cannot be taken back into a full context', async () => {
    const h = await heed.init({ maxMemoryMB: 1 });
    // 40,000 parameters: 640 KB with gradients and AdamW's moments in the worker, under its cap.
    const run = h.fit({ modelOptions: { kind: 'pooling', vocabSize: 10_000, dModel: 4 }, data: task(32, 24), epochs: 1, seed: 1 });
    const filler = h.zeros([200_000]);                          // 800 KB: no room here for the model's 320 KB
    const outcome = await Promise.race([
      run.done.then(() => 'resolved', (e: unknown) => e),
      new Promise((r) => setTimeout(() => r('pending after 20 s'), 20_000)),
    ]);
    expect(outcome).toBeInstanceOf(heed.HeedError);
    expect((outcome as Error).message).toMatch(/out of memory: .*over the cap/);
    filler.dispose();
    expect(h.memory().allocatedBytes).toBe(0);
  }, 30_000);

  it('validates its options with messages that name them', async () => {
    const h = await heed.init();
    const data = task(8, 1);
    expect(() => h.fit({ modelOptions, data, epochs: 0 })).toThrow('fit: epochs must be a positive integer, got 0');
    expect(() => h.fit({ modelOptions, data, lr: -1 })).toThrow('fit: lr must be a finite number ≥ 0, got -1');
    expect(() => h.fit({ modelOptions, data: { sequences: [[1, 99]], labels: [0] } })).toThrow('fit: data.sequences[0][1] = 99 is outside [0, 10)');
    expect(() => h.fit({ modelOptions, data: { sequences: [[1]], labels: [5] } })).toThrow('fit: data.labels[0] = 5 is outside [0, 2)');
    expect(() => h.fit({ data } as never)).toThrow('give either model or modelOptions');
  });

  it('takes packed data ({ tokens, offsets, labels }) and trains exactly as on one array per row; the caller keeps its arrays', async () => {
    const h = await heed.init();
    const packed = (d: { sequences: Int32Array[]; labels: Int32Array }) => {
      const offsets = new Int32Array(d.sequences.length + 1);
      d.sequences.forEach((s, i) => { offsets[i + 1] = offsets[i] + s.length; });
      const tokens = new Int32Array(offsets[d.sequences.length]);
      d.sequences.forEach((s, i) => tokens.set(s, offsets[i]));
      return { tokens, offsets, labels: Int32Array.from(d.labels) };
    };
    const data = task(200, 14), validation = task(50, 15);
    const opts = { modelOptions: { kind: 'pooling' as const, vocabSize: V, dModel: 8 }, epochs: 2, batchSize: 16, seed: 5, tokenDropout: 0.2 };
    const p = packed(data);
    const a = await h.fit({ ...opts, data, validation }).done, b = await h.fit({ ...opts, data: p, validation: packed(validation) }).done;
    for (const [k, t] of Object.entries(a.model.stateDict())) expect(Buffer.from(t.data.buffer).equals(Buffer.from(b.model.stateDict()[k].data.buffer)), k).toBe(true);
    expect(b.history).toHaveLength(2);
    expect(b.history.map((e) => e.valLoss)).toEqual(a.history.map((e) => e.valLoss));
    expect(p.tokens.length).toBe(packed(data).tokens.length); // copied, not transferred away
  });

  it('checks packed data, naming the row, the offsets or the counts', async () => {
    const h = await heed.init();
    const mo = { kind: 'pooling' as const, vocabSize: V, dModel: 8 };
    const fit = (tokens: number[], offsets: number[], labels: number[]) => () =>
      h.fit({ modelOptions: mo, data: { tokens: Int32Array.from(tokens), offsets: Int32Array.from(offsets), labels: Int32Array.from(labels) } });
    expect(fit([1, 2, 99], [0, 2, 3], [0, 1])).toThrow('fit: data row 1 token 0 = 99 is outside [0, 10) (vocabSize 10)');
    expect(fit([1, 2, 3], [0, 2, 3], [0, 7])).toThrow('fit: data.labels[1] = 7 is outside [0, 2)');
    expect(fit([1, 2, 3], [0, 2, 3], [0])).toThrow('fit: data has 2 rows (offsets) but 1 labels');
    expect(fit([1, 2, 3], [0, 2], [0])).toThrow('fit: data.offsets must start at 0 and end at tokens.length (3), got 0 … 2');
    expect(fit([1, 2, 3], [0, 3, 2, 3], [0, 1, 0])).toThrow('fit: data.offsets[2] = 2 is below offsets[1] = 3');
    expect(fit([1], [], [])).toThrow(/offsets must start at 0 .* got an empty array/);
    expect(() => h.fit({ modelOptions: mo, data: { tokens: [1], offsets: [0, 1], labels: [0] } as never })).toThrow('fit: data packed must be { tokens: Int32Array, offsets: Int32Array, labels: Int32Array }');
    expect(() => h.fit({ modelOptions: mo, data: null as never })).toThrow(/^fit: data must be/);
  });
});

describe('fit a tokenClassifier (one label per token)', () => {
  // Each token's tag depends on its neighbour: (token + previous token) mod 3, the first token's
  // previous being 0; every third row leaves its odd positions unlabelled (-100).
  function tagged(n: number, seed: number) {
    const { sequences } = task(n, seed);
    const labels = sequences.map((s, i) => Array.from(s, (t, j) => (i % 3 === 2 && j % 2 === 1 ? -100 : (t + (j ? s[j - 1] : 0)) % 3)));
    return { sequences, labels };
  }
  const taggerOptions = { kind: 'tagger' as const, vocabSize: V, maxLen: T, dModel: 32, heads: 2, ffDim: 64, layers: 1, classes: 3, seed: 1 };

  it('learns per-token labels; loss and accuracy are per labelled token', async () => {
    const h = await heed.init();
    const val = tagged(128, 2);
    const r = await h.fit({ modelOptions: taggerOptions, data: tagged(512, 1), validation: val, epochs: 8, batchSize: 32, lr: 1e-2, weightDecay: 0, seed: 3 }).done;
    expect(r.model.config.kind).toBe('tagger');
    expect(r.history[7].valAccuracy).toBeGreaterThan(0.9);
    // The reported validation accuracy is over labelled tokens only: recount it from the model.
    let right = 0, counted = 0;
    for (let i = 0; i < val.sequences.length; i++) {
      const s = val.sequences[i], logits = r.model.forward(s, [1, s.length]).toArray();
      for (let j = 0; j < s.length; j++) {
        if (val.labels[i][j] === -100) continue;
        const row = Array.from(logits.subarray(j * 3, j * 3 + 3));
        right += row.indexOf(Math.max(...row)) === val.labels[i][j] ? 1 : 0;
        counted++;
      }
    }
    expect(r.history[7].valAccuracy).toBeCloseTo(right / counted, 6);
  }, 60_000);

  it('packed labels (one per token) train exactly as one array per row, on a worker and on this thread', async () => {
    const h = await heed.init();
    const d = tagged(96, 4);
    const offsets = new Int32Array(d.sequences.length + 1);
    d.sequences.forEach((s, i) => { offsets[i + 1] = offsets[i] + s.length; });
    const packed = { tokens: Int32Array.from(d.sequences.flatMap((s) => [...s])), offsets, labels: Int32Array.from(d.labels.flat()) };
    const opts = { modelOptions: taggerOptions, epochs: 2, batchSize: 16, lr: 5e-3, seed: 2, tokenDropout: 0.2 };
    const a = await h.fit({ ...opts, data: d, worker: false }).done;
    const b = await h.fit({ ...opts, data: packed }).done;
    expect(b.history.map((e) => e.loss)).toEqual(a.history.map((e) => e.loss));
    expect(b.model.stateDict()['head.weight'].data).toEqual(a.model.stateDict()['head.weight'].data);
  }, 60_000);

  it('checks per-token labels, naming the row and the token', async () => {
    const h = await heed.init();
    const fit = (data: unknown) => () => h.fit({ modelOptions: taggerOptions, data: data as { sequences: number[][]; labels: number[][] } });
    expect(fit({ sequences: [[1, 2], [3]], labels: [[0, 1], [0, 1]] })).toThrow('fit: data.labels[1] must be an array of 1 labels (one per token of sequences[1]), got 2');
    expect(fit({ sequences: [[1, 2]], labels: [1] })).toThrow('fit: data.labels[0] must be an array of 2 labels (one per token of sequences[0]), got 1');
    expect(fit({ sequences: [[1, 2]], labels: [[0, 3]] })).toThrow('fit: data.labels[0][1] = 3 is outside [0, 3) and is not -100 (no label)');
    const packed = (labels: number[]) => ({ tokens: Int32Array.of(1, 2, 3), offsets: Int32Array.of(0, 2, 3), labels: Int32Array.from(labels) });
    expect(fit(packed([0, 1]))).toThrow('fit: data has 3 tokens but 2 labels (a tokenClassifier takes one per token)');
    expect(fit(packed([0, 1, -1]))).toThrow('fit: data.labels[2] (row 1 token 0) = -1 is outside [0, 3) and is not -100 (no label)');
    // A class model still takes one label per row, and says so.
    expect(() => h.fit({ modelOptions, data: { sequences: [[1, 2]], labels: [[0, 1]] as unknown as number[] } })).toThrow('fit: data.labels[0] = 0,1 is outside [0, 2)');
  });
});

describe('fit an attentionPoolingRegressor (real values per row)', () => {
  // Two values per row: the share of its tokens above 5, and the share equal to 3.
  function valued(n: number, seed: number) {
    const { sequences } = task(n, seed);
    const labels = sequences.map((s) => [s.filter((t) => t > 5).length / s.length, s.filter((t) => t === 3).length / s.length]);
    return { sequences, labels };
  }
  const regressorOptions = { kind: 'regressor' as const, vocabSize: V, dModel: 16, outputs: 2, seed: 1 };

  it('learns: validation MSE falls far below that of predicting the mean; accuracy is NaN', async () => {
    const h = await heed.init();
    const train = valued(512, 1), val = valued(128, 2);
    const r = await h.fit({ modelOptions: regressorOptions, data: train, validation: val, epochs: 15, batchSize: 32, lr: 1e-2, weightDecay: 0, seed: 3 }).done;
    expect(r.model.config.kind).toBe('regressor');
    const mean = [0, 1].map((j) => train.labels.reduce((a, l) => a + l[j], 0) / train.labels.length);
    const baseline = val.labels.reduce((a, l) => a + ((l[0] - mean[0]) ** 2 + (l[1] - mean[1]) ** 2) / 2, 0) / val.labels.length;
    const last = r.history.at(-1)!;
    expect(last.valLoss!).toBeLessThan(0.2 * baseline);
    expect(last.valAccuracy).toBeNaN();
    expect(last.accuracy).toBeNaN();
    // The loss it reports is the mean squared error of its predictions.
    let se = 0;
    for (let i = 0; i < val.sequences.length; i++) {
      const s = val.sequences[i], y = r.model.forward(s, [1, s.length]).toArray();
      se += ((y[0] - val.labels[i][0]) ** 2 + (y[1] - val.labels[i][1]) ** 2) / 2;
    }
    expect(last.valLoss!).toBeCloseTo(se / val.sequences.length, 5);
  }, 60_000);

  it('one number per row (outputs: 1) and packed Float32Array values train alike, on 2 threads too', async () => {
    const h = await heed.init();
    const d = valued(96, 4), one = { ...regressorOptions, outputs: 1 };
    const ys = d.labels.map((l) => l[0]);
    const offsets = new Int32Array(d.sequences.length + 1);
    d.sequences.forEach((s, i) => { offsets[i + 1] = offsets[i] + s.length; });
    const packed = { tokens: Int32Array.from(d.sequences.flatMap((s) => [...s])), offsets, labels: Float32Array.from(ys) };
    const opts = { modelOptions: one, epochs: 2, batchSize: 16, lr: 5e-3, seed: 2 };
    const a = await h.fit({ ...opts, data: { sequences: d.sequences, labels: ys }, worker: false }).done;
    const b = await h.fit({ ...opts, data: packed }).done;
    expect(b.history.map((e) => e.loss)).toEqual(a.history.map((e) => e.loss));
    const c = await h.fit({ ...opts, data: packed, threads: 2 }).done;
    for (let e = 0; e < 2; e++) expect(Math.abs(c.history[e].loss - a.history[e].loss)).toBeLessThan(1e-5);
  }, 60_000);

  it('checks the values, naming the row', async () => {
    const h = await heed.init();
    const fit = (data: unknown) => () => h.fit({ modelOptions: regressorOptions, data: data as { sequences: number[][]; labels: number[][] } });
    expect(fit({ sequences: [[1, 2]], labels: [[0.5]] })).toThrow('fit: data.labels[0] must be 2 numbers (the model\'s outputs), got 1');
    expect(fit({ sequences: [[1, 2]], labels: [[0.5, NaN]] })).toThrow("fit: data.labels[0][1] = NaN is not a finite number in float32's range");
    expect(fit({ sequences: [[1, 2]], labels: [0.5] })).toThrow('fit: data.labels[0] must be 2 numbers (the model\'s outputs), got 0.5');
    const packed = { tokens: Int32Array.of(1, 2), offsets: Int32Array.of(0, 2) };
    expect(fit({ ...packed, labels: Int32Array.of(1, 2) })).toThrow('fit: data packed must be { tokens: Int32Array, offsets: Int32Array, labels: Float32Array }');
    expect(fit({ ...packed, labels: Float32Array.of(1) })).toThrow('fit: data has 1 rows (offsets) but 1 values (2 per row: 2)');
    expect(fit({ ...packed, labels: Float32Array.of(1, Infinity) })).toThrow("fit: data.labels[1] = Infinity is not a finite number in float32's range");
  });
});
