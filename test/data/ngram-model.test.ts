// A model file with an 'ngram' tokenizer goes through heed/infer like any other: the tokenizer is
// stored and read back, predict gives what the full library computes, and explain shows the words
// of the text, each with the summed attention of the ids it gave.
import { describe, expect, it } from 'vitest';
import * as full from '../../src/index.js';
import { init, loadClassifier, Tokenizer } from '../../src/infer.js';
import { expectClose } from '../util.js';

describe('model file with an ngram tokenizer', () => {
  it('round-trips through heed/infer: same ids, same probabilities, explain by word', async () => {
    const h = await full.init({ backend: 'wasm' });
    const tok = Tokenizer.build(['ein Hund', 'a dog'], { type: 'ngram', buckets: 300 });
    const model = h.attentionPoolingClassifier({ vocabSize: tok.vocabSize, dModel: 8, classes: 2, seed: 1 });
    const bytes = h.saveModel(model, { tokenizer: tok.toJSON(), labels: ['de', 'en'] });
    const text = 'Der Hund bellt, the dog barks';
    const ids = tok.encode(text);
    const want = model.forward(ids, [1, ids.length]);
    const wantProbs = full.probabilities(want.toArray(), 1, 2);
    want.dispose();

    const c = loadClassifier(await init({ backend: 'wasm' }), bytes);
    expect(c.tokenizer.toJSON()).toEqual(tok.toJSON());
    expectClose(Float32Array.from(Object.values(c.predict([text])[0].probabilities)), wantProbs, 1e-6, 1e-6);
    const e = c.explain(text);
    expect(e.pieces).toEqual(['der', 'hund', 'bellt', ',', 'the', 'dog', 'barks']);
    expect(e.weights).toHaveLength(7);
    expect(e.weights.reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    // each word's weight is the sum over its own ids
    const { attention } = model.forward(ids, [1, ids.length], { returnAttention: true }) as unknown as { attention: full.Tensor };
    const att = attention.toArray(), owners = tok.encodeWithPieces(text).owners;
    const sums = new Array(7).fill(0);
    owners.forEach((w, i) => { sums[w] += att[i]; });
    expectClose(Float32Array.from(e.weights), Float32Array.from(sums), 1e-6, 1e-5);
    attention.dispose();
    c.dispose();
    model.dispose();
  });
});
