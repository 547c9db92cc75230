// heed.fit: the training loop on a worker (worker_threads in Node, a Web Worker in browsers) so
// the caller's event loop stays responsive, or on the calling thread with `worker: false`.
// Progress streams to onStep / onEpoch; cancel() stops after the current step and `done`
// resolves with the model as trained so far. The weights come back as transferred buffers.
import type { Context } from '../context.js';
import { HeedError } from '../errors.js';
import { adamwOption } from '../ops/adamw.js';
import { outputsOf, type Model, type ModelConfig } from '../nn/model.js';
import { frozenPrefix } from '../nn/optim.js';
import { configFor, familyOf, layoutFor, modelFor } from '../nn/registry.js';
import type { PoolingOptions } from '../nn/families/pooling.js';
import type { DecoderOptions } from '../nn/families/decoder.js';
import type { RegressorOptions } from '../nn/families/regressor.js';
import type { TaggerOptions } from '../nn/families/tagger.js';
import type { TransformerOptions } from '../nn/families/transformer.js';
import { IGNORE } from '../data/dataset.js';
import { PackedBuilder, rowCount, type PackedDataset, type Targets } from '../data/dataset.js';
import { errorFromWorker, transferables, type FromWorker, type OptimizerState, type ToWorker } from '../worker/protocol.js';
import { copyEarly, materialise, snapshot } from '../worker/run.js';
import { spawnWorker, type WorkerLike } from '../worker/spawn.js';
import { checkThreads, DataParallelTrainer } from '../parallel/trainer.js';
import { freshEarlyState, trainLoop, type EarlyState, type EpochInfo, type Schedule, type StepInfo, type TrainResult, type TrainSettings } from './loop.js';

export type ModelOptions = ({ kind: 'transformer' } & TransformerOptions) | ({ kind: 'pooling' } & PoolingOptions)
  | ({ kind: 'tagger' } & TaggerOptions) | ({ kind: 'regressor' } & RegressorOptions) | ({ kind: 'decoder' } & DecoderOptions);

/** Training rows: token-id sequences (no padding) and their labels, either one array per row or
 *  packed ({@link PackedFitData}, no per-row objects: what a million rows want). A model with one
 *  class per row takes a class id per row (`labels[i]`); a tokenClassifier takes one label per
 *  token (`labels[i]` an array as long as `sequences[i]`), -100 where a token has none. */
export type FitData = { sequences: readonly ArrayLike<number>[]; labels: ArrayLike<number> | readonly ArrayLike<number>[] } | PackedFitData;
// (an attentionPoolingRegressor takes real values: a number per row, or `outputs` numbers per row;
// packed, a Float32Array of rows × outputs)

/** Rows packed into flat arrays: row i is tokens[offsets[i] .. offsets[i+1]); offsets starts at
 *  0, never decreases and ends at tokens.length. `labels` holds a class id per row, or (for a
 *  tokenClassifier) a label per token, packed like the tokens. fit copies them. */
export interface PackedFitData { tokens: Int32Array; offsets: Int32Array; labels: Int32Array | Float32Array }

export interface FitOptions {
  /** Train this model (its weights are updated in place when the run ends)… */
  model?: Model;
  /** …or build a new one. */
  modelOptions?: ModelOptions;
  /** Token-id sequences (no padding needed) and class ids (0/1 for classes: 1), one array per row
   *  or packed. */
  data: FitData;
  /** Validation data; or give valSplit to hold out a stratified share of `data`. */
  validation?: FitData;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  clipNorm?: number;
  /** Linear warm-up: a step count, or a fraction of all steps when below 1. */
  warmup?: number;
  schedule?: Schedule;
  /** Truncate sequences to this many tokens (default: the transformer's maxLen, 256 for pooling). */
  maxLen?: number;
  /** Early stopping: epochs without a better validation loss before stopping (best weights restored). */
  patience?: number;
  /** Augmentation: leave out each training token with this probability, anew every epoch (default 0). */
  tokenDropout?: number;
  /** Leave the embeddings and the first N layers as they are ('encoder': every layer; only what
   *  follows, such as the classifier, trains). Default 0. */
  freeze?: number | 'encoder';
  seed?: number;
  /** Run on a worker thread (default true). */
  worker?: boolean;
  /** Data-parallel training on this many threads (default 1): each batch is split across helper
   *  workers and their gradients averaged (see dataParallel). Needs SharedArrayBuffer. Results
   *  match threads: 1 up to float rounding, and repeat bit for bit for the same thread count. */
  threads?: number;
  /** Resume: optimizer state, the number of epochs already done, and (with early stopping) the
   *  early-stopping state of the checkpoint, so the run stops where an uninterrupted one would. */
  resume?: { optimizer: OptimizerState; epoch: number; early?: EarlyState };
  onStep?(info: StepInfo): void;
  onEpoch?(info: EpochInfo): void;
  /** Called after each epoch with a consistent snapshot (for checkpoint files). */
  onCheckpoint?(c: { epoch: number; params: Float32Array; optimizer: OptimizerState; config: ModelConfig; early: EarlyState }): void;
}

export interface FitResult extends TrainResult { model: Model; optimizer: OptimizerState }

export interface FitRun {
  cancel(): void;
  done: Promise<FitResult>;
}

function num(name: string, v: unknown, dflt: number, ok: (x: number) => boolean, what: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new HeedError(`fit: ${name} must be ${what}, got ${String(v)}`);
  return v;
}
const int = (x: number) => Number.isInteger(x);

const isPacked = (d: FitData): d is PackedFitData => 'offsets' in d;

/** Checks `d` against the model and packs it once (a copy: the caller's arrays stay theirs and
 *  the copy can be transferred to the worker). Each value is read once, checked and copied, so a
 *  getter or a shared buffer cannot change it between the check and the copy. */
function packData(name: string, d: FitData | undefined, config: ModelConfig): PackedDataset {
  const kind = familyOf(config.kind, 'fit').target, C = outputsOf(config);
  const what = kind === 'token' ? 'a label array per sequence' : kind === 'value' ? `${C === 1 ? 'a number' : `${C} numbers`} per sequence` : 'class ids';
  const shapeError = () => new HeedError(`fit: ${name} must be { sequences: token-id arrays, labels: ${what} } or { tokens, offsets, labels }`);
  if (d === null || typeof d !== 'object') throw shapeError();
  const V = config.vocabSize, maxLabel = C === 1 ? 2 : C;
  const label = (where: string, y: unknown): number => {
    if (kind === 'value') {
      if (!(typeof y === 'number' && Number.isFinite(y) && Math.abs(y) <= 3.4e38)) throw new HeedError(`fit: ${name}.labels${where} = ${String(y)} is not a finite number in float32's range`);
    } else if (!((typeof y === 'number' && int(y) && y >= 0 && y < maxLabel) || (kind === 'token' && y === IGNORE))) {
      throw new HeedError(`fit: ${name}.labels${where} = ${String(y)} is outside [0, ${maxLabel})${kind === 'token' ? ` and is not ${IGNORE} (no label)` : ''}`);
    }
    return y as number;
  };
  const token = (where: string, t: number): number => {
    if (!(int(t) && t >= 0 && t < V)) throw new HeedError(`fit: ${name}${where} = ${t} is outside [0, ${V}) (vocabSize ${V})`);
    return t;
  };
  if (isPacked(d)) {
    const { tokens, offsets, labels } = d;
    const labelType = kind === 'value' ? Float32Array : Int32Array;
    if (!(tokens instanceof Int32Array) || !(offsets instanceof Int32Array) || !(labels instanceof labelType)) {
      throw new HeedError(`fit: ${name} packed must be { tokens: Int32Array, offsets: Int32Array, labels: ${labelType.name} }`);
    }
    const n = offsets.length - 1;
    if (n < 0 || offsets[0] !== 0 || offsets[n] !== tokens.length) {
      throw new HeedError(`fit: ${name}.offsets must start at 0 and end at tokens.length (${tokens.length}), got ${n < 0 ? 'an empty array' : `${offsets[0]} … ${offsets[n]}`}`);
    }
    const want = kind === 'token' ? tokens.length : kind === 'value' ? n * C : n;
    if (labels.length !== want) {
      throw new HeedError(kind === 'token' ? `fit: ${name} has ${tokens.length} tokens but ${labels.length} labels (a tokenClassifier takes one per token)`
        : kind === 'value' ? `fit: ${name} has ${n} rows (offsets) but ${labels.length} values (${C} per row: ${want})`
          : `fit: ${name} has ${n} rows (offsets) but ${labels.length} labels`);
    }
    const toks = tokens.slice(), offs = offsets.slice(), ys = labels.slice();
    for (let i = 0; i < n; i++) {
      if (offs[i + 1] < offs[i]) throw new HeedError(`fit: ${name}.offsets[${i + 1}] = ${offs[i + 1]} is below offsets[${i}] = ${offs[i]}`);
      for (let k = offs[i]; k < offs[i + 1]; k++) {
        token(` row ${i} token ${k - offs[i]}`, toks[k]);
        if (kind === 'token') label(`[${k}] (row ${i} token ${k - offs[i]})`, ys[k]);
      }
      if (kind === 'class') label(`[${i}]`, ys[i]);
      else if (kind === 'value') for (let c = 0; c < C; c++) label(`[${i * C + c}]`, ys[i * C + c]);
    }
    return { tokens: toks, offsets: offs, targets: { kind, labels: ys } as Targets };
  }
  const { sequences: seqs, labels } = d;
  if (!Array.isArray(seqs) || labels == null || typeof labels.length !== 'number') throw shapeError();
  if (seqs.length !== labels.length) throw new HeedError(`fit: ${name} has ${seqs.length} sequences but ${labels.length} labels`);
  let total = 0;
  for (let i = 0; i < seqs.length; i++) {
    const s = seqs[i];
    if (s == null || typeof s.length !== 'number') throw new HeedError(`fit: ${name}.sequences[${i}] is not an array of token ids`);
    total += s.length;
  }
  const out = new PackedBuilder(seqs.length, kind, total, C);
  for (let i = 0; i < seqs.length; i++) {
    const s = seqs[i], ids = Int32Array.from({ length: s.length }, (_, j) => token(`.sequences[${i}][${j}]`, s[j]));
    const y: unknown = labels[i];
    // One number per row for classes (and a single-output regressor), else an array per row.
    if (kind === 'class' || (kind === 'value' && C === 1 && typeof y !== 'object')) {
      out.push(ids, label(`[${i}]`, y));
      continue;
    }
    const n = kind === 'token' ? ids.length : C;
    const ys = y as ArrayLike<unknown> | null;
    if (ys == null || typeof ys !== 'object' || ys.length !== n) {
      const got = ys == null || typeof ys !== 'object' ? String(ys) : `${ys.length}`;
      throw new HeedError(kind === 'token' ? `fit: ${name}.labels[${i}] must be an array of ${n} labels (one per token of sequences[${i}]), got ${got}`
        : `fit: ${name}.labels[${i}] must be ${n} numbers (the model's outputs), got ${got}`);
    }
    const row = kind === 'value' ? new Float32Array(n) : new Int32Array(n);
    for (let j = 0; j < n; j++) row[j] = label(`[${i}][${j}]`, ys[j]);
    out.push(ids, row);
  }
  return out.finish();
}

/** Validates options into the loop's settings. */
export function fitSettings(o: FitOptions, config: ModelConfig, nTrain: number): TrainSettings {
  const epochs = num('epochs', o.epochs, 10, (x) => int(x) && x >= 1, 'a positive integer');
  const batchSize = num('batchSize', o.batchSize, 32, (x) => int(x) && x >= 1, 'a positive integer');
  const warmup = num('warmup', o.warmup, 0, (x) => x >= 0, 'a non-negative number');
  const total = Math.ceil(nTrain / batchSize) * epochs;
  const schedule = o.schedule ?? 'constant';
  if (!['constant', 'linear', 'cosine'].includes(schedule)) throw new HeedError(`fit: schedule must be 'constant', 'linear' or 'cosine', got ${String(schedule)}`);
  const modelMax = 'maxLen' in config ? config.maxLen : Infinity;
  const maxLen = num('maxLen', o.maxLen, 'maxLen' in config ? config.maxLen : 256, (x) => int(x) && x >= 1, 'a positive integer');
  if (maxLen > modelMax) throw new HeedError(`fit: maxLen ${maxLen} exceeds the model's maxLen ${modelMax}`);
  // Checked here, where the caller is, rather than when the worker builds the optimizer.
  if (o.freeze !== undefined) frozenPrefix(layoutFor(config), config.kind, o.freeze, 'fit');
  const startEpoch = o.resume ? num('resume.epoch', o.resume.epoch, 0, (x) => int(x) && x >= 0 && x <= epochs, `an integer in [0, ${epochs}]`) : 0;
  return {
    epochs, batchSize,
    lr: adamwOption('fit:', 'lr', o.lr),
    beta1: adamwOption('fit:', 'beta1', o.beta1),
    beta2: adamwOption('fit:', 'beta2', o.beta2),
    eps: adamwOption('fit:', 'eps', o.eps),
    weightDecay: adamwOption('fit:', 'weightDecay', o.weightDecay),
    clipNorm: adamwOption('fit:', 'clipNorm', o.clipNorm),
    warmupSteps: warmup < 1 && warmup > 0 ? Math.round(warmup * total) : Math.round(warmup),
    schedule, maxLen,
    seed: num('seed', o.seed, 0, int, 'an integer'),
    patience: num('patience', o.patience, 0, (x) => int(x) && x >= 0, 'a non-negative integer'),
    startEpoch,
    tokenDropout: num('tokenDropout', o.tokenDropout, 0, (x) => x >= 0 && x < 1, 'in [0, 1)'),
    ...(o.freeze === undefined ? {} : { freeze: o.freeze }),
  };
}

function configOf(o: FitOptions): ModelConfig {
  if (o.model) { o.model.alive(); return o.model.config; }
  const mo = o.modelOptions;
  if (!mo || typeof mo !== 'object') throw new HeedError('fit: give either model or modelOptions ({ kind: "transformer" | "pooling", ... })');
  return configFor(mo, 'fit: modelOptions');
}

export function fit(ctx: Context, options: FitOptions): FitRun {
  let o = options;
  if (o === null || typeof o !== 'object') throw new HeedError('fit: expected an options object');
  if (o.model) ctx.ownModel(o.model);
  const config = configOf(o);
  const train = packData('data', o.data, config), val = o.validation ? packData('validation', o.validation, config) : null;
  const settings = fitSettings(o, config, rowCount(train));
  if (o.resume) {
    const n = o.model ? o.model.layout.total : layoutFor(config).total;
    const { optimizer: op } = o.resume;
    if (!op || !Number.isInteger(op.step) || op.step < 0 || !(op.m instanceof Float32Array) || !(op.v instanceof Float32Array) || op.m.length !== n || op.v.length !== n) {
      throw new HeedError(`fit: resume.optimizer must be { step, m, v } with m and v Float32Arrays of ${n} values`);
    }
    // Copies: m and v are transferred to the worker, and the caller's arrays must survive that.
    const e = o.resume.early;
    if (e !== undefined && (e === null || typeof e !== 'object' || !Number.isInteger(e.sinceBest) || (e.params !== null && !(e.params instanceof Float32Array && e.params.length === n)))) {
      throw new HeedError(`fit: resume.early must be { best, bestEpoch, sinceBest, params } with params null or a Float32Array of ${n} values`);
    }
    o = { ...o, resume: { epoch: o.resume.epoch, optimizer: { step: op.step, m: op.m.slice(), v: op.v.slice() }, early: e ? copyEarly(e) : undefined } };
  }
  if (rowCount(train) === 0) throw new HeedError('fit: data is empty');
  const params = o.model ? o.model.be.read(o.model.params, o.model.layout.total) : null;
  const start: Extract<ToWorker, { type: 'start' }> = {
    type: 'start', backend: ctx.backend, config, params, optimizer: o.resume?.optimizer ?? null,
    maxMemoryMB: ctx.memory().maxBytes === null ? null : ctx.memory().maxBytes! / 2 ** 20,
    train, val, settings, checkpoints: !!o.onCheckpoint, early: o.resume?.early ?? null,
    threads: checkThreads('fit', o.threads ?? 1),
  };
  const finish = (p: Float32Array, optimizer: OptimizerState, result: TrainResult): FitResult => {
    // The lease kept the caller's model from being disposed; a model that is gone all the same
    // must not receive the weights (its memory may belong to someone else now).
    if (o.model?.disposed) throw new HeedError('fit: the model was disposed while fit was running; the trained weights were not written');
    const model = o.model ?? modelFor(ctx, config, false);
    model.be.write(model.params, p);
    return { ...result, model, optimizer };
  };
  // The caller's model is trained elsewhere and gets the weights at the end: until then it refuses
  // dispose(), trainStep() and loadStateDict() (whose effects would be lost or would free the
  // memory the weights are written to), and a second fit or trainer.
  const lease = o.model?.lease('fit', 'fit', 'wait for run.done');
  lease?.lockWeights('is in use by fit; wait for run.done');
  const release = () => lease?.release();
  let run: FitRun;
  try {
    run = o.worker === false ? fitHere(ctx, start, o, finish) : fitOnWorker(start, o, finish);
  } catch (e) {
    release();
    throw e;
  }
  run.done.then(release, release);
  return run;
}

type Finish = (p: Float32Array, opt: OptimizerState, r: TrainResult) => FitResult;

function fitHere(ctx: Context, start: Extract<ToWorker, { type: 'start' }>, o: FitOptions, finish: Finish): FitRun {
  let cancelled = false;
  const done = (async () => {
    await Promise.resolve(); // return the FitRun first, as the worker path does
    const { model, opt } = materialise(ctx, start);
    const early = start.early ?? freshEarlyState();
    let parallel: DataParallelTrainer | null = null;
    try {
      if (start.threads > 1) parallel = await DataParallelTrainer.start(ctx, model, opt, { threads: start.threads });
      const result = await trainLoop(model, opt, start.train, start.val, start.settings, {
        onStep: o.onStep, onEpoch: o.onEpoch,
        onCheckpoint: o.onCheckpoint ? (epoch) => o.onCheckpoint!({ epoch, ...snapshot(model, opt), config: start.config, early: copyEarly(early) }) : undefined,
        shouldStop: () => cancelled,
        pause: () => new Promise((r) => setTimeout(r, 0)),
      }, early, parallel);
      const s = snapshot(model, opt);
      return finish(s.params, s.optimizer, result);
    } finally {
      await parallel?.close();
      opt.dispose();
      model.dispose();
    }
  })();
  return { cancel: () => { cancelled = true; }, done };
}

function fitOnWorker(start: Extract<ToWorker, { type: 'start' }>, o: FitOptions, finish: Finish): FitRun {
  let worker: WorkerLike | null = null, settled = false, cancelRequested = false;
  let resolve!: (r: FitResult) => void, reject!: (e: unknown) => void;
  const done = new Promise<FitResult>((res, rej) => { resolve = res; reject = rej; });
  const end = (f: () => void) => {
    if (settled) return;
    settled = true;
    f();
    void worker?.terminate();
  };
  const onMessage = (m: FromWorker) => {
    if (settled) return;
    try {
      switch (m.type) {
        case 'step': o.onStep?.(m.info); break;
        case 'epoch': o.onEpoch?.(m.info); break;
        case 'checkpoint': o.onCheckpoint?.({ epoch: m.epoch, params: m.params, optimizer: m.optimizer, config: start.config, early: m.early }); break;
        case 'done': {
          // finish may throw (the caller's context out of memory for the model): reject, never hang.
          let r: FitResult;
          try { r = finish(m.params, m.optimizer, m.result); } catch (e) { end(() => reject(e)); break; }
          end(() => resolve(r));
          break;
        }
        case 'error': end(() => reject(errorFromWorker(m, 'training worker'))); break;
      }
    } catch (e) {
      // A throwing callback stops the run rather than leaving the worker orphaned.
      end(() => reject(e));
    }
  };
  const onFailure = (e: Error) => end(() => reject(new HeedError(`training worker failed: ${e.message}`, { cause: e })));
  spawnWorker('fit', 'the training worker', (m) => onMessage(m as FromWorker), onFailure).then((w) => {
    worker = w;
    if (settled) { void w.terminate(); return; }
    try {
      const transfer = new Set<ArrayBuffer>([...transferables(start.train), ...transferables(start.val),
        ...(start.params ? [start.params.buffer as ArrayBuffer] : []),
        ...(start.optimizer ? [start.optimizer.m.buffer as ArrayBuffer, start.optimizer.v.buffer as ArrayBuffer] : []),
        ...(start.early?.params ? [start.early.params.buffer as ArrayBuffer] : [])]);
      w.postMessage(start, [...transfer]);
      if (cancelRequested) w.postMessage({ type: 'cancel' } satisfies ToWorker);
    } catch (e) {
      end(() => reject(new HeedError(`fit: could not send the training data to the worker: ${(e as Error).message}`, { cause: e })));
    }
  }, (e) => end(() => reject(e instanceof HeedError ? e : new HeedError(`fit: could not start the training worker: ${(e as Error).message}`, { cause: e }))));
  return {
    cancel: () => {
      cancelRequested = true;
      worker?.postMessage({ type: 'cancel' } satisfies ToWorker);
    },
    done,
  };
}
