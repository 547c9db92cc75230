// Hugging Face checkpoints: a tiny BertForSequenceClassification saved by transformers
// (test/fixtures/hf-bert/, from test/fixtures/make_bert_fixtures.py) loads into a bertClassifier
// that gives HF's logits, loss and gradients (float64 on the float32 weights) and follows its
// AdamW trajectory, on every backend; F16 weights widen; a base BertModel gets a fresh classifier;
// the model goes back out in HF's layout; what heed cannot honour is refused by name.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { loadPretrained, toPretrained } from '../../src/io/hf.js';
import { expectClose } from '../util.js';
import { lossOf } from '../../src/nn/targets.js';

const dir = new URL('../fixtures/hf-bert/', import.meta.url);
const file = (p: string) => new Uint8Array(readFileSync(new URL(p, dir)));
const text = (p: string) => readFileSync(new URL(p, dir), 'utf8');
interface Enc { shape: number[]; data: number[] }
const fx = JSON.parse(text('expected.json')) as {
  names: string[]; shape: [number, number]; tokens: number[]; types: number[]; labels: number[];
  logits: Enc; hidden: Enc; loss: number; grads: Record<string, Enc>; logitsF16: Enc;
  train: { lr: number; weightDecay: number; clipNorm: number; losses: number[]; final: Record<string, Enc>; losses64: number[]; final64: Record<string, Enc> };
};
const classifier = { config: text('classifier/config.json'), weights: file('classifier/model.safetensors') };
const [B, T] = fx.shape;

describe.each(['wasm', 'wasm-scalar', 'js'] as const)('a Hugging Face BERT checkpoint on %s', async (backend) => {
  const h = await init({ backend });

  it('loads with HF names in HF order and gives its logits, loss and every gradient', () => {
    const { model, labels, initialised, ignored } = loadPretrained(h, classifier);
    expect(labels).toEqual(['neg', 'neutral', 'pos']);
    expect(initialised).toEqual([]);
    expect(ignored).toEqual([]);
    expect(model.layout.entries.map((e) => e.name)).toEqual(fx.names);
    const logits = model.forward(fx.tokens, [B, T], { typeIds: fx.types });
    expectClose(logits.toArray(), fx.logits.data, 2e-5, 2e-4);
    logits.dispose();
    const hidden = model.hiddenStates(fx.tokens, [B, T], { typeIds: fx.types });   // HF's last_hidden_state
    expect(hidden.shape).toEqual(fx.hidden.shape);
    expectClose(hidden.toArray(), fx.hidden.data, 2e-5, 2e-4);
    hidden.dispose();
    const p = model.prepare(fx.tokens, B, T, fx.types);
    h.be.zero(model.grads, model.layout.total);
    model.runForward(p, B, T);
    expect(lossOf(model, p, B, fx.labels)).toBeCloseTo(fx.loss, 5);
    model.runBackward(p, B, T);
    for (const e of model.layout.entries) {
      try { expectClose(h.be.read(model.grads, e.size, e.offset), fx.grads[e.name].data, 2e-5, 2e-4); } catch (err) { throw new Error(`${e.name}: ${(err as Error).message}`); }
    }
    model.dispose();
  });

  it('fine-tunes as transformers does: 10 AdamW steps with clipping', () => {
    const { model } = loadPretrained(h, classifier);
    const t = fx.train, opt = h.adamwOptimizer(model, { lr: t.lr, weightDecay: t.weightDecay, clipNorm: t.clipNorm });
    const losses = Array.from({ length: 10 }, () => h.trainStep(model, opt, fx.tokens, [B, T], fx.labels, { typeIds: fx.types }));
    expectClose(losses, t.losses64, 1e-6, 1e-5);
    const sd = model.stateDict();
    // Every key bias has an exactly zero gradient (softmax ignores q·b_k): heed and float64 keep it
    // at pure weight decay, float32 PyTorch leaves noise there; compare those with float64 only.
    for (const [name, want] of Object.entries(t.final64)) {
      try {
        expectClose(sd[name].data, want.data, 1e-5, 1e-4);
        if (!name.endsWith('attention.self.key.bias')) expectClose(sd[name].data, t.final[name].data, 1e-5, 1e-4);
      } catch (err) { throw new Error(`${name}: ${(err as Error).message}`); }
    }
    opt.dispose(); model.dispose();
  });

  it('widens F16 weights', () => {
    const { model } = loadPretrained(h, { config: classifier.config, weights: file('classifier-f16/model.safetensors') });
    const logits = model.forward(fx.tokens, [B, T], { typeIds: fx.types });
    expectClose(logits.toArray(), fx.logitsF16.data, 2e-5, 2e-4);
    logits.dispose(); model.dispose();
  });
});

describe('Hugging Face checkpoints: base models, the way back, and what is refused', async () => {
  const h = await init({ backend: 'js' });

  it('a base BertModel (no "bert." prefix) gets a fresh classifier and keeps every encoder weight', () => {
    const base = { config: text('base/config.json'), weights: file('base/model.safetensors') };
    expect(() => loadPretrained(h, base)).toThrow(/a base model has no classifier: give classes/);
    const { model, initialised, labels } = loadPretrained(h, base, { classes: 2, labels: ['no', 'yes'], seed: 3 });
    expect(initialised).toEqual(['classifier.weight', 'classifier.bias']);
    expect(labels).toEqual(['no', 'yes']);
    const full = loadPretrained(h, classifier).model, a = model.stateDict(), b = full.stateDict();
    for (const name of Object.keys(a)) if (!name.startsWith('classifier.')) expect(a[name].data, name).toEqual(b[name].data);
    expect(Math.max(...a['classifier.bias'].data.map(Math.abs))).toBe(0);   // HF's init: zero bias, N(0, 0.02) weight
    model.dispose(); full.dispose();
  });

  it('goes back out in HF layout: the same tensor names and shapes, a config that loads, the same logits', () => {
    const { model, labels } = loadPretrained(h, classifier);
    const out = toPretrained(model, labels);
    const mine = decodeSafetensors(out.weights).tensors, theirs = decodeSafetensors(classifier.weights).tensors;
    expect([...mine.keys()].sort()).toEqual([...theirs.keys()].sort());
    for (const [name, t] of theirs) expect(mine.get(name)!.data, name).toEqual(t.data);
    const again = loadPretrained(h, out);
    expect(again.labels).toEqual(['neg', 'neutral', 'pos']);
    const l1 = model.forward(fx.tokens, [B, T], { typeIds: fx.types }).toArray(), l2 = again.model.forward(fx.tokens, [B, T], { typeIds: fx.types }).toArray();
    expect(l2).toEqual(l1);
    model.dispose(); again.model.dispose();
  });

  it('refuses what it cannot honour, naming the key and the value, and leaves nothing behind', () => {
    const cfg = JSON.parse(classifier.config);
    const bad = (patch: Record<string, unknown>) => ({ config: { ...cfg, ...patch }, weights: classifier.weights });
    const before = h.memory().allocatedBytes;
    expect(() => loadPretrained(h, bad({ model_type: 'roberta' }))).toThrow(/model_type "roberta" is not supported/);
    expect(() => loadPretrained(h, bad({ hidden_act: 'relu' }))).toThrow(/hidden_act "relu" is not supported/);
    expect(() => loadPretrained(h, bad({ position_embedding_type: 'relative_key' }))).toThrow(/position_embedding_type "relative_key" is not supported/);
    expect(() => loadPretrained(h, bad({ hidden_size: 32 }))).toThrow(HeedError);
    expect(() => loadPretrained(h, bad({ num_hidden_layers: 3 }))).toThrow(/tensor "bert.encoder.layer.2.attention.self.query.weight" is missing/);
    expect(() => loadPretrained(h, classifier, { classes: 5 })).toThrow(/classifier.weight has 3 rows but classes is 5/);
    expect(h.memory().allocatedBytes).toBe(before);
  });
});
