// A training worker that dies surfaces as a rejected `done` carrying the worker's message, and
// nothing hangs. To make real workers die without touching heed's sources, the built package is
// copied to a temporary directory and its worker entry (dist/worker/worker.js, which heed.fit
// starts next to itself) is replaced by entries that crash in different ways: at load, on the start
// message, or mid-run after a few steps (an uncaught exception, and process.exit).
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Heed = typeof import('../../src/index.js');
const root = new URL('../../', import.meta.url).pathname;
const DEADLINE_MS = 15_000;

let tmp = '';
/** The built package (in a directory of its own) with its worker entry replaced by `source`. */
async function withWorker(name: string, source?: string): Promise<Heed> {
  const dir = join(tmp, name);
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  if (source !== undefined) writeFileSync(join(dir, 'dist/worker/worker.js'), source);
  return (await import(pathToFileURL(join(dir, 'dist/index.js')).href)) as Heed;
}

/** `done`, or a rejection saying it hung. */
function settle<T>(p: Promise<T>): Promise<{ ok: T } | { err: unknown }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`done did not settle within ${DEADLINE_MS} ms`)), DEADLINE_MS); });
  return Promise.race([p.then((ok) => ({ ok }), (err: unknown) => ({ err })), hung]).finally(() => clearTimeout(timer));
}

// The real entry's serving loop with a hook on every message it posts.
const serving = (hook: string) => `
import { parentPort } from 'node:worker_threads';
import { serveTraining } from './run.js';
import { init } from '../index.js';
let steps = 0;
serveTraining({
  postMessage: (m, t) => { parentPort.postMessage(m, t); ${hook} },
  onMessage: (h) => parentPort.on('message', h),
}, () => new Promise((r) => setImmediate(r)), init);
`;

const CRASHES: [string, string, RegExp][] = [
  ['throws while loading', `throw new Error('worker exploded while loading');`,
    /^training worker failed: worker exploded while loading$/],
  ['exits on the start message', `import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(3));`,
    /^training worker failed: the training worker exited with code 3$/],
  ['throws an uncaught exception mid-run', serving(`if (m.type === 'step' && ++steps === 3) setImmediate(() => { throw new RangeError('worker died at step 3'); });`),
    /^training worker failed: worker died at step 3$/],
  ['calls process.exit mid-run', serving(`if (m.type === 'step' && ++steps === 3) process.exit(7);`),
    /^training worker failed: the training worker exited with code 7$/],
];

beforeAll(() => {
  if (!existsSync(join(root, 'dist/index.js'))) throw new Error('dist/ is missing: run npm run build (npm test does it first)');
  tmp = mkdtempSync(join(tmpdir(), 'heed-worker-'));
});
afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

const V = 10;
const data = {
  sequences: Array.from({ length: 256 }, (_, i) => Int32Array.from({ length: 2 + (i % 5) }, (_, j) => 1 + ((i * 3 + j) % (V - 1)))),
  labels: Int32Array.from({ length: 256 }, (_, i) => i % 2),
};

describe('a training worker that dies', () => {
  it.each(CRASHES.map((c, i) => [...c, i] as const))('%s: done rejects with a HeedError carrying its message; nothing hangs', async (_, source, msg, i) => {
    const heed = await withWorker(`w${i}`, source);
    const h = await heed.init();
    const steps: number[] = [];
    const t0 = performance.now();
    const run = h.fit({ modelOptions: { kind: 'pooling', vocabSize: V, dModel: 8 }, data, epochs: 200, batchSize: 8, seed: 1,
      onStep: (s) => steps.push(s.globalStep) });
    const r = await settle(run.done);
    expect('err' in r, 'done must reject').toBe(true);
    const err = (r as { err: unknown }).err;
    expect(err).toBeInstanceOf(heed.HeedError);
    expect((err as Error).message).toMatch(msg);
    if (/mid-run/.test(_)) expect(steps.slice(0, 3)).toEqual([1, 2, 3]);
    expect(performance.now() - t0).toBeLessThan(DEADLINE_MS);
    run.cancel(); // after the end: a no-op, not a throw
  });

  it('the real worker still works from the same copy (the harness is sound)', async () => {
    const heed = await withWorker('real');
    const h = await heed.init();
    const r = await settle(h.fit({ modelOptions: { kind: 'pooling', vocabSize: V, dModel: 8 }, data, epochs: 1, batchSize: 64, seed: 1 }).done);
    expect('ok' in r).toBe(true);
  });

  it('an exploding learning rate inside the real worker: a HeedError naming the step and the value; the last checkpoint is finite', async () => {
    const heed = (await import(pathToFileURL(join(root, 'dist/index.js')).href)) as Heed;
    const h = await heed.init();
    const checkpoints: Float32Array[] = [];
    const small = { sequences: data.sequences.slice(0, 8), labels: data.labels.slice(0, 8) };
    const run = h.fit({ modelOptions: { kind: 'pooling', vocabSize: V, dModel: 8 }, data: small, epochs: 5, batchSize: 8, lr: 1e30, weightDecay: 0, seed: 1,
      onCheckpoint: (c) => checkpoints.push(c.params) });
    const r = await settle(run.done);
    const err = (r as { err: unknown }).err;
    expect(err).toBeInstanceOf(heed.HeedError);
    expect((err as Error).message).toMatch(/^trainStep: (the loss|a gradient) is (NaN|-?Infinity) at step 2\b/);
    expect(checkpoints).toHaveLength(1);
    expect(checkpoints[0].every(Number.isFinite)).toBe(true);
  });

  // fit copies resume state before transferring it (m and v may share one buffer) and validates it
  // up front; a start message that still cannot be posted rejects done (try/catch around postMessage).
  it('resume state whose m and v share one buffer trains; a malformed one is refused up front', async () => {
    const heed = (await import(pathToFileURL(join(root, 'dist/index.js')).href)) as Heed;
    const h = await heed.init();
    const model = h.attentionPoolingClassifier({ vocabSize: V, dModel: 4 });
    const shared = new Float32Array(model.parameterCount);
    const r = await settle(h.fit({ model, data, epochs: 1, resume: { optimizer: { step: 0, m: shared, v: shared }, epoch: 0 } }).done);
    expect('err' in r ? (r.err as Error).message : 'ok').toBe('ok');
    expect(shared.every((x) => x === 0)).toBe(true); // the caller's arrays were not transferred away
    expect(() => h.fit({ model, data, epochs: 1, resume: { optimizer: { step: 0, m: new Float32Array(3), v: shared }, epoch: 0 } }))
      .toThrow(/^fit: resume.optimizer must be/);
  });
});

// The data-parallel trainer's helpers run the same worker entry: one that dies mid-run rejects the
// step in flight (and every later one) with a HeedError, and leaves the weights of the last good
// step; one that dies while starting rejects dataParallel() itself.
const replicaDying = (how: string) => `
import { parentPort } from 'node:worker_threads';
import { serveTraining } from './run.js';
import { init } from '../index.js';
let shards = 0;
serveTraining({
  postMessage: (m, t) => parentPort.postMessage(m, t),
  onMessage: (h) => parentPort.on('message', (m) => { if (m.type === 'shard' && ++shards === 3) { ${how} } h(m); }),
}, () => new Promise((r) => setImmediate(r)), init);
`;

describe('a data-parallel helper that dies', () => {
  const cfg = { vocabSize: V, maxLen: 8, dModel: 8, heads: 2, ffDim: 16, layers: 1, seed: 1 };
  const tokens = Int32Array.from({ length: 8 * 8 }, (_, i) => 1 + (i % (V - 1))), labels = Int32Array.from({ length: 8 }, (_, i) => i % 2);

  it.each([
    ['exits', 'process.exit(5);', /^dataParallel: worker 1 failed: data-parallel worker 1 exited with code 5$/],
    ['throws an uncaught exception', `setImmediate(() => { throw new RangeError('replica died'); }); return;`, /^dataParallel: worker 1 failed: replica died$/],
  ])('%s on its third shard: that step and later ones reject with a HeedError, the weights stay the last good step\'s', async (_, how, msg) => {
    const heed = await withWorker(`dp-${_.split(' ')[0]}`, replicaDying(how));
    const h = await heed.init();
    const model = h.transformerClassifier(cfg), opt = h.adamwOptimizer(model, { lr: 1e-2 });
    const dp = await h.dataParallel(model, opt, { threads: 2 });
    for (let s = 0; s < 2; s++) await dp.step(tokens, [8, 8], labels);
    const good = Object.values(model.stateDict()).map((e) => e.data);
    const r = await settle(dp.step(tokens, [8, 8], labels));
    expect('err' in r, 'the step must reject').toBe(true);
    const err = (r as { err: unknown }).err;
    expect(err).toBeInstanceOf(heed.HeedError);
    expect((err as Error).message).toMatch(msg);
    expect(Object.values(model.stateDict()).map((e) => e.data)).toEqual(good);
    expect(opt.step).toBe(2);
    await expect(dp.step(tokens, [8, 8], labels)).rejects.toThrow(msg);
    await dp.close();
  });

  it('throws while loading: dataParallel() rejects with a HeedError; nothing hangs', async () => {
    const heed = await withWorker('dp-load', `throw new Error('replica exploded while loading');`);
    const h = await heed.init();
    const model = h.transformerClassifier(cfg), opt = h.adamwOptimizer(model);
    const r = await settle(h.dataParallel(model, opt, { threads: 2 }));
    expect('err' in r).toBe(true);
    expect((r as { err: Error }).err).toBeInstanceOf(heed.HeedError);
    expect((r as { err: Error }).err.message).toMatch(/^dataParallel: worker 1 failed: replica exploded while loading$/);
  });
});
