// Data-parallel training on several threads: heed's opt-in multi-threaded mode.
//
// Each step splits the batch by rows into one shard per thread. The calling thread (the
// coordinator) trains on shard 0 with the caller's model; helper workers (heed/worker) hold
// replicas and train on the others at the same time. Every shard's gradient is scaled by its share
// of the batch, so their sum is the gradient of the whole batch's mean loss; the coordinator adds
// them up in thread order, clips, takes the AdamW step, and publishes the new weights in shared
// memory for the replicas to read at the start of the next step. Only gradients and weights cross
// threads (through one SharedArrayBuffer), never activations.
//
// Why workers with gradient averaging rather than WebAssembly threads: the step stays the same
// single-threaded kernels (no atomics or shared linear memory inside the core, no separate
// threaded build), the exchange is two copies of the parameter block per step (~1% of a W2 step),
// and it runs wherever SharedArrayBuffer and workers do. The cost: each thread holds a replica of
// the weights and its own activations.
//
// Results equal trainStep's up to float rounding (the batch gradient is summed in a different
// order), and are bit-for-bit reproducible for a given thread count. A batch of fewer rows than
// threads leaves the extra threads idle for that step.
import type { Context } from '../context.js';
import { HeedError } from '../errors.js';
import type { Model, ModelLease } from '../nn/model.js';
import type { AdamwOptimizer } from '../nn/optim.js';
import { applyGradients, checkBatch, computeGradients } from '../nn/step.js';
import { targetsPerRow } from '../nn/targets.js';
import { targetCount } from '../train/evaluate.js';
import type { Buf } from '../backends/backend.js';
import { errorFromWorker, type FromWorker, type ToWorker } from '../worker/protocol.js';
import { spawnWorker, type WorkerLike } from '../worker/spawn.js';
import { allocateShared, MAX_THREADS, type SharedBlock } from './shared.js';

export interface DataParallelOptions {
  /** Threads in all, the calling one included: 1 to 16 (1: every step on this thread). */
  threads: number;
}

interface Pending { resolve(v: { loss: number; logits: Float32Array }): void; reject(e: unknown): void }

interface Helper { worker: WorkerLike; pending: Pending | null; ready: Promise<void> }

/** Whether this host can run the data-parallel mode (SharedArrayBuffer, i.e. cross-origin
 *  isolation in a browser). */
export function canShareMemory(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean };
  return typeof SharedArrayBuffer !== 'undefined' && g.crossOriginIsolated !== false;
}

export function checkThreads(who: string, threads: unknown): number {
  if (!(typeof threads === 'number' && Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS)) {
    throw new HeedError(`${who}: threads must be an integer from 1 to ${MAX_THREADS}, got ${String(threads)}`);
  }
  if (threads > 1 && !canShareMemory()) {
    throw new HeedError(`${who}: threads: ${threads} needs SharedArrayBuffer, which this host does not offer (in a browser, serve the page cross-origin isolated: Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp); use threads: 1`);
  }
  return threads;
}

/** Rows [from, to) of a [B, T] batch, as new arrays (transferable to a worker); `perRow` labels
 *  per row (1; T for a target per token; the outputs for a regressor). */
function shardOf(tokens: Int32Array, labels: Int32Array | Float32Array, T: number, perRow: number, from: number, to: number): { tok: Int32Array<ArrayBuffer>; lab: Int32Array<ArrayBuffer> | Float32Array<ArrayBuffer> } {
  return { tok: tokens.slice(from * T, to * T), lab: labels.slice(from * perRow, to * perRow) };
}

export class DataParallelTrainer {
  readonly threads: number;
  readonly #model: Model;
  readonly #opt: AdamwOptimizer;
  readonly #helpers: Helper[];
  readonly #shared: SharedBlock;
  readonly #scratch: Buf;
  #seq = 0;
  #busy = false;
  #failure: Error | null = null;
  #closed = false;
  #logits: Float32Array = new Float32Array(0);
  /** The step in flight, settled or not: close() waits for it before freeing what it uses. */
  #inFlight: Promise<unknown> = Promise.resolve();
  readonly #release: () => void;
  readonly #lease: ModelLease;

  /** @internal use dataParallel(). Holds the model and the optimizer until close(): meanwhile
   *  they refuse dispose(), trainStep(), loadStateDict() and loadState(). */
  constructor(model: Model, opt: AdamwOptimizer, threads: number, helpers: Helper[], shared: SharedBlock) {
    this.#model = model;
    this.#opt = opt;
    this.threads = threads;
    this.#helpers = helpers;
    this.#shared = shared;
    const until = 'close() the trainer first';
    const lease = model.lease('dataParallel', 'a data-parallel trainer', until);
    let releaseOpt: (() => void) | null = null;
    try {
      releaseOpt = opt.lease('dataParallel', 'a data-parallel trainer', until);
      this.#scratch = model.be.alloc(model.layout.total);
    } catch (e) {
      releaseOpt?.();
      lease.release();
      throw e;
    }
    const release = releaseOpt;
    this.#lease = lease;
    this.#release = () => { release(); lease.release(); };
  }

  /** Starts threads − 1 helper workers, each with a replica of `model`. */
  static async start(ctx: Context, model: Model, opt: AdamwOptimizer, options: DataParallelOptions): Promise<DataParallelTrainer> {
    if (options === null || typeof options !== 'object') throw new HeedError('dataParallel: options must be { threads }');
    const threads = checkThreads('dataParallel', options.threads);
    opt.alive();
    if (opt.model !== model) throw new HeedError('dataParallel: the optimizer was made for another model');
    const n = model.layout.total;
    const shared = allocateShared(threads, n);
    const helpers: Helper[] = [];
    const trainer = new DataParallelTrainer(model, opt, threads, helpers, shared);
    const maxBytes = ctx.memory().maxBytes;
    try {
      for (let i = 1; i < threads; i++) {
        let readyResolve!: () => void, readyReject!: (e: unknown) => void;
        const ready = new Promise<void>((res, rej) => { readyResolve = res; readyReject = rej; });
        const helper: Helper = { worker: null as unknown as WorkerLike, pending: null, ready };
        const onMessage = (raw: unknown) => {
          const m = raw as FromWorker;
          if (m.type === 'ready') readyResolve();
          else if (m.type === 'error') readyReject(errorFromWorker(m, `dataParallel: worker ${i}`));
          else if (m.type === 'shard-done') { const p = helper.pending; helper.pending = null; p?.resolve({ loss: m.loss, logits: m.logits }); }
          else if (m.type === 'shard-error') {
            const p = helper.pending; helper.pending = null;
            p?.reject(errorFromWorker(m, `dataParallel: worker ${i}`));
          }
        };
        const onFailure = (e: Error) => {
          const err = new HeedError(`dataParallel: worker ${i} failed: ${e.message}`, { cause: e });
          trainer.#failure ??= err;
          readyReject(err);
          const p = helper.pending; helper.pending = null;
          p?.reject(err);
        };
        helper.worker = await spawnWorker('dataParallel', `data-parallel worker ${i}`, onMessage, onFailure);
        helpers.push(helper);
        helper.worker.postMessage({
          type: 'replica', backend: ctx.backend, config: model.config, shared: shared.buffer, index: i, n,
          maxMemoryMB: maxBytes === null ? null : maxBytes / 2 ** 20,
        } satisfies ToWorker);
      }
      await Promise.all(helpers.map((h) => h.ready));
    } catch (e) {
      await trainer.close();
      throw e instanceof HeedError ? e : new HeedError(`dataParallel: could not start the workers: ${(e as Error).message}`, { cause: e });
    }
    return trainer;
  }

  /** One training step on a batch, as trainStep but spread over the threads: the mean loss before
   *  the update. Throws before any parameter changes when a loss or gradient is not finite. */
  step(tokens: ArrayLike<number>, shape: readonly number[], labels: ArrayLike<number>): Promise<number> {
    const run = this.#step(tokens, shape, labels);
    // Chained, not replaced: a call refused for overlapping must not hide the step still running.
    this.#inFlight = Promise.allSettled([this.#inFlight, run]);
    return run;
  }

  async #step(tokens: ArrayLike<number>, shape: readonly number[], labels: ArrayLike<number>): Promise<number> {
    if (this.#closed) throw new HeedError('dataParallel: step() after close()');
    if (this.#failure) throw this.#failure;
    if (this.#busy) throw new HeedError('dataParallel: step() called before the previous step finished (await it)');
    const model = this.#model, opt = this.#opt, be = model.be, k = model.k;
    // The checked copies are what every thread trains on: the caller's arrays are not read again.
    const batch = checkBatch(model, opt, tokens, shape, labels, 'dataParallel');
    const { B, T } = batch, ids = batch.tokens, ys = batch.labels;
    this.#busy = true;
    this.#lease.lockWeights('is in a data-parallel step; await the step first');
    try {
      const n = model.layout.total, step = opt.step + 1, seq = ++this.#seq;
      const { control, regions } = this.#shared;
      // Shard i is rows [start[i], start[i+1]): the first B % threads shards get one row more.
      const base = Math.floor(B / this.threads), extra = B % this.threads;
      const start = [0];
      for (let i = 0; i < this.threads; i++) start.push(start[i] + base + (i < extra ? 1 : 0));
      // Each shard's loss is a mean over its rows (or their values), or its labelled tokens: its
      // gradient counts by its share of those, so the shards sum to the gradient of the whole
      // batch's mean.
      const kind = model.target, C = model.outputs, perRow = targetsPerRow(kind, T, C), byRows = kind !== 'token';
      const total = byRows ? B : targetCount({ kind: 'token', labels: ys as Int32Array });
      const share = (from: number, to: number) => (byRows ? (to - from) / B
        : total === 0 ? 0 : targetCount({ kind: 'token', labels: (ys as Int32Array).subarray(from * perRow, to * perRow) }) / total);
      // (a shard's loss × its share, rounded as ever for rows)
      const weigh = (loss: number, from: number, to: number) => (byRows ? loss * (to - from) / B : loss * share(from, to));
      be.readInto(model.params, regions[0]);
      Atomics.store(control, 0, seq);
      const results: Promise<{ loss: number; logits: Float32Array }>[] = [];
      for (let i = 1; i < this.threads; i++) {
        const rows = start[i + 1] - start[i];
        if (rows === 0) continue;
        const helper = this.#helpers[i - 1];
        results.push(new Promise((resolve, reject) => { helper.pending = { resolve, reject }; }));
        const { tok, lab } = shardOf(ids, ys, T, perRow, start[i], start[i + 1]);
        helper.worker.postMessage({ type: 'shard', seq, tokens: tok, shape: [rows, T], labels: lab, fraction: share(start[i], start[i + 1]), step } satisfies ToWorker,
          [tok.buffer, lab.buffer]);
      }
      const rows0 = start[1];
      let local: number, localError: unknown = null;
      try {
        if (rows0 === B) {
          local = computeGradients(model, ids, B, T, ys, step, 'dataParallel');
        } else {
          const { tok, lab } = shardOf(ids, ys, T, perRow, 0, rows0);
          local = computeGradients(model, tok, rows0, T, lab, step, 'dataParallel');
          k.scale(model.grads, n, share(0, rows0));
        }
      } catch (e) { localError = e; local = NaN; }
      const logits0 = localError ? null : model.readLogits(model.currentPlan!, rows0);
      const settled = await Promise.allSettled(results);
      // close() during the await: its scratch block and the model may be gone; change nothing.
      if (this.#closed) throw new HeedError(`dataParallel: the trainer was closed during step ${step}; no parameter was changed`);
      if (localError) throw localError;
      const failed = settled.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) throw failed.reason;
      const done = settled.map((r) => (r as PromiseFulfilledResult<{ loss: number; logits: Float32Array }>).value);
      // The batch gradient: shard 0's, then each helper's in thread order.
      let loss = weigh(local, 0, rows0), h = 0;
      for (let i = 1; i < this.threads; i++) {
        const rows = start[i + 1] - start[i];
        if (rows === 0) continue;
        if (Atomics.load(control, i) !== seq) throw new HeedError(`dataParallel: worker ${i} answered without publishing its gradient for step ${step}`);
        be.write(this.#scratch, regions[i]);
        k.add_forward(model.grads, model.grads, this.#scratch, n);
        loss += weigh(done[h++].loss, start[i], start[i + 1]);
      }
      if (!Number.isFinite(loss)) throw new HeedError(`dataParallel: the loss is ${loss} at step ${step}; no parameter was changed (lower the learning rate?)`);
      applyGradients(model, opt, 'dataParallel');
      const logitRows = kind === 'token' ? T : 1, logits = new Float32Array(B * logitRows * C);
      logits.set(logits0!, 0);
      for (let i = 1, j = 0; i < this.threads; i++) if (start[i + 1] > start[i]) logits.set(done[j++].logits, start[i] * logitRows * C);
      this.#logits = logits;
      return loss;
    } finally {
      this.#busy = false;
      this.#lease.lockWeights(null);
    }
  }

  /** @internal Logits [B, C] (or [B·T, C] for a target per token) of the last step's batch,
   *  before the update (for training accuracy). */
  lastLogits(): Float32Array {
    return this.#logits;
  }

  /** Stops the helper workers and frees the coordinator's scratch block. The model and optimizer
   *  stay the caller's. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#helpers.map((h) => h.worker.terminate()));
    // A step awaiting helpers that were just stopped would wait for ever: answer it.
    for (const h of this.#helpers) {
      const p = h.pending;
      h.pending = null;
      p?.reject(new HeedError('dataParallel: the trainer was closed during the step'));
    }
    await this.#inFlight;
    this.#model.be.free(this.#scratch);
    this.#release();
  }
}
