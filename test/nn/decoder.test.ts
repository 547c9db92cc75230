// causalLM against nanoGPT's GPT in PyTorch (test/fixtures/decoder.json, from
// test/fixtures/make_decoder_fixtures.py): logits, loss over next-token targets, every gradient and
// 10 AdamW steps, tied and untied, on every backend; then its config's errors and a finite-difference
// check of its backward (the tied head's gradient adds into the embedding's).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HeedError, init, type Tensor } from '../../src/index.js';
import { lossOf } from '../../src/nn/targets.js';
import { ALL_BACKENDS, WASM_BACKENDS } from '../ops/backends.js';
import { importDist } from '../dist.js';
import { expectClose } from '../util.js';
import { centralDiffs, trainingLoss } from './util.js';

interface Enc { shape: number[]; data: number[] }
type Dict = Record<string, Enc>;
interface Case {
  name: string; config: Record<string, number | string | boolean>; shape: [number, number]; tokens: number[]; labels: number[];
  params: Dict; logits: Enc; loss: number; grads: Dict;
  train: { lr: number; weightDecay: number; clipNorm: number; losses: number[]; final: Dict; losses64: number[]; final64: Dict };
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/decoder.json', import.meta.url), 'utf8')) as { cases: Case[] };
const TOL = { atol: 2e-5, rtol: 2e-4 };
// The relaxed project (Node 20) runs only the relaxed build: js is compared in the default one.
const BACKENDS = process.env.HEED_TEST_BACKENDS ? WASM_BACKENDS : ALL_BACKENDS;

describe.each(BACKENDS)('causalLM against PyTorch on %s', async (backend) => {
  const h = await init({ backend });

  it.each(fx.cases.map((c) => [c.name, c] as const))('%s: logits, loss, gradients and 10 AdamW steps', (_, c) => {
    const [B, T] = c.shape, V = Number(c.config.vocabSize), d = Number(c.config.dModel);
    const m = h.causalLM(c.config as never);
    expect(m.layout.entries.map((e) => e.name)).toEqual(Object.keys(c.params));   // nanoGPT's registration order
    m.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, { shape: v.shape, data: v.data }])));
    const logits = m.forward(Int32Array.from(c.tokens), [B, T]);
    expect(logits.shape).toEqual([B, T, V]);
    expectClose(logits.toArray(), c.logits.data, TOL.atol, TOL.rtol);
    logits.dispose();
    const p = m.prepare(c.tokens, B, T);
    h.be.zero(m.grads, m.layout.total);
    m.runForward(p, B, T);
    const loss = lossOf(m, p, B, c.labels);
    m.runBackward(p, B, T);
    expect(loss).toBeCloseTo(c.loss, 5);
    for (const e of m.layout.entries) {
      try { expectClose(h.be.read(m.grads, e.size, e.offset), c.grads[e.name].data, TOL.atol, TOL.rtol); } catch (err) { throw new Error(`${e.name}: ${(err as Error).message}`); }
    }
    const opt = h.adamwOptimizer(m, { lr: c.train.lr, weightDecay: c.train.weightDecay, clipNorm: c.train.clipNorm });
    const losses = Array.from({ length: 10 }, () => h.trainStep(m, opt, c.tokens, [B, T], c.labels));
    expectClose(losses, c.train.losses, 1e-5, 1e-4);
    expectClose(losses, c.train.losses64, 1e-5, 1e-4);
    // Against float64 everywhere; against float32 except the key third of c_attn.bias (its
    // gradient is exactly 0 in heed and float64, rounding noise that Adam amplifies in float32).
    const sd = m.stateDict(), keyBias = (k: string, i: number) => k.endsWith('c_attn.bias') && i >= d && i < 2 * d;
    for (const [k, v] of Object.entries(c.train.final64)) {
      try {
        expectClose(sd[k].data, v.data, 1e-4, 1e-4);
        expectClose(sd[k].data.filter((_, i) => !keyBias(k, i)), c.train.final[k].data.filter((_, i) => !keyBias(k, i)), 1e-4, 1e-4);
      } catch (err) { throw new Error(`${k}: ${(err as Error).message}`); }
    }
    opt.dispose(); m.dispose();
  });
});

describe.skipIf(process.env.HEED_TEST_BACKENDS)('causalLM', async () => {
  const js = await init({ backend: 'js' });

  it('backward matches finite differences for every parameter, tied and untied', () => {
    const tokens = Int32Array.from([1, 4, 0, 6, 3, 5, 2, 6, 1, 0]), labels = Int32Array.from([4, 0, 6, 3, -100, 2, 6, 1, -100, -100]);
    for (const tieEmbeddings of [true, false]) {
      const m = js.causalLM({ vocabSize: 7, maxLen: 6, dModel: 4, heads: 2, ffDim: 6, layers: 2, tieEmbeddings, seed: 3 });
      // nanoGPT's initialisation is small (std 0.02, zero biases, unit norms): scale the weights up
      // and perturb everything, so that every path matters.
      m.loadStateDict(Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) =>
        [k, { shape: v.shape, data: v.data.map((x, i) => (k.includes('ln_') ? x : x * 20) + 0.1 * Math.sin(i + k.length)) }])));
      const loss = () => trainingLoss(m, tokens, [2, 5], labels);
      loss();
      const grads = js.be.read(m.grads, m.layout.total), all = centralDiffs(m, loss, undefined, 2e-3);
      for (const e of m.layout.entries) {
        const num = all.subarray(e.offset, e.offset + e.size);
        try { expectClose(grads.subarray(e.offset, e.offset + e.size), num, 2e-3, 2e-2); } catch (err) { throw new Error(`${e.name}: ${(err as Error).message}`); }
      }
      m.dispose();
    }
  });

  it('the logits of a position depend on that position and those before it only', () => {
    const m = js.causalLM({ vocabSize: 9, maxLen: 8, dModel: 8, heads: 2, layers: 2, seed: 1 });
    const a = m.forward(Int32Array.from([1, 2, 3, 4, 5]), [1, 5]).toArray();
    const b = m.forward(Int32Array.from([1, 2, 3, 8, 0]), [1, 5]).toArray();
    expect(Array.from(b.subarray(0, 27))).toEqual(Array.from(a.subarray(0, 27)));
    expect(Array.from(b.subarray(27))).not.toEqual(Array.from(a.subarray(27)));
    m.dispose();
  });

  it('fit trains it from next-token labels per token, on a worker as here, to the same weights', async () => {
    // Lines of characters: 0 marks the start (input) and the end (target); the batch's padding
    // after a line is id 0 too, with no label, which a causal row never sees.
    const names = ['emma', 'olivia', 'ava', 'isabella', 'sophia', 'mia', 'amelia', 'harper'], id = (c: string) => c.charCodeAt(0) - 96;
    const data = { sequences: names.map((n) => [0, ...[...n].map(id)]), labels: names.map((n) => [...[...n].map(id), 0]) };
    const opts = { modelOptions: { kind: 'decoder', vocabSize: 27, maxLen: 10, dModel: 16, heads: 2, layers: 1, seed: 2 } as never, data, epochs: 15, batchSize: 4, lr: 1e-2, seed: 1 };
    // The worker runs the built package (as users do): it registers the decoder itself.
    const built = await (await importDist()).init({ backend: 'js' });
    const here = await js.fit({ ...opts, worker: false }).done, there = await built.fit({ ...opts, worker: true }).done;
    expect(here.model.config.kind).toBe('decoder');
    expect(here.history.at(-1)!.loss).toBeLessThan(here.history[0].loss * 0.8);
    expect(there.history.map((e) => e.loss)).toEqual(here.history.map((e) => e.loss));
    here.model.dispose(); there.model.dispose();
  });

  it('forward returns each block\'s causal attention [B,H,T,T] (what explains a generated token)', () => {
    const m = js.causalLM({ vocabSize: 9, maxLen: 8, dModel: 8, heads: 2, layers: 2, seed: 1 });
    const { logits, attention } = m.forward([1, 2, 3, 0, 5, 6], [2, 3], { returnAttention: true }), maps = attention as Tensor[];
    expect(maps.map((a) => a.shape)).toEqual([[2, 2, 3, 3], [2, 2, 3, 3]]);
    for (const a of maps) {
      const p = a.toArray();
      for (let row = 0; row < 2 * 2 * 3; row++) {
        const t = row % 3, r = p.subarray(row * 3, row * 3 + 3);
        expect(r.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 6);
        for (let j = t + 1; j < 3; j++) expect(r[j]).toBe(0);
      }
    }
    logits.dispose(); m.dispose();
  });

  it('bad options are a HeedError naming the option', () => {
    expect(() => js.causalLM({ vocabSize: 0 })).toThrow('causalLM: vocabSize must be a positive integer, got 0');
    expect(() => js.causalLM({ vocabSize: 5, dModel: 6, heads: 4 })).toThrow('causalLM: heads (4) must divide dModel (6)');
    expect(() => js.causalLM({ vocabSize: 5, tieEmbeddings: 'yes' as never })).toThrow('causalLM: tieEmbeddings must be true or false, got "yes"');
    expect(() => js.causalLM({ vocabSize: 5, gelu: 'relu' as never })).toThrow(HeedError);
    expect(() => js.causalLM({ vocabSize: 5, classes: 3 } as never)).toThrow('causalLM: classes (3) must equal vocabSize (5)');
    expect(() => js.causalLM({ vocabSize: 1e6, dModel: 4096, maxLen: 1e6 })).toThrow('more than one block can hold');
  });
});
