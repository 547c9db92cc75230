// Memory safety after failed calls and hostile inputs (issue 11). A failed forward or training step
// leaves no plan pointing at freed memory; a call that fails for memory leaves no output behind;
// every array a caller hands in is read once (what is checked is what is used); batch shapes and
// tensor shapes too large to address are refused before anything is planned; a model in use by a
// data-parallel trainer refuses dispose() and trainStep() (fit: test/train/fit.test.ts and
// test/parallel/trainer.test.ts, which need the built worker).
import { describe, expect, it } from 'vitest';
import { HeedError, Tensor, init } from '../../src/index.js';
import { parameterCount, transformerConfig } from '../../src/nn/families/transformer.js';

const BACKENDS = ['wasm', 'wasm-scalar', 'js'] as const;
const V = 50;
const ids = (n: number, seed = 1, vocab = V) => Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % vocab);
const counting = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 0.5);

/** An array-like that answers `first` for the first `honest` reads of each index (and of length),
 *  and `later` after: what a Proxy, or a SharedArrayBuffer another thread writes to, can do. */
function changing<T>(first: ArrayLike<T>, later: ArrayLike<T>, honest = 1): ArrayLike<T> {
  const reads = new Map<PropertyKey, number>();
  return new Proxy(first as object, {
    get(_, key) {
      const n = (reads.get(key) ?? 0) + 1;
      reads.set(key, n);
      return Reflect.get(n <= honest ? first : later, key);
    },
  }) as ArrayLike<T>;
}

describe.each(BACKENDS)('%s: a failed call leaves nothing pointing at freed memory', (backend) => {
  it('after an oversized forward, the last shape runs again correctly and writes nowhere else', async () => {
    const h = await init({ backend, maxMemoryMB: 2 });
    const m = h.attentionPoolingClassifier({ vocabSize: V, dModel: 16, seed: 1 });
    const bytes = h.saveModel(m);
    const shape = [32, 32] as [number, number], tokens = ids(32 * 32);
    const want = m.forward(tokens, shape).toArray();
    // [256, 128] needs an arena of ~6 MB: over the cap.
    expect(() => m.forward(ids(256 * 128), [256, 128])).toThrow(/out of memory: .*over the cap/);
    const user = h.tensor(counting(4096), [4096]);
    const other = h.loadModel(bytes).model;
    expect(m.forward(tokens, shape).toArray()).toEqual(want);
    expect(other.forward(tokens, shape).toArray()).toEqual(want);
    expect(user.toArray()).toEqual(counting(4096));
  });

  it('after an oversized training step, the last shape trains again and writes nowhere else', async () => {
    const h = await init({ backend, maxMemoryMB: 2 });
    const make = () => h.transformerClassifier({ vocabSize: V, maxLen: 32, dModel: 8, heads: 2, ffDim: 16, layers: 1, seed: 3 });
    const m = make(), ref = make();
    const opt = h.adamwOptimizer(m), refOpt = h.adamwOptimizer(ref);
    const shape = [16, 32] as [number, number], tokens = ids(16 * 32), labels = Int32Array.from({ length: 16 }, (_, i) => i % 2);
    h.trainStep(m, opt, tokens, shape, labels);
    h.trainStep(ref, refOpt, tokens, shape, labels);
    expect(() => h.trainStep(m, opt, ids(256 * 32), [256, 32], Int32Array.from({ length: 256 }, () => 0))).toThrow(/out of memory: .*over the cap/);
    const user = h.tensor(counting(4096), [4096]);
    const loss = h.trainStep(m, opt, tokens, shape, labels);
    expect(loss).toBe(h.trainStep(ref, refOpt, tokens, shape, labels));
    expect(m.stateDict()).toEqual(ref.stateDict());
    expect(user.toArray()).toEqual(counting(4096));
  });

  it('a forward whose attention maps do not fit leaves no logits or maps behind', async () => {
    const h = await init({ backend, maxMemoryMB: 4 });
    const m = h.transformerClassifier({ vocabSize: V, maxLen: 128, dModel: 16, heads: 4, ffDim: 16, layers: 2, seed: 1 });
    const tokens = ids(8 * 128), shape = [8, 128] as [number, number];
    m.forward(tokens, shape).dispose();                       // the arena for [8, 128] is planned
    const before = h.memory();
    // Two maps of [8, 4, 128, 128] floats (2 MiB each) on top of ~1.7 MiB of arena: the second does not fit.
    expect(() => m.forward(tokens, shape, { returnAttention: true })).toThrow(/out of memory: .*over the cap/);
    expect(h.memory()).toEqual(before);
    expectDistinctTensors(h);
    expect(m.forward(tokens, [8, 128]).toArray().every(Number.isFinite)).toBe(true);
  });

  it('an op whose second output does not fit frees the first exactly once', async () => {
    const h = await init({ backend, maxMemoryMB: 1 });
    // k, v, dk, dv: 300,000 bytes each; the cap holds three of them.
    const S = 18_750, q = h.zeros([1, 1, 1, 4]), k = h.zeros([1, 1, S, 4]), v = h.zeros([1, 1, S, 4]), dout = h.zeros([1, 1, 1, 4]);
    const before = h.memory();
    expect(() => h.ops.attentionBackward(q, k, v, dout)).toThrow(/^tensor \[1,1,18750,4\]: out of memory: .*over the cap/);
    expect(h.memory()).toEqual(before);
    expectDistinctTensors(h);
  });
});

/** New tensors after a failure each get storage of their own (a buffer freed twice is handed out twice). */
function expectDistinctTensors(h: Awaited<ReturnType<typeof init>>): void {
  const ts = Array.from({ length: 6 }, (_, i) => h.tensor(new Float32Array(16).fill(i), [16]));
  ts.forEach((t, i) => expect(Array.from(t.toArray()), `tensor ${i}`).toEqual(new Array(16).fill(i)));
  for (const t of ts) t.dispose();
}

describe.each(BACKENDS)('%s: what is checked is what is used (arrays are read once)', (backend) => {
  it('token ids that change after their check cannot reach the kernels', async () => {
    const h = await init({ backend });
    const m = h.attentionPoolingClassifier({ vocabSize: 10, dModel: 8, seed: 2 });
    const good = ids(2 * 6, 1, 10), bad = new Int32Array(12).fill(40);
    const want = m.forward(good, [2, 6]).toArray();
    const got = m.forward(changing(good, bad), [2, 6]).toArray();
    expect(got).toEqual(want);
    const opt = h.adamwOptimizer(m), labels = Int32Array.from([0, 1]);
    const ref = h.loadModel(h.saveModel(m)).model, refOpt = h.adamwOptimizer(ref);
    expect(h.trainStep(m, opt, changing(good, bad), [2, 6], changing(labels, Int32Array.from([40, 40]))))
      .toBe(h.trainStep(ref, refOpt, good, [2, 6], labels));
    expect(m.stateDict()).toEqual(ref.stateDict());
  });

  it('crossEntropy and bceWithLogits use the labels and targets they checked', async () => {
    const h = await init({ backend });
    const logits = h.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const want = h.ops.crossEntropy(logits, [2, 0]).loss;
    expect(h.ops.crossEntropy(logits, changing([2, 0], [4000, -4000]) as number[]).loss).toBe(want);
    const l1 = h.tensor([0.5, -1], [2]);
    expect(h.ops.bceWithLogits(l1, changing([1, 0], [9, 9], 1) as number[]).loss).toBe(h.ops.bceWithLogits(l1, [1, 0]).loss);
  });

  it('tensor() and loadStateDict() never write more values than they checked', async () => {
    const h = await init({ backend });
    // Canaries around a freed slot of 4 floats, which the new tensor is likely to reuse.
    const canaries = Array.from({ length: 8 }, () => h.tensor(counting(4), [4]));
    canaries[3].dispose();
    const liar = changing(counting(4), counting(1024), 2);        // its length says 4, then 1024
    let t: unknown;
    try { t = h.tensor(liar, [4]); } catch (e) { expect(e).toBeInstanceOf(HeedError); }
    if (t) expect(Array.from((t as { toArray(): Float32Array }).toArray())).toEqual(Array.from(counting(4)));
    for (const [i, c] of canaries.entries()) if (i !== 3) expect(c.toArray()).toEqual(counting(4));

    const m = h.attentionPoolingClassifier({ vocabSize: 10, dModel: 4, seed: 1 });
    const user = h.tensor(counting(64), [64]);
    const sd = m.stateDict();
    const head = sd['head.bias'];                                  // the block's last parameter
    sd['head.bias'] = { shape: head.shape, data: changing(head.data, new Float32Array(4096).fill(7), 2) as Float32Array };
    let loaded = true;
    try { m.loadStateDict(sd); } catch (e) { expect(e).toBeInstanceOf(HeedError); loaded = false; }
    if (loaded) expect(m.stateDict()['head.bias'].data).toEqual(head.data);
    expect(user.toArray()).toEqual(counting(64));
  });
});

describe.each(BACKENDS)('%s: sizes too large to address are refused before planning', (backend) => {
  it('forward(new Int32Array(0), [2**31, 0]) and other huge empty batches are HeedErrors; the context keeps working', async () => {
    const h = await init({ backend });
    const pool = h.attentionPoolingClassifier({ vocabSize: V, dModel: 8, seed: 1 });
    const tf = h.transformerClassifier({ vocabSize: V, maxLen: 8, dModel: 8, heads: 2, ffDim: 8, layers: 1, seed: 1 });
    const small = ids(2 * 4);
    const want = [pool.forward(small, [2, 4]).toArray(), tf.forward(small, [2, 4]).toArray()];
    const before = h.memory();
    for (const m of [pool, tf]) {
      for (const shape of [[2 ** 31, 0], [2 ** 31 - 1, 0], [2 ** 53, 0], [2 ** 40, 0], [2 ** 29, 0]]) {
        let err: unknown;
        try { m.forward(new Int32Array(0), shape); } catch (e) { err = e; }
        expect(err, `${m.config.kind} ${JSON.stringify(shape)}`).toBeInstanceOf(HeedError);
        expect((err as Error).message).toMatch(/too large|more than one buffer can hold|out of memory/);
        expect((err as Error).message).not.toMatch(/-\d/);         // no size wrapped to a negative one
      }
      const opt = h.adamwOptimizer(m);
      expect(() => h.trainStep(m, opt, new Int32Array(0), [2 ** 31, 0], new Int32Array(0))).toThrow(HeedError);
      opt.dispose();
    }
    expect(h.memory().allocatedBytes).toBe(before.allocatedBytes);
    expect(pool.forward(small, [2, 4]).toArray()).toEqual(want[0]);
    expect(tf.forward(small, [2, 4]).toArray()).toEqual(want[1]);
    expect(Array.from(h.tensor([1, 2, 3], [3]).toArray())).toEqual([1, 2, 3]);
  });

  it('tensor shapes: every dimension and every op output is bounded', async () => {
    const h = await init({ backend });
    expect(() => h.zeros([2 ** 31, 0])).toThrow(/^zeros: shape \[2147483648,0\] has a dimension 2147483648 over 2147483647$/);
    expect(() => h.tensor([], [0, 2 ** 40])).toThrow(HeedError);
    // Empty inputs whose output is not empty: 65,536² rows of log-sum-exp.
    const q = h.zeros([65536, 65536, 1, 0]), k = h.zeros([65536, 65536, 1, 0]);
    expect(() => h.ops.attentionWithLse(q, k, k)).toThrow(/^tensor \[65536,65536,1\]: 4294967296 elements, more than one tensor can hold/);
    const a = h.zeros([65536, 0]), b = h.zeros([0, 65536]);
    expect(() => h.ops.matmul(a, b)).toThrow(/^tensor \[65536,65536\]: 4294967296 elements/);
    expect(h.memory().tensors).toBe(4);
    expect(Array.from(h.ops.matmul(h.tensor([1, 2], [1, 2]), h.tensor([3, 4], [2, 1])).toArray())).toEqual([11]);
  });
});

describe('a model in use by a data-parallel trainer (threads: 1, no worker needed)', () => {
  it('refuses dispose(), trainStep(), loadStateDict() and a second trainer until close(); its optimizer refuses dispose()', async () => {
    const h = await init({ backend: 'wasm' });
    const m = h.attentionPoolingClassifier({ vocabSize: V, dModel: 8, seed: 1 });
    const opt = h.adamwOptimizer(m), other = h.adamwOptimizer(m);
    const tokens = ids(4 * 6), labels = Int32Array.from([0, 1, 0, 1]);
    const dp = await h.dataParallel(m, opt, { threads: 1 });
    const step = dp.step(tokens, [4, 6], labels);
    const overlapping = dp.step(tokens, [4, 6], labels);   // refused; close() must still wait for `step`
    expect(() => m.dispose()).toThrow(HeedError);
    expect(() => m.dispose()).toThrow(/^dispose: this pooling model is in use by a data-parallel trainer; close\(\) the trainer first$/);
    expect(() => h.trainStep(m, other, tokens, [4, 6], labels)).toThrow(/^trainStep: .*in use by a data-parallel trainer/);
    expect(() => m.loadStateDict(m.stateDict())).toThrow(/^loadStateDict: this pooling model is in a data-parallel step; await the step first$/);
    expect(() => opt.dispose()).toThrow(/^dispose: this optimizer is in use by a data-parallel trainer/);
    expect(() => opt.loadState(opt.state())).toThrow(/^loadState: this optimizer is in use by a data-parallel trainer/);
    expect(() => h.fit({ model: m, data: { sequences: [[1, 2]], labels: [0] }, worker: false }))
      .toThrow(/^fit: this pooling model is already in use by a data-parallel trainer; close\(\) the trainer first$/);
    await expect(h.dataParallel(m, other, { threads: 1 })).rejects.toThrow(/^dataParallel: this pooling model is already in use by a data-parallel trainer/);
    expect(Number.isFinite(await step)).toBe(true);
    await expect(overlapping).rejects.toThrow(/before the previous step finished/);
    expect(m.disposed).toBe(false);
    m.loadStateDict(m.stateDict());                      // between steps: the next step reads them
    expect(m.forward(tokens, [4, 6]).toArray().every(Number.isFinite)).toBe(true);   // reading is fine
    await dp.close();
    h.trainStep(m, other, tokens, [4, 6], labels);
    opt.dispose();
    m.dispose();
    expect(m.disposed).toBe(true);
  });
});

describe.each(BACKENDS)('%s: a batch of empty sequences (T = 0)', (backend) => {
  it("gives head.bias for every row, as rows of padding do, whatever the arena held before; and trains only the head", async () => {
    const h = await init({ backend });
    const m = h.transformerClassifier({ vocabSize: 10, maxLen: 8, dModel: 8, heads: 2, ffDim: 8, layers: 1, seed: 1 });
    const bias = Array.from(m.stateDict()['head.bias'].data);
    m.forward(Int32Array.from({ length: 16 }, (_, i) => 1 + (i % 9)), [2, 8]).dispose();   // the arena holds that batch
    expect(Array.from(m.forward(new Int32Array(0), [2, 0]).toArray())).toEqual([...bias, ...bias]);
    expect(Array.from(m.forward(new Int32Array(16), [2, 8]).toArray())).toEqual([...bias, ...bias]);
    const opt = h.adamwOptimizer(m, { weightDecay: 0 }), before = m.stateDict();
    const loss = h.trainStep(m, opt, new Int32Array(0), [2, 0], Int32Array.from([0, 1]));
    expect(Number.isFinite(loss)).toBe(true);
    const after = m.stateDict();
    for (const name of Object.keys(before)) {
      if (name === 'head.bias') expect(after[name].data).not.toEqual(before[name].data);
      else expect(after[name].data, name).toEqual(before[name].data);
    }
  });
});

describe.each(BACKENDS)('%s: objects handed in are read once too', (backend) => {
  it('tensor() whose values cannot be read is a HeedError that leaves no tensor behind', async () => {
    const h = await init({ backend });
    const before = h.memory();
    const hostile = new Proxy([1, 2, 3, 4], { get: (t, k) => (k === '2' ? { valueOf() { throw new Error('no'); } } : Reflect.get(t, k)) });
    expect(() => h.tensor(hostile, [4])).toThrow(/^tensor: could not read 4 values for shape \[4\] \(no\)$/);
    expect(h.memory()).toEqual(before);
  });

  it('optimizer state is read once and must be finite', async () => {
    const h = await init({ backend });
    const m = h.attentionPoolingClassifier({ vocabSize: 10, dModel: 4, seed: 1 }), opt = h.adamwOptimizer(m);
    const n = m.parameterCount, user = h.tensor(counting(256), [256]);
    const state = { step: 3, m: new Float32Array(n).fill(0.5), v: new Float32Array(n).fill(0.25) };
    const liar = { ...state, v: changing(state.v, new Float32Array(4096).fill(9), 2) as Float32Array };
    let loaded = true;
    try { opt.loadState(liar); } catch (e) { expect(e).toBeInstanceOf(HeedError); loaded = false; }
    if (loaded) expect(opt.state().v).toEqual(state.v);
    expect(user.toArray()).toEqual(counting(256));
    const bad = { ...state, m: state.m.slice() };
    bad.m[7] = NaN;
    const kept = opt.state();
    expect(() => opt.loadState(bad)).toThrow(/^optimizer state: m holds NaN at element 7; the state must be finite$/);
    expect(opt.state()).toEqual(kept);
  });

  it("a tensor's shape cannot be changed, and a Tensor built by hand reaches no kernel", async () => {
    const h = await init({ backend });
    const t = h.zeros([4]), user = h.tensor(counting(1024), [1024]);
    expect(() => { (t as unknown as { shape: number[] }).shape = [1 << 20]; }).toThrow(TypeError);
    expect(() => { (t as unknown as { size: number }).size = 1 << 20; }).toThrow(TypeError);
    expect(t.shape).toEqual([4]);
    h.ops.gelu(t).dispose();
    const Forged = Tensor as unknown as new (...a: unknown[]) => Tensor;
    const forged = new Forged(h, (h as unknown as { be: unknown }).be, (t as unknown as { buf: unknown }).buf, Object.freeze([1 << 20]), () => {});
    expect(() => h.ops.gelu(forged)).toThrow(/^x: tensor \[1048576\] was not made by heed/);
    expect(user.toArray()).toEqual(counting(1024));
  });

  it("attentionBackward's saved tensors are the ones it checked", async () => {
    const h = await init({ backend });
    const q = h.tensor([0.1, 0.2, 0.3, 0.4], [1, 1, 1, 4]), k = h.tensor(counting(8), [1, 1, 2, 4]);
    const saved = h.ops.attentionWithLse(q, k, k);
    const want = h.ops.attentionBackward(q, k, k, q, { saved }).dq.toArray();
    const small = h.zeros([1]);                       // wrong shape: refused if it were the one checked
    let reads = 0;
    const sly = { get out() { return reads++ === 0 ? saved.out : small; }, lse: saved.lse };
    expect(h.ops.attentionBackward(q, k, k, q, { saved: sly }).dq.toArray()).toEqual(want);
  });

  it('stateDict() gives copies: changing them or training changes neither side', async () => {
    const h = await init({ backend });
    const m = h.attentionPoolingClassifier({ vocabSize: 10, dModel: 4, seed: 1 });
    const sd = m.stateDict(), kept = sd['embed.weight'].data.slice();
    sd['embed.weight'].data.fill(123);
    expect(m.stateDict()['embed.weight'].data).toEqual(kept);
    h.trainStep(m, h.adamwOptimizer(m), ids(6, 1, 10), [2, 3], Int32Array.from([0, 1]));
    expect(sd['embed.weight'].data.every((x) => x === 123)).toBe(true);
  });
});

describe('model sizes are bounded before a layout is built', () => {
  it('an absurd layer count or parameter count is a HeedError at once, naming the options', async () => {
    const h = await init({ backend: 'js' });
    const t0 = performance.now();
    expect(() => h.transformerClassifier({ vocabSize: 10, dModel: 1, heads: 1, ffDim: 1, layers: 10_000_000 }))
      .toThrow(/^transformerClassifier: layers must be at most 1024, got 10000000$/);
    expect(() => h.transformerClassifier({ vocabSize: 2 ** 30, dModel: 64 }))
      .toThrow(/^transformerClassifier: vocabSize 1073741824, maxLen 128, dModel 64, ffDim 256, layers 2 and classes 2 make \d+ parameters, more than one block can hold/);
    expect(performance.now() - t0).toBeLessThan(1000);
    // The count the bound uses is the layout's.
    for (const o of [{ vocabSize: 7, maxLen: 5, dModel: 6, heads: 3, ffDim: 10, layers: 3, classes: 4 }, { vocabSize: 10 }]) {
      expect(h.transformerClassifier(o).parameterCount).toBe(parameterCount(transformerConfig(o)));
    }
    expect(h.memory().allocatedBytes).toBeGreaterThan(0);
  });
});
