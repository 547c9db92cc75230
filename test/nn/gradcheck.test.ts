// Each whole model's explicit backward against finite differences of its forward (js backend,
// tiny configs, a padded batch), for cross-entropy and for classes: 1 with BCE.
import { describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { expectClose } from '../util.js';
import { centralDiffs, lossAndGrads, numericParamGrads, paramAt, trainingLoss } from './util.js';
import { lossOf } from '../../src/nn/targets.js';

const js = await init({ backend: 'js' });
// Two sequences of T = 5; the second is padded after 3 tokens.
const tokens = Int32Array.from([1, 4, 2, 6, 3, 5, 2, 6, 0, 0]);
const shape: [number, number] = [2, 5];

describe.each([3, 1])('whole-model gradients, classes %i', (classes) => {
  const labels = Int32Array.from(classes === 1 ? [1, 0] : [2, 0]);
  it('transformerClassifier backward matches finite differences for every parameter', () => {
    const m = js.transformerClassifier({ vocabSize: 7, maxLen: 6, dModel: 4, heads: 2, ffDim: 6, layers: 2, classes, seed: 3 });
    const { grads } = lossAndGrads(m, tokens, shape, labels);
    const all = [...Array(m.layout.total).keys()];
    const num = numericParamGrads(m, tokens, shape, labels, all);
    for (const e of m.layout.entries) {
      const got = grads.subarray(e.offset, e.offset + e.size), want = num.subarray(e.offset, e.offset + e.size);
      try { expectClose(got, want, 2e-3, 2e-2); } catch (err) { throw new Error(`${e.name}: ${(err as Error).message}`); }
    }
    expect(paramAt(m, 0)).toBe('embed.weight');
  });
  it('attentionPoolingClassifier backward matches finite differences for every parameter', () => {
    const m = js.attentionPoolingClassifier({ vocabSize: 7, dModel: 5, classes, seed: 4 });
    const { grads } = lossAndGrads(m, tokens, shape, labels);
    const num = numericParamGrads(m, tokens, shape, labels, [...Array(m.layout.total).keys()]);
    for (const e of m.layout.entries) {
      const got = grads.subarray(e.offset, e.offset + e.size), want = num.subarray(e.offset, e.offset + e.size);
      try { expectClose(got, want, 2e-3, 2e-2); } catch (err) { throw new Error(`${e.name}: ${(err as Error).message}`); }
    }
    // Softmax ignores a shift of every score: attn.bias has exactly zero gradient.
    const b = m.layout.get('attn.bias');
    expect(grads[b.offset]).toBe(0);
  });
  it('attentionPoolingClassifier with pool: mean backward matches finite differences for every parameter', () => {
    const m = js.attentionPoolingClassifier({ vocabSize: 7, dModel: 5, classes, seed: 4, pool: 'mean' });
    const { grads } = lossAndGrads(m, tokens, shape, labels);
    const num = numericParamGrads(m, tokens, shape, labels, [...Array(m.layout.total).keys()]);
    for (const e of m.layout.entries) {
      const got = grads.subarray(e.offset, e.offset + e.size), want = num.subarray(e.offset, e.offset + e.size);
      try { expectClose(got, want, 2e-3, 2e-2); } catch (err) { throw new Error(`${e.name}: ${(err as Error).message}`); }
    }
  });
});

describe('whole-model gradients, one class per token', () => {
  it('tokenClassifier backward matches finite differences for every parameter (-100 tokens add nothing)', () => {
    const m = js.tokenClassifier({ vocabSize: 7, maxLen: 6, dModel: 4, heads: 2, ffDim: 6, layers: 2, classes: 3, seed: 5 });
    // One label per token; -100 at the padding and at one real token.
    const labels = Int32Array.from([0, 2, 1, -100, 2, 1, 1, 0, -100, -100]);
    const loss = () => trainingLoss(m, tokens, shape, labels);
    loss();
    const grads = js.be.read(m.grads, m.layout.total), all = centralDiffs(m, loss);
    for (const e of m.layout.entries) {
      const num = all.subarray(e.offset, e.offset + e.size);
      try { expectClose(grads.subarray(e.offset, e.offset + e.size), num, 2e-3, 2e-2); } catch (err) { throw new Error(`${e.name}: ${(err as Error).message}`); }
    }
  });
});

describe('whole-model gradients, real values per row', () => {
  it('attentionPoolingRegressor backward (mean squared error) matches finite differences for every parameter', () => {
    const m = js.attentionPoolingRegressor({ vocabSize: 7, dModel: 5, outputs: 2, seed: 6 });
    const values = Float32Array.from([0.5, -1.5, 2, 0.25]);
    const { grads } = lossAndGrads(m, tokens, shape, values);
    const num = numericParamGrads(m, tokens, shape, values, [...Array(m.layout.total).keys()]);
    for (const e of m.layout.entries) {
      const got = grads.subarray(e.offset, e.offset + e.size), want = num.subarray(e.offset, e.offset + e.size);
      try { expectClose(got, want, 2e-3, 2e-2); } catch (err) { throw new Error(`${e.name}: ${(err as Error).message}`); }
    }
    // The training path (lossOf: checks and writes the targets) gives the same loss.
    const p = m.prepare(tokens, 2, 5);
    m.runForward(p, 2, 5);
    expect(lossOf(m, p, 2, values)).toBeCloseTo(lossAndGrads(m, tokens, shape, values).loss, 6);
  });
});
