// Generation with a causalLM: greedy decoding through the KV cache picks what a full forward's
// argmax picks at every step; sampling (temperature, top-k, top-p) draws from the distribution it
// says; a seed gives the same tokens every time; stop tokens, maxTokens, the callback form and
// cancellation; every bad option a HeedError naming it.
import { describe, expect, it } from 'vitest';
import { HeedError, init, generate, type CausalLM } from '../src/index.js';
import { sampleToken } from '../src/generate.js';
import { Rng } from '../src/nn/rng.js';

async function collect(it: AsyncIterable<{ tokens: Int32Array }>): Promise<number[][]> {
  const out: number[][] = [];
  for await (const { tokens } of it) out.push(Array.from(tokens));
  return out;
}

/** A model whose logits differ enough between tokens that sampling and greedy mean something. */
function model(h: Awaited<ReturnType<typeof init>>, seed = 5): CausalLM {
  const m = h.causalLM({ vocabSize: 11, maxLen: 16, dModel: 12, heads: 3, ffDim: 16, layers: 2, seed });
  m.loadStateDict(Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, { shape: v.shape, data: v.data.map((x) => (k.includes('ln_') ? x : 40 * x)) }])));
  return m;
}

describe.each(['js', 'wasm'] as const)('generate on %s', async (backend) => {
  const h = await init({ backend });

  it('greedy (temperature 0) picks the argmax of a full forward over the prefix at every step', async () => {
    const m = model(h), prompt = [3, 1, 4];
    const got = (await collect(m.generate(prompt, { temperature: 0, maxTokens: 10 }))).map((t) => t[0]);
    const seq = [...prompt];
    for (let i = 0; i < 10; i++) {
      const l = m.forward(seq, [1, seq.length]), a = l.toArray().subarray((seq.length - 1) * 11);
      l.dispose();
      seq.push(a.indexOf(Math.max(...a)));
    }
    expect(got).toEqual(seq.slice(prompt.length));
    m.dispose();
  });

  it('a seed gives the same tokens every time; samples differ from one another; another seed differs', async () => {
    const m = model(h), o = { samples: 4, maxTokens: 12, seed: 42, temperature: 1.2 };
    const a = await m.generateAll([2], o), b = await m.generateAll([2], o), c = await m.generateAll([2], { ...o, seed: 43 });
    expect(a).toEqual(b);
    expect(a).toHaveLength(4);
    expect(a.every((s) => s.length === 12)).toBe(true);
    expect(new Set(a.map((s) => s.join())).size).toBeGreaterThan(1);
    expect(c).not.toEqual(a);
    m.dispose();
  });

  it('stops a sample at a stop token (not emitted: -1 from then on) and ends when every sample has', async () => {
    const m = model(h), greedy = (await m.generateAll([5, 6], { temperature: 0, maxTokens: 8 }))[0];
    const stopAt = greedy.indexOf(greedy[2]);   // the first step that emits that token
    const pieces = await collect(m.generate([5, 6], { temperature: 0, maxTokens: 8, stop: [greedy[2]], samples: 2 }));
    expect(pieces).toHaveLength(stopAt + 1);
    expect(pieces[stopAt]).toEqual([-1, -1]);
    expect(pieces.slice(0, stopAt).map((p) => p[0])).toEqual(greedy.slice(0, stopAt));
    expect(await m.generateAll([5, 6], { temperature: 0, maxTokens: 8, stop: greedy[2] })).toEqual([greedy.slice(0, stopAt)]);
    m.dispose();
  });

  it('the callback form sees every step and stops when it returns false; the cache is freed however it ends', async () => {
    const m = model(h), before = h.memory().allocatedBytes, seen: number[] = [];
    const out = await m.generateAll([1], { samples: 3, maxTokens: 9, seed: 1 }, (p) => { seen.push(p.step); return p.step < 2; });
    expect(seen).toEqual([0, 1, 2]);
    expect(out.map((s) => s.length)).toEqual([3, 3, 3]);
    for await (const p of m.generate([1], { maxTokens: 9 })) if (p.step === 1) break;
    expect(h.memory().allocatedBytes).toBe(before);
    m.dispose();
  });

  it('a causalLM saved and loaded (a plain Model of kind decoder) generates the same tokens with generate()', async () => {
    const m = model(h), { model: loaded } = h.loadModel(h.saveModel(m));
    expect(loaded.config).toEqual(m.config);
    const want = await m.generateAll([4, 2], { samples: 2, seed: 8 });
    expect(await collect(generate(loaded as never, [4, 2], { samples: 2, seed: 8 }))).toEqual(want[0].map((t, i) => [t, want[1][i]]));
    m.dispose(); loaded.dispose();
  });

  it('an AbortSignal cancels: before the first step, or between steps (the iterator throws its reason)', async () => {
    const m = model(h), before = h.memory().allocatedBytes;
    const aborted = new AbortController();
    aborted.abort();
    await expect(collect(m.generate([1], { signal: aborted.signal }))).rejects.toThrow(/abort/i);
    const ac = new AbortController(), steps: number[] = [];
    const run = async () => { for await (const p of m.generate([1], { signal: ac.signal, maxTokens: 12 })) { steps.push(p.step); if (p.step === 3) ac.abort(); } };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
    expect(steps).toEqual([0, 1, 2, 3]);
    expect(h.memory().allocatedBytes).toBe(before);
    m.dispose();
  });
});

describe('generate: a long run', () => {
  it('lets timers in between steps, so an abort from a timer stops it mid-run', async () => {
    const h = await init({ backend: 'js' });
    const m = h.causalLM({ vocabSize: 50, maxLen: 400, dModel: 64, heads: 4, layers: 2, seed: 1 });
    const ac = new AbortController(), t0 = Date.now();
    setTimeout(() => ac.abort(), 30);
    let steps = 0;
    const run = async () => { for await (const p of m.generate([1], { signal: ac.signal })) steps = p.step + 1; };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThan(400);
    expect(Date.now() - t0).toBeLessThan(30 + 500);
    m.dispose();
  });
});

describe('sampling', () => {
  const draws = (logits: number[], t: number, k: number, p: number, n = 20000) => {
    const rng = new Rng(9), count = new Array(logits.length).fill(0);
    for (let i = 0; i < n; i++) count[sampleToken(logits, t, k, p, rng.uniform())]++;
    return count.map((c) => c / n);
  };
  const probs = [0.1, 0.2, 0.3, 0.4], logits = probs.map(Math.log);

  it('temperature 1 draws from the softmax; temperature 2 flattens it; top-k and top-p cut it', () => {
    draws(logits, 1, 4, 1).forEach((f, i) => expect(f).toBeCloseTo(probs[i], 1));
    const flat = probs.map((q) => Math.sqrt(q)), z = flat.reduce((a, b) => a + b);
    draws(logits, 2, 4, 1).forEach((f, i) => expect(f).toBeCloseTo(flat[i] / z, 1));
    draws(logits, 1, 2, 1).forEach((f, i) => expect(f).toBeCloseTo([0, 0, 3 / 7, 4 / 7][i], 1));
    draws(logits, 1, 4, 0.5).forEach((f, i) => expect(f).toBeCloseTo([0, 0, 3 / 7, 4 / 7][i], 1));
    expect(draws(logits, 1, 4, 0.4, 100)).toEqual([0, 0, 0, 1]);
    expect(draws(logits, 1, 1, 1, 100)).toEqual([0, 0, 0, 1]);
    expect(draws(logits, 0, 4, 1, 100)).toEqual([0, 0, 0, 1]);
    expect(draws(logits, -1, 4, 1, 100)).toEqual([0, 0, 0, 1]);
  });

  it('greedy breaks a tie toward the lowest id', () => {
    expect(sampleToken([1, 3, 3, 2], 0, 4, 1, 0.5)).toBe(1);
  });
});

describe('generate: bad input', async () => {
  const h = await init({ backend: 'js' });
  const m = h.causalLM({ vocabSize: 7, maxLen: 8, dModel: 4, heads: 1, layers: 1 });

  it.each([
    [{ temperature: NaN }, 'generate: temperature must be a finite number (0 or less: greedy), got NaN'],
    [{ temperature: Infinity }, 'generate: temperature must be a finite number (0 or less: greedy), got Infinity'],
    [{ topP: 0 }, 'generate: topP must be in (0, 1], got 0'],
    [{ topP: 1.5 }, 'generate: topP must be in (0, 1], got 1.5'],
    [{ topP: NaN }, 'generate: topP must be in (0, 1], got NaN'],
    [{ topK: 0 }, 'generate: topK must be an integer ≥ 1, got 0'],
    [{ samples: 1.5 }, 'generate: samples must be an integer ≥ 1, got 1.5'],
    [{ maxTokens: 0 }, 'generate: maxTokens must be an integer ≥ 1, got 0'],
    [{ maxTokens: 7 }, "generate: a prompt of 3 tokens and maxTokens 7 need 9 positions, more than the model's maxLen (8)"],
    [{ stop: 7 }, 'generate: stop id 7 is outside [0, 7) (vocabSize 7)'],
    [{ stop: 'x' }, 'generate: stop must be a token id or an array of them, got "x"'],
    [{ seed: 0.5 }, 'generate: seed must be an integer, got 0.5'],
  ])('%o: %s (thrown by the call, before any step)', (o, msg) => {
    expect(() => m.generate([1, 2, 3], o as never)).toThrow(HeedError);
    expect(() => m.generate([1, 2, 3], o as never)).toThrow(msg);
  });

  it('a prompt that is empty, too long or has an id outside the vocabulary; a model that is not a causalLM', () => {
    expect(() => m.generate([])).toThrow('generate: the prompt is empty; give at least one token (a begin marker, say)');
    expect(() => m.generate([1, 2, 3, 4, 5, 6, 1, 2, 3])).toThrow("generate: the prompt has 9 tokens, more than the model's maxLen (8 positions)");
    expect(() => m.generate([1, 9])).toThrow('generate: prompt id 9 at 1 is outside [0, 7) (vocabSize 7)');
    const t = h.transformerClassifier({ vocabSize: 7, maxLen: 8, dModel: 4, heads: 1, layers: 1 });
    expect(() => generate(t as never, [1])).toThrow('generate: a transformer model is not a causal language model (causalLM)');
    t.dispose();
  });

  it('a prompt that fills the context gives one token (maxTokens defaults to what maxLen leaves)', async () => {
    const out = await m.generateAll([1, 2, 3, 4, 5, 6, 1, 2], { temperature: 0 });
    expect(out[0]).toHaveLength(1);
    expect((await m.generateAll([1], { temperature: 0 }))[0]).toHaveLength(8);
  });
});
