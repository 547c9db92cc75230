import { describe, expect, it } from 'vitest';
import { HeedError, Tokenizer, init, loadClassifier } from '../../src/index.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';

const h = await init({ backend: 'wasm' });
const tokens = Int32Array.from([1, 2, 3, 0, 4, 5, 6, 7]);

describe('model files', () => {
  it.each([
    ['transformer', () => h.transformerClassifier({ vocabSize: 9, maxLen: 4, dModel: 8, heads: 2, ffDim: 8, layers: 2, classes: 3, seed: 1 })],
    ['pooling', () => h.attentionPoolingClassifier({ vocabSize: 9, dModel: 6, classes: 1, seed: 2 })],
    ['regressor', () => h.attentionPoolingRegressor({ vocabSize: 9, dModel: 6, outputs: 2, seed: 3 })],
    ['pooling (mean)', () => h.attentionPoolingClassifier({ vocabSize: 9, dModel: 6, classes: 3, seed: 2, pool: 'mean' })],
  ] as const)('%s: save → load gives the same config, weights, logits, tokenizer and labels', (_, make) => {
    const m = make();
    // A regressor's labels name its outputs (one each, even for one output).
    const labels = m.config.kind === 'regressor' ? ['price', 'rating'] : m.outputs === 1 ? ['neg', 'pos'] : ['a', 'b', 'c'];
    const tokenizer = { type: 'word', vocab: ['<pad>', '<unk>', 'x'] };
    const bytes = h.saveModel(m, { tokenizer, labels });
    const loaded = h.loadModel(bytes);
    expect(loaded.model.config).toEqual(m.config);
    expect(loaded.labels).toEqual(labels);
    expect(loaded.tokenizer).toEqual(tokenizer);
    expect(loaded.model.forward(tokens, [2, 4]).toArray()).toEqual(m.forward(tokens, [2, 4]).toArray());
    const { metadata, tensors } = decodeSafetensors(bytes);
    expect(metadata.format).toBe('heed');
    expect(JSON.parse(metadata.config).kind).toBe(m.config.kind);
    expect([...tensors.keys()]).toEqual(Object.keys(m.stateDict()));
  });
  it('pool: a default (attention) config has no pool field, as before the option; mean pooling has no attn weights', () => {
    const attention = h.attentionPoolingClassifier({ vocabSize: 9, dModel: 6, seed: 2, pool: 'attention' });
    expect('pool' in attention.config).toBe(false);
    expect(h.saveModel(attention)).toEqual(h.saveModel(h.attentionPoolingClassifier({ vocabSize: 9, dModel: 6, seed: 2 })));
    const mean = h.attentionPoolingClassifier({ vocabSize: 9, dModel: 6, seed: 2, pool: 'mean' });
    expect(Object.keys(mean.stateDict())).toEqual(['embed.weight', 'head.weight', 'head.bias']);
    expect(() => h.attentionPoolingClassifier({ vocabSize: 9, pool: 'max' as never })).toThrow(/pool must be 'attention' or 'mean', got "max"/);
    for (const m of [attention, mean]) m.dispose();
  });
  it('is byte-identical for the same model, tokenizer and labels', () => {
    const make = () => h.attentionPoolingClassifier({ vocabSize: 9, dModel: 6, seed: 7 });
    const a = h.saveModel(make(), { labels: ['x', 'y'] }), b = h.saveModel(make(), { labels: ['x', 'y'] });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });
  it('rejects labels that do not match the classes', () => {
    const m = h.attentionPoolingClassifier({ vocabSize: 9, classes: 3 });
    expect(() => h.saveModel(m, { labels: ['a', 'b'] })).toThrow('labels must be 3 strings');
    const r = h.attentionPoolingRegressor({ vocabSize: 9 });
    expect(() => h.saveModel(r, { labels: ['a', 'b'] })).toThrow('labels must be 1 strings for a model with 1 outputs');
  });
  it('a regressor file is not a classifier: loadClassifier refuses it, saying what it is', () => {
    const bytes = h.saveModel(h.attentionPoolingRegressor({ vocabSize: 9, outputs: 1 }), { labels: ['score'] });
    expect(() => loadClassifier(h, bytes, 'r.safetensors')).toThrow('r.safetensors: this regressor model gives real values, not a class per text; loadClassifier reads text classifiers');
  });

  const base = () => {
    const m = h.attentionPoolingClassifier({ vocabSize: 5, dModel: 4, seed: 1 });
    return decodeSafetensors(h.saveModel(m));
  };
  const rebuild = (edit: (d: ReturnType<typeof base>) => void) => {
    const d = base();
    edit(d);
    return encodeSafetensors([...d.tensors.values()], d.metadata);
  };
  it.each([
    ['a file that is not heed\'s', rebuild((d) => { d.metadata.format = 'pt'; }), /not a heed model/],
    ['a missing config', rebuild((d) => { delete d.metadata.config; }), /metadata has no "config"/],
    ['a config that is not JSON', rebuild((d) => { d.metadata.config = '{kind'; }), /metadata "config"/],
    ['an unknown kind', rebuild((d) => { d.metadata.config = '{"kind":"rnn"}'; }), /config kind "rnn"/],
    ['an invalid config', rebuild((d) => { d.metadata.config = '{"kind":"pooling","vocabSize":-3}'; }), /config is invalid: .*vocabSize/],
    ['a config that disagrees with a shape', rebuild((d) => { d.metadata.config = '{"kind":"pooling","vocabSize":6,"dModel":4,"classes":2,"seed":1}'; }), /config disagrees with the tensors: "embed.weight" has shape \[5,4\]/],
    ['a missing tensor', rebuild((d) => { d.tensors.delete('head.bias'); }), /tensor "head.bias" is missing/],
    ['an extra tensor', rebuild((d) => { d.tensors.set('extra', { name: 'extra', shape: [1], data: new Float32Array(1) }); }), /unexpected tensor "extra"/],
    ['labels of the wrong count', rebuild((d) => { d.metadata.labels = '["a"]'; }), /labels must be 2 strings/],
  ])('rejects %s with a HeedError, leaving no model behind', (_, bytes, msg) => {
    const before = h.memory().bytes;
    expect(() => h.loadModel(bytes)).toThrow(HeedError);
    expect(() => h.loadModel(bytes)).toThrow(msg);
    expect(h.memory().bytes).toBe(before);
  });
});

// Files that decode and match their config but would give wrong numbers, or fail later far from the
// file: non-finite weights, a tokenizer with more entries than the embedding has rows, duplicate
// labels. loadModel refuses them naming the file (loadClassifier passes its path), and saveModel
// never writes them.
describe('model-file validity rules', () => {
  const tokenizerOf = (n: number) => Tokenizer.build(Array.from({ length: n - 2 }, (_, i) => `w${i}`), { type: 'word', minFreq: 1 });
  const good = () => {
    const m = h.attentionPoolingClassifier({ vocabSize: 10, dModel: 4, classes: 3, seed: 1 });
    return decodeSafetensors(h.saveModel(m, { tokenizer: tokenizerOf(10), labels: ['a', 'b', 'c'] }));
  };
  const edited = (edit: (d: ReturnType<typeof good>) => void) => {
    const d = good();
    edit(d);
    return encodeSafetensors([...d.tensors.values()], d.metadata);
  };
  const poison = (name: string, i: number, v: number) => (d: ReturnType<typeof good>) => {
    const t = d.tensors.get(name)!;
    const data = t.data.slice();
    data[i] = v;
    d.tensors.set(name, { ...t, data });
  };
  it.each([
    ['a NaN weight', poison('head.weight', 5, NaN), /^m\.safetensors: tensor "head\.weight" holds NaN at element 5; weights must be finite$/],
    ['an infinite weight', poison('embed.weight', 0, -Infinity), /^m\.safetensors: tensor "embed\.weight" holds -Infinity at element 0/],
    ['a tokenizer larger than the embedding', (d: ReturnType<typeof good>) => { d.metadata.tokenizer = JSON.stringify(tokenizerOf(12)); },
      /^m\.safetensors: the tokenizer has 12 entries but the model embeds only 10 \(config vocabSize\): ids 10 to 11 have no embedding$/],
    ['duplicate labels', (d: ReturnType<typeof good>) => { d.metadata.labels = '["a","b","a"]'; },
      /^m\.safetensors: labels must be distinct: "a" is label 0 and label 2$/],
  ])('refuses %s at load, naming the file, and leaves nothing behind', (_, edit, msg) => {
    const bytes = edited(edit);
    const before = h.memory();
    expect(() => loadClassifier(h, bytes, 'm.safetensors')).toThrow(HeedError);
    expect(() => loadClassifier(h, bytes, 'm.safetensors')).toThrow(msg);
    expect(() => h.loadModel(bytes)).toThrow(new RegExp(msg.source.replace('^m\\.safetensors', '^model file')));
    expect(h.memory()).toEqual(before);
  });
  it('a valid file with these rules kept still loads and predicts', () => {
    const clf = loadClassifier(h, edited(() => {}), 'm.safetensors');
    expect(clf.labels).toEqual(['a', 'b', 'c']);
    expect(clf.predict(['w1 w2'])[0].probability).toBeGreaterThan(0);
  });
  it('saveModel refuses to write them', () => {
    const m = h.attentionPoolingClassifier({ vocabSize: 10, dModel: 4, classes: 3, seed: 1 });
    expect(() => h.saveModel(m, { labels: ['a', 'b', 'a'] })).toThrow(/^saveModel: labels must be distinct: "a" is label 0 and label 2; nothing was written$/);
    expect(() => h.saveModel(m, { tokenizer: tokenizerOf(11), labels: ['a', 'b', 'c'] }))
      .toThrow(/^saveModel: the tokenizer has 11 entries but the model embeds only 10/);
    const sd = m.stateDict();
    sd['head.bias'].data[1] = NaN;
    m.loadStateDict(sd);
    expect(() => h.saveModel(m, { labels: ['a', 'b', 'c'] })).toThrow(/^saveModel: tensor "head\.bias" holds NaN at element 1; weights must be finite; nothing was written$/);
  });
});
