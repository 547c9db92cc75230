// The layer refactor (issue 12) changed no bit: these are SHA-256 digests of the float32 bytes of
// logits, attention maps, gradients and the weights after 10 AdamW steps, as the hand-written
// models computed them before the refactor, on each backend. HEED_WRITE_PRE_LAYERS=1 rewrites the
// fixture (only ever from the pre-refactor code: see git history of the fixture).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import type { Model } from '../../src/nn/model.js';
import { lossAndGrads } from './util.js';

const FIXTURE = new URL('../fixtures/pre-layers.json', import.meta.url);
const writing = process.env.HEED_WRITE_PRE_LAYERS === '1';
const expected: Record<string, Record<string, string>> = writing ? {} : JSON.parse(readFileSync(FIXTURE, 'utf8'));

const digest = (a: Float32Array | Float32Array[]): string => {
  const h = createHash('sha256');
  for (const x of Array.isArray(a) ? a : [a]) h.update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  return h.digest('hex').slice(0, 32);
};

type H = Awaited<ReturnType<typeof init>>;
interface Case { name: string; build(h: H): Model; B: number; T: number; tokens: number[]; labels: number[] }

// Rows with padding at the end, one row of padding only: every masked path runs.
const cases: Case[] = [
  { name: 'transformer, 3 classes', B: 4, T: 6,
    build: (h) => h.transformerClassifier({ vocabSize: 13, maxLen: 7, dModel: 8, heads: 2, ffDim: 12, layers: 2, classes: 3, seed: 5 }),
    tokens: [5, 3, 12, 7, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 9, 9, 11, 0, 0, 0], labels: [2, 0, 1, 1] },
  { name: 'transformer, classes 1', B: 3, T: 7,
    build: (h) => h.transformerClassifier({ vocabSize: 10, maxLen: 7, dModel: 12, heads: 3, ffDim: 20, layers: 1, classes: 1, seed: 9 }),
    tokens: [1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4], labels: [1, 0, 1] },
  { name: 'pooling, 3 classes', B: 4, T: 5,
    build: (h) => h.attentionPoolingClassifier({ vocabSize: 11, dModel: 8, classes: 3, seed: 3 }),
    tokens: [1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 10, 9, 8, 7, 6, 4, 4, 0, 0, 0], labels: [0, 2, 1, 2] },
  { name: 'pooling, classes 1', B: 3, T: 4,
    build: (h) => h.attentionPoolingClassifier({ vocabSize: 7, dModel: 5, classes: 1, seed: 4 }),
    tokens: [1, 2, 3, 4, 5, 6, 0, 0, 6, 6, 6, 6], labels: [1, 0, 1] },
];

function run(h: H, c: Case): Record<string, string> {
  const m = c.build(h), tokens = Int32Array.from(c.tokens), labels = Int32Array.from(c.labels);
  const { logits, attention } = m.forward(tokens, [c.B, c.T], { returnAttention: true });
  const maps = Array.isArray(attention) ? attention : [attention];
  const out: Record<string, string> = { logits: digest(logits.toArray()), attention: digest(maps.map((a) => a.toArray())) };
  logits.dispose(); maps.forEach((a) => a.dispose());
  out.grads = digest(lossAndGrads(m, tokens, [c.B, c.T], labels).grads);
  const opt = h.adamwOptimizer(m, { lr: 1e-2, weightDecay: 0.1, clipNorm: 0.5 });
  const half = c.B >> 1;
  for (let s = 0; s < 10; s++) {
    // Alternate the whole batch and its first rows: two plans, two shapes.
    const B = s % 2 ? half : c.B;
    h.trainStep(m, opt, tokens.subarray(0, B * c.T), [B, c.T], labels.subarray(0, B));
  }
  out.weights10 = digest(m['be'].read(m.params, m.parameterCount));
  opt.dispose(); m.dispose();
  return out;
}

describe.each(['wasm', 'wasm-scalar', 'js'] as const)('models compute what they computed before the layer refactor on %s', (backend) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (name, c) => {
    const h = await init({ backend });
    const got = run(h, c), key = `${backend}: ${name}`;
    if (writing) {
      expected[key] = got;
      writeFileSync(FIXTURE, JSON.stringify(expected, null, 1) + '\n');
    } else {
      expect(got).toEqual(expected[key]);
    }
  });
});
