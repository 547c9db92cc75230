// Models that learn: the "is A before B" task needs attention (every sequence holds the same two
// marker tokens; only their order decides the label), so a model that reaches high accuracy on
// held-out sequences has learnt to use positions through attention.
import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import type { Model } from '../../src/nn/model.js';
import { orderTask } from './util.js';

const T = 12, V = 10;
const train = orderTask(1024, T, V, 1), test = orderTask(256, T, V, 2);

function accuracy(model: Model, data: { tokens: Int32Array; labels: Int32Array }): number {
  const n = data.labels.length, logits = model.forward(data.tokens, [n, T]), l = logits.toArray(), C = model.outputs;
  logits.dispose();
  let right = 0;
  for (let i = 0; i < n; i++) {
    const pred = C === 1 ? (l[i] > 0 ? 1 : 0) : (l[2 * i + 1] > l[2 * i] ? 1 : 0);
    if (pred === data.labels[i]) right++;
  }
  return right / n;
}

function fit(h: Awaited<ReturnType<typeof init>>, model: Model, epochs: number, lr: number): number[] {
  const opt = h.adamwOptimizer(model, { lr, weightDecay: 0 });
  const B = 32, losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let sum = 0;
    for (let i = 0; i + B <= train.labels.length; i += B) {
      sum += h.trainStep(model, opt, train.tokens.subarray(i * T, (i + B) * T), [B, T], train.labels.subarray(i, i + B));
    }
    losses.push(sum / (train.labels.length / B));
  }
  opt.dispose();
  return losses;
}

describe.each(['wasm', 'wasm-scalar', 'js'] as const)('training on %s', async (backend) => {
  const h = await init({ backend });
  const epochs = backend === 'js' ? 6 : 8;
  it('transformerClassifier learns "A before B" (held-out accuracy > 90%)', () => {
    const m = h.transformerClassifier({ vocabSize: V, maxLen: T, dModel: 32, heads: 2, ffDim: 64, layers: 1, classes: 2, seed: 1 });
    const losses = fit(h, m, epochs, 3e-3);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    expect(accuracy(m, test)).toBeGreaterThan(0.9);
    m.dispose();
  });
  it('attentionPoolingClassifier with classes: 1 (BCE) learns to detect a token', () => {
    // Pooling has no positions, so give it a task it can solve: does the sequence contain token 1?
    const n = 1024, tokens = new Int32Array(n * T), labels = new Int32Array(n);
    let s = 7;
    const r = (m: number) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return Math.floor((s / 2 ** 32) * m); };
    for (let i = 0; i < n; i++) {
      const len = 2 + r(T - 1);
      for (let t = 0; t < len; t++) tokens[i * T + t] = 2 + r(V - 2);
      labels[i] = r(2);
      if (labels[i]) tokens[i * T + r(len)] = 1;
    }
    const m = h.attentionPoolingClassifier({ vocabSize: V, dModel: 16, classes: 1, seed: 2 });
    const opt = h.adamwOptimizer(m, { lr: 1e-2 });
    const first = h.trainStep(m, opt, tokens.subarray(0, 32 * T), [32, T], labels.subarray(0, 32));
    for (let e = 0; e < 4; e++) for (let i = 0; i + 32 <= 768; i += 32) h.trainStep(m, opt, tokens.subarray(i * T, (i + 32) * T), [32, T], labels.subarray(i, i + 32));
    const logits = m.forward(tokens.subarray(768 * T), [256, T]).toArray();
    let right = 0;
    for (let i = 0; i < 256; i++) if ((logits[i] > 0 ? 1 : 0) === labels[768 + i]) right++;
    expect(right / 256).toBeGreaterThan(0.95);
    const last = h.trainStep(m, opt, tokens.subarray(0, 32 * T), [32, T], labels.subarray(0, 32));
    expect(last).toBeLessThan(first * 0.5);
    m.dispose();
  });
});

describe('training is deterministic and guarded', async () => {
  const h = await init({ backend: 'wasm' });
  const run = () => {
    const m = h.transformerClassifier({ vocabSize: V, maxLen: T, dModel: 16, heads: 2, ffDim: 32, layers: 1, seed: 5 });
    const opt = h.adamwOptimizer(m, { lr: 1e-3, clipNorm: 1 });
    for (let i = 0; i < 8; i++) h.trainStep(m, opt, train.tokens.subarray(i * 32 * T, (i + 1) * 32 * T), [32, T], train.labels.subarray(i * 32, (i + 1) * 32));
    const sd = m.stateDict();
    m.dispose(); opt.dispose();
    return sd;
  };
  it('the same seed and data give bit-identical weights', () => {
    const a = run(), b = run();
    for (const k of Object.keys(a)) expect(Buffer.from(a[k].data.buffer).equals(Buffer.from(b[k].data.buffer)), k).toBe(true);
  });
  it('different seeds give different initial weights', () => {
    const a = h.attentionPoolingClassifier({ vocabSize: V, seed: 1 }), b = h.attentionPoolingClassifier({ vocabSize: V, seed: 2 });
    expect(a.stateDict()['embed.weight'].data).not.toEqual(b.stateDict()['embed.weight'].data);
  });
  it('a non-finite loss stops trainStep with a HeedError before any parameter changes', () => {
    const m = h.attentionPoolingClassifier({ vocabSize: V, dModel: 8, seed: 3 });
    const opt = h.adamwOptimizer(m, { lr: 1e-3 });
    const e = m.layout.get('head.weight');
    m.be.write(m.params, [Infinity], e.offset);
    const before = m.stateDict();
    expect(() => h.trainStep(m, opt, train.tokens.subarray(0, 4 * T), [4, T], train.labels.subarray(0, 4))).toThrow(HeedError);
    expect(() => h.trainStep(m, opt, train.tokens.subarray(0, 4 * T), [4, T], train.labels.subarray(0, 4))).toThrow(/at step 1/);
    const after = m.stateDict();
    for (const k of Object.keys(before)) expect(after[k].data, k).toEqual(before[k].data);
    expect(opt.step).toBe(0);
  });
  it('a training step allocates no linear memory after the first', () => {
    const m = h.transformerClassifier({ vocabSize: V, maxLen: T, dModel: 16, heads: 2, ffDim: 32, layers: 2, seed: 5 });
    const opt = h.adamwOptimizer(m);
    const step = () => h.trainStep(m, opt, train.tokens.subarray(0, 32 * T), [32, T], train.labels.subarray(0, 32));
    step();
    const mem = h.memory();
    for (let i = 0; i < 50; i++) step();
    expect(h.memory()).toEqual(mem);
  });
});
