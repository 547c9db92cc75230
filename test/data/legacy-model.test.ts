// Model files written before hashed n-gram features, positions and the auto search (commit
// 68f65e8, test/fixtures/v0/) load and predict as they did then: same labels, same pieces, the
// same probabilities and attention weights on every backend.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { init, loadClassifier } from '../../src/infer.js';
import { expectClose } from '../util.js';

const dir = new URL('../fixtures/v0/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as {
  texts: string[];
  models: Record<string, Record<string, {
    predictions: { label: string; probabilities: Record<string, number> }[];
    explain: { text: string; label: string; pieces: string[]; weights: number[] };
  }>>;
};

describe.each(['wasm', 'wasm-scalar', 'js'] as const)('model files from before n-gram features (%s)', (backend) => {
  it.each(Object.keys(expected.models))('%s predicts and explains exactly as before', async (file) => {
    const want = expected.models[file][backend];
    const h = await init({ backend });
    const c = loadClassifier(h, new Uint8Array(readFileSync(new URL(file, dir))));
    const got = c.predict(expected.texts);
    expect(got.map((p) => p.label)).toEqual(want.predictions.map((p) => p.label));
    for (let i = 0; i < got.length; i++) {
      expect(Object.keys(got[i].probabilities)).toEqual(Object.keys(want.predictions[i].probabilities));
      expectClose(Float32Array.from(Object.values(got[i].probabilities)), Float32Array.from(Object.values(want.predictions[i].probabilities)), 1e-6, 1e-6);
    }
    const e = c.explain(want.explain.text);
    expect(e.label).toBe(want.explain.label);
    expect(e.pieces).toEqual(want.explain.pieces);
    expectClose(Float32Array.from(e.weights), Float32Array.from(want.explain.weights), 1e-6, 1e-6);
    c.dispose();
  });
});
