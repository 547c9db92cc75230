// heed/infer from source: init() gives an inference-only context (forward ops, models, model files;
// no optimizer, trainStep or fit), its wasm comes from the .wasm files rather than inlined base64,
// and loadClassifier predicts and explains exactly what the full library computes for the same
// model file.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as full from '../../src/index.js';
import * as infer from '../../src/infer.js';
import { explainText } from '../../src/classifier/explain.js';
import { predictBatches } from '../../src/train/evaluate.js';
import { evalBatches } from '../../src/data/dataset.js';

const texts = ['the match ended in a draw', 'the striker scored a late goal', 'rain is expected on the coast tomorrow',
  'a cold front brings snow', 'the keeper saved a penalty', 'sunny spells and light winds', ''];
const tok = infer.Tokenizer.build(texts, { minFreq: 1 });
const V = tok.toJSON().vocab.length;

const h = await full.init();   // the build infer.init() picks too (wasm-relaxed on Node 22+): results compared bit for bit
const files = {
  transformer: h.saveModel(h.transformerClassifier({ vocabSize: V, maxLen: 8, dModel: 8, heads: 2, ffDim: 16, layers: 2, classes: 3, seed: 3 }),
    { tokenizer: tok.toJSON(), labels: ['sport', 'weather', 'other'] }),
  pooling: h.saveModel(h.attentionPoolingClassifier({ vocabSize: V, dModel: 8, classes: 1, seed: 4 }),
    { tokenizer: tok.toJSON(), labels: ['neg', 'pos'] }),
  mean: h.saveModel(h.attentionPoolingClassifier({ vocabSize: V, dModel: 8, classes: 3, seed: 5, pool: 'mean' }),
    { tokenizer: tok.toJSON(), labels: ['sport', 'weather', 'other'] }),
};

describe('heed/infer init()', () => {
  it('gives an inference context: forward ops, models and model files, no training methods', async () => {
    const c = await infer.init();
    expect(c.backend).toBe(c.features.relaxedSimd ? 'wasm-relaxed' : 'wasm');
    expect(Object.keys(c.ops).sort()).toEqual(['attention', 'attentionWeights', 'gelu', 'layerNorm', 'matmul', 'softmax', 'tanh']);
    for (const m of ['adamwOptimizer', 'trainStep', 'fit']) expect(m in c, m).toBe(false);
    for (const m of ['adamwOptimizer', 'trainStep', 'fit']) expect(typeof (h as unknown as Record<string, unknown>)[m], m).toBe('function');
    const t = c.ops.softmax(c.tensor([1, 2, 3], [3]));
    expect(Array.from(t.toArray()).reduce((a, b) => a + b)).toBeCloseTo(1, 6);
    t.dispose();
  });
  it('takes the same options as heed: every backend, a precompiled module, a memory cap', async () => {
    expect((await infer.init({ backend: 'wasm-scalar' })).backend).toBe('wasm-scalar');
    expect((await infer.init({ backend: 'js' })).backend).toBe('js');
    const module = await WebAssembly.compile(readFileSync(new URL('../../build/simd.wasm', import.meta.url)));
    expect((await infer.init({ module })).backend).toBe('wasm');
    await expect(infer.init({ backend: 'gpu' as never })).rejects.toThrow(infer.HeedError);
    const capped = await infer.init({ maxMemoryMB: 1 });
    expect(() => capped.zeros([1 << 20])).toThrow(/over the cap/);
  });
  it('shares HeedError and Tensor with the full library', () => {
    expect(infer.HeedError).toBe(full.HeedError);
    expect(infer.Tensor).toBe(full.Tensor);
  });
});

describe('loadClassifier', () => {
  it.each(['transformer', 'pooling', 'mean'] as const)('%s: predict() gives what the full library computes, in input order', async (kind) => {
    const c = await infer.init();
    const clf = infer.loadClassifier(c, files[kind]);
    const K = clf.labels.length;
    const many = Array.from({ length: 150 }, (_, i) => texts[i % texts.length] + (i % 3 ? ' goal' : ' rain')); // > one batch, none empty
    const got = clf.predict(many);
    expect(got).toHaveLength(many.length);
    // The reference: the training side's evaluation over the same model file in the full library.
    const { model } = h.loadModel(files[kind]);
    const seqs = many.map((t) => tok.encode(t, clf.maxLen));
    const pr = predictBatches(model, evalBatches(seqs, new Int32Array(many.length), Int32Array.from(many.keys()), 64, clf.maxLen), { keepProbs: true });
    for (let i = 0; i < many.length; i++) {
      const want = Object.fromEntries(clf.labels.map((l, k) => [l, pr.probs![i * K + k]]));
      expect(got[i].probabilities).toEqual(want);
      expect(got[i].label).toBe(clf.labels[pr.predicted[i]]);
      expect(got[i].probability).toBe(pr.probs![i * K + pr.predicted[i]]);
    }
    expect(clf.predict([])).toEqual([]);
    model.dispose();
    clf.dispose();
  });
  it.each(['transformer', 'pooling', 'mean'] as const)('%s: explain() gives pieces, one weight each summing to about 1, and predict()\'s answer', async (kind) => {
    const c = await infer.init();
    const clf = infer.loadClassifier(c, files[kind]);
    const text = 'the striker scored in the rain';
    const e = clf.explain(text);
    expect(e.pieces).toEqual(tok.encodeWithPieces(text, clf.maxLen).pieces);
    expect(e.weights).toHaveLength(e.pieces.length);
    expect(e.weights.reduce((a, b) => a + b)).toBeCloseTo(1, 4);
    const [p] = clf.predict([text]);
    expect({ label: e.label, probability: e.probability, probabilities: e.probabilities, truncated: e.truncated }).toEqual(p);
    expect(e).toEqual(explainText(clf, text));
    expect(infer.explanationHtml(e, text)).toContain(`Prediction: ${e.label}`);
    // Mean pooling reads every piece alike: each one's share of the mean.
    if (kind === 'mean') for (const w of e.weights) expect(w).toBeCloseTo(1 / e.pieces.length, 6);
    clf.dispose();
  });
  it.each(['transformer', 'pooling', 'mean'] as const)('%s: an empty text is a HeedError naming it; a text past maxLen says truncated', async (kind) => {
    const clf = infer.loadClassifier(await infer.init(), files[kind]);
    expect(() => clf.predict(['goal', '', 'rain'])).toThrow(/^predict: texts\[1\] has no tokens \(it is empty or only whitespace\)/);
    expect(() => clf.predict(['goal', ' \t\n '])).toThrow(/texts\[1\] has no tokens/);
    expect(() => clf.explain('')).toThrow(/^explain: the text has no tokens/);
    const fits = Array(clf.maxLen).fill('goal').join(' '), long = fits + ' rain';
    const [a, b] = clf.predict([fits, long]);
    expect([a.truncated, b.truncated]).toEqual([false, true]);
    expect(b.probabilities).toEqual(clf.predict([fits])[0].probabilities); // the cut text is what was read
    const e = clf.explain(long);
    expect(e.truncated).toBe(true);
    expect(e.pieces).toHaveLength(clf.maxLen);
    expect(clf.explain(fits).truncated).toBe(false);
    expect(infer.explanationHtml(e, long)).toContain(`only its first ${clf.maxLen} tokens were used`);
    expect(infer.explanationHtml(clf.explain(fits), fits)).not.toContain('tokens were used');
    clf.dispose();
  });
  it('classes: 1 reads as two labels, negative first', async () => {
    const clf = infer.loadClassifier(await infer.init(), files.pooling);
    const [p] = clf.predict(['a cold front']);
    expect(Object.keys(p.probabilities)).toEqual(['neg', 'pos']);
    expect(p.probabilities.neg + p.probabilities.pos).toBeCloseTo(1, 6);
  });
  it('works on a full-library context too, and refuses anything else', () => {
    expect(infer.loadClassifier(h, files.pooling).predict(['x'])).toHaveLength(1);
    expect(() => infer.loadClassifier({} as never, files.pooling)).toThrow(/expected a heed context/);
  });
  it('bad input is a HeedError naming it; a bad file leaves nothing allocated', async () => {
    const c = await infer.init();
    const clf = infer.loadClassifier(c, files.pooling);
    expect(() => clf.predict('one text' as never)).toThrow(/texts must be an array of strings, got a string/);
    expect(() => clf.predict(['ok', 3 as never])).toThrow(/texts\[1\] is number/);
    expect(() => clf.explain(null as never)).toThrow(/explain: text must be a string/);
    clf.dispose();
    expect(() => clf.predict(['x'])).toThrow(/used after dispose/);
    const before = c.memory();
    expect(() => infer.loadClassifier(c, files.pooling.subarray(0, 100))).toThrow(infer.HeedError);
    expect(() => infer.loadClassifier(c, new Uint8Array(8), 'upload.safetensors')).toThrow(/^upload\.safetensors: /);
    const badTokenizer = h.saveModel(h.attentionPoolingClassifier({ vocabSize: 4, seed: 1 }), { tokenizer: { type: 'bpe' } });
    expect(() => infer.loadClassifier(c, badTokenizer)).toThrow(/the tokenizer in the file is invalid/);
    expect(c.memory().allocatedBytes).toBe(before.allocatedBytes);
  });
});
