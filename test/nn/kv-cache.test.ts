// The causalLM's KV cache on every backend: a prefill, a chunk after it and one token per row per
// step give, at every step, the logits of a full forward over the same prefix (to 1e-5); the cache
// allocates nothing per token; a context past the model's positions is a clear error.
import { describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { KvCache } from '../../src/nn/kv-cache.js';
import { ALL_BACKENDS, WASM_BACKENDS } from '../ops/backends.js';
import { expectClose, randint } from '../util.js';

const BACKENDS = process.env.HEED_TEST_BACKENDS ? WASM_BACKENDS : ALL_BACKENDS;

describe.each(BACKENDS)('KV cache on %s', async (backend) => {
  const h = await init({ backend });

  it.each([true, false])('tieEmbeddings %s: every step equals a full forward over the prefix', (tieEmbeddings) => {
    // Awkward sizes: 3 rows, 3 heads of 4, vocabulary 13, context 13 of maxLen 13.
    const V = 13, B = 3, ctx = 13;
    const m = h.causalLM({ vocabSize: V, maxLen: ctx, dModel: 12, heads: 3, ffDim: 20, layers: 2, tieEmbeddings, seed: 7 });
    // nanoGPT's std 0.02 makes every logit nearly equal: larger weights make the comparison mean something.
    m.loadStateDict(Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) =>
      [k, { shape: v.shape, data: v.data.map((x, i) => (k.includes('ln_') ? x : 15 * x) + 0.05 * Math.sin(i)) }])));
    const seq = randint(B * ctx, 0, V, 3);   // row b: seq[b·ctx …]; id 0 is an ordinary token
    const prefix = (n: number) => Int32Array.from({ length: B * n }, (_, i) => seq[Math.floor(i / n) * ctx + (i % n)]);
    const full = (n: number) => { const t = m.forward(prefix(n), [B, n]), a = t.toArray(); t.dispose(); return a; };   // [B, n, V]
    const lastRows = (logits: Float32Array, n: number) =>
      Float32Array.from({ length: B * V }, (_, i) => logits[(Math.floor(i / V) * n + n - 1) * V + (i % V)]);
    const cache = new KvCache(m, B, ctx);
    // prefill 4 positions: every position's logits
    cache.step(prefix(4), 4);
    expectClose(cache.readLogits(), full(4), 1e-5, 1e-5);
    expect(cache.readLastLogits()).toEqual(lastRows(cache.readLogits(), 4));
    // a chunk of 2 after it (queries at positions 4 and 5 over 6 keys)
    const chunk = Int32Array.from({ length: B * 2 }, (_, i) => seq[Math.floor(i / 2) * ctx + 4 + (i % 2)]);
    cache.step(chunk, 2);
    const f6 = full(6);
    expectClose(cache.readLogits(), Float32Array.from({ length: B * 2 * V }, (_, i) => f6[(Math.floor(i / (2 * V)) * 6 + 4) * V + (i % (2 * V))]), 1e-5, 1e-5);
    for (let n = 7; n <= ctx; n++) {
      cache.step(Int32Array.from({ length: B }, (_, b) => seq[b * ctx + n - 1]), 1);
      expect(cache.length).toBe(n);
      expectClose(cache.readLogits(), lastRows(full(n), n), 1e-5, 1e-5);
    }
    expect(() => cache.step(Int32Array.from([1, 2, 3]), 1)).toThrow('generate: 14 positions do not fit the cache\'s context of 13 (the model\'s maxLen is 13)');
    // Again from the start: prefill, then decoding to the end of the context allocates nothing.
    cache.reset();
    cache.step(prefix(1), 1);
    expectClose(cache.readLogits(), full(1), 1e-5, 1e-5);
    const before = h.memory();
    for (let n = 2; n <= ctx; n++) cache.step(Int32Array.from({ length: B }, (_, b) => seq[b * ctx + n - 1]), 1);
    expect(h.memory()).toEqual(before);
    cache.dispose();
    m.dispose();
  });

  it('a context past the model\'s positions, or a model that is not a causalLM, is a clear error', () => {
    const m = h.causalLM({ vocabSize: 5, maxLen: 8, dModel: 4, heads: 1, layers: 1 });
    expect(() => new KvCache(m, 1, 9)).toThrow("generate: a context of 9 positions is longer than the model's maxLen (8 positions)");
    expect(() => new KvCache(m, 0, 4)).toThrow('generate: the batch must be a positive integer, got 0');
    expect(() => new KvCache(m, 2 ** 28, 8)).toThrow(/^generate: 268435456 samples of 8 positions need \d+ floats of cache, more than one buffer can hold/);
    const t = h.transformerClassifier({ vocabSize: 5, maxLen: 8, dModel: 4, heads: 1, layers: 1 });
    expect(() => new KvCache(t as never, 1, 4)).toThrow('generate: a transformer model is not a causal language model (causalLM)');
    m.dispose(); t.dispose();
  });
});
