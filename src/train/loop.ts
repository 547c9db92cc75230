// The training loop shared by heed.fit on a worker and on the calling thread: epochs of shuffled
// batches, learning-rate warm-up and decay, validation, early stopping, progress callbacks and
// cooperative cancellation. The same seed, data and settings give the same weights either way.
import { epochSeed, makeBatch, type Batch } from '../data/dataset.js';
import { Rng } from '../nn/rng.js';
import type { Model } from '../nn/model.js';
import type { AdamwOptimizer } from '../nn/optim.js';
import { trainStep } from '../nn/step.js';
import type { DataParallelTrainer } from '../parallel/trainer.js';
import { argmaxRows, predictBatches, probabilities } from './evaluate.js';

export type Schedule = 'constant' | 'linear' | 'cosine';

/** Everything the loop needs besides the model and the data: plain values, so it can be posted to a worker. */
export interface TrainSettings {
  epochs: number;
  batchSize: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clipNorm?: number;
  /** Linear warm-up over this many steps. */
  warmupSteps: number;
  /** Decay after warm-up, down to 0 at the last step. */
  schedule: Schedule;
  /** Sequences are truncated to this many tokens. */
  maxLen: number;
  seed: number;
  /** Stop after this many epochs without a better validation loss and restore the best weights (0: off). */
  patience: number;
  /** Epochs already done (resuming from a checkpoint): training continues at this epoch. */
  startEpoch: number;
  /** Training-time augmentation: each token of a training sequence is left out with this
   *  probability, drawn anew every epoch (0: off). Never applied to validation or inference. */
  tokenDropout: number;
}

/** A dataset as token-id sequences (no padding) and class ids. */
export interface Dataset { sequences: Int32Array[]; labels: Int32Array }

export interface StepInfo {
  epoch: number; epochs: number; step: number; steps: number; globalStep: number; totalSteps: number;
  loss: number; accuracy: number; lr: number; gradNorm: number; seqPerSec: number; etaSeconds: number;
}

export interface EpochInfo {
  epoch: number; loss: number; accuracy: number; valLoss?: number; valAccuracy?: number;
  lr: number; seconds: number; seqPerSec: number;
}

export interface TrainResult { history: EpochInfo[]; cancelled: boolean; stoppedEarly: boolean; bestEpoch: number | null }

/** Early-stopping bookkeeping, carried through checkpoints so a resumed run stops (and keeps the
 *  weights) exactly where an uninterrupted one would. best: lowest validation loss so far (null:
 *  none yet); params: the weights of that epoch. */
export interface EarlyState { best: number | null; bestEpoch: number | null; sinceBest: number; params: Float32Array | null }

export const freshEarlyState = (): EarlyState => ({ best: null, bestEpoch: null, sinceBest: 0, params: null });

export interface LoopHooks {
  onStep?(info: StepInfo): void;
  onEpoch?(info: EpochInfo): void;
  /** After each completed epoch (weights and optimizer state are consistent then). */
  onCheckpoint?(epoch: number): void;
  /** Polled before every step: true stops the run after the current step. */
  shouldStop(): boolean;
  /** Lets the host's event loop run (messages, timers); called every few tens of milliseconds. */
  pause(): Promise<void>;
}

export function stepsPerEpoch(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

/** The learning rate for 0-based step g of `total`. */
export function learningRate(s: TrainSettings, g: number, total: number): number {
  const warm = s.warmupSteps > 0 ? Math.min(1, (g + 1) / s.warmupSteps) : 1;
  if (s.schedule === 'constant') return s.lr * warm;
  const span = Math.max(1, total - s.warmupSteps);
  const progress = Math.min(1, Math.max(0, (g - s.warmupSteps) / span));
  const decay = s.schedule === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
  return s.lr * warm * decay;
}

const PAUSE_EVERY_MS = 25;

export async function trainLoop(model: Model, opt: AdamwOptimizer, train: Dataset, val: Dataset | null,
                                s: TrainSettings, hooks: LoopHooks, early: EarlyState = freshEarlyState(),
                                parallel: DataParallelTrainer | null = null): Promise<TrainResult> {
  const all = Int32Array.from(train.labels.keys());
  const valIdx = val ? Int32Array.from(val.labels.keys()) : null;
  const steps = stepsPerEpoch(all.length, s.batchSize), totalSteps = steps * s.epochs;
  const history: EpochInfo[] = [];
  const offsets = new Int32Array(train.sequences.length + 1);
  for (let i = 0; i < train.sequences.length; i++) offsets[i + 1] = offsets[i] + train.sequences[i].length;
  const keep = s.tokenDropout > 0 ? new Uint8Array(offsets[train.sequences.length]) : null;
  const C = model.config.classes, K = Math.max(2, C);
  let lastPause = now(), cancelled = false, stoppedEarly = false;
  const runStart = now();
  let seqsDone = 0;
  for (let epoch = s.startEpoch; epoch < s.epochs && !cancelled; epoch++) {
    const t0 = now();
    // The epoch's batches are built one at a time (the order and the dropout draws are those of
    // epochBatches over dropTokens, so results are unchanged), and the dropout is a byte per token
    // reused every epoch: memory stays one batch plus O(tokens) bytes, not a copy of the data.
    if (s.tokenDropout > 0) dropMask(train.sequences, s.tokenDropout, epochSeed(s.seed, epoch) ^ 0x5bd1e995, offsets, keep!);
    const order = Int32Array.from(all);
    new Rng(epochSeed(s.seed, epoch)).shuffle(order);
    let lossSum = 0, correct = 0, seen = 0;
    for (let i = 0; i < steps; i++) {
      if (hooks.shouldStop()) { cancelled = true; break; }
      const rows = order.subarray(i * s.batchSize, Math.min(order.length, (i + 1) * s.batchSize));
      const b = s.tokenDropout > 0 ? keptBatch(train, rows, s.maxLen, offsets, keep!) : makeBatch(train.sequences, train.labels, rows, s.maxLen);
      const [B] = b.shape, g = epoch * steps + i;
      opt.lr = learningRate(s, g, totalSteps);
      const loss = parallel ? await parallel.step(b.tokens, b.shape, b.labels) : trainStep(model, opt, b.tokens, b.shape, b.labels);
      const logits = parallel ? parallel.lastLogits() : model.readLogits(model.currentPlan!, B);
      const pred = argmaxRows(probabilities(logits, B, C), B, K);
      for (let j = 0; j < B; j++) if (pred[j] === b.labels[j]) correct++;
      lossSum += loss * B;
      seen += B;
      seqsDone += B;
      if (hooks.onStep) {
        const elapsed = (now() - runStart) / 1000, done = g + 1 - s.startEpoch * steps;
        const remaining = totalSteps - (g + 1);
        hooks.onStep({
          epoch: epoch + 1, epochs: s.epochs, step: i + 1, steps, globalStep: g + 1, totalSteps,
          loss, accuracy: correct / seen, lr: opt.lr, gradNorm: opt.lastGradNorm,
          seqPerSec: seqsDone / Math.max(elapsed, 1e-9), etaSeconds: done > 0 ? (elapsed / done) * remaining : NaN,
        });
      }
      if (now() - lastPause > PAUSE_EVERY_MS) {
        await hooks.pause();
        lastPause = now();
      }
    }
    if (cancelled && seen === 0) break;
    const seconds = (now() - t0) / 1000;
    const info: EpochInfo = {
      epoch: epoch + 1, loss: seen ? lossSum / seen : NaN, accuracy: seen ? correct / seen : NaN,
      lr: opt.lr, seconds, seqPerSec: seen / Math.max(seconds, 1e-9),
    };
    if (val && valIdx && valIdx.length > 0) {
      const pr = predictBatches(model, lazyBatches(val, valIdx, Math.max(s.batchSize, 64), s.maxLen));
      info.valLoss = pr.loss;
      info.valAccuracy = pr.accuracy;
    }
    history.push(info);
    hooks.onEpoch?.(info);
    if (cancelled) break;
    let stop = false;
    if (s.patience > 0 && info.valLoss !== undefined) {
      if (early.best === null || info.valLoss < early.best) {
        early.best = info.valLoss;
        early.bestEpoch = epoch + 1;
        early.params = model.be.read(model.params, model.layout.total);
        early.sinceBest = 0;
      } else if (++early.sinceBest >= s.patience) {
        stop = true;
      }
    }
    hooks.onCheckpoint?.(epoch + 1);
    if (stop) { stoppedEarly = true; break; }
    await hooks.pause();
    lastPause = now();
  }
  if (stoppedEarly && early.params) model.be.write(model.params, early.params);
  return { history, cancelled, stoppedEarly, bestEpoch: early.bestEpoch };
}

/** dropTokens as a mask: keep[offsets[i] + j] = 1 when token j of sequence i stays. The same
 *  draws in the same order as dropTokens, so the kept tokens are the same. */
export function dropMask(seqs: Int32Array[], p: number, seed: number, offsets: Int32Array, keep: Uint8Array): void {
  const rng = new Rng(seed);
  keep.fill(0);
  for (let i = 0; i < seqs.length; i++) {
    const n = seqs[i].length, o = offsets[i];
    let any = false;
    for (let j = 0; j < n; j++) if (rng.uniform() >= p) { keep[o + j] = 1; any = true; }
    if (!any && n > 0) keep[o + rng.int(n)] = 1;
  }
}

/** makeBatch over the kept tokens of `rows` (dropMask's), without materialising the sequences. */
export function keptBatch(d: Dataset, rows: Int32Array, maxLen: number, offsets: Int32Array, keep: Uint8Array): Batch {
  const B = rows.length;
  let longest = 0;
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let k = offsets[rows[b]]; k < offsets[rows[b] + 1]; k++) n += keep[k];
    if (n > longest) longest = n;
  }
  const T = Math.max(1, Math.min(maxLen, longest));
  const tokens = new Int32Array(B * T), labels = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const r = rows[b], q = d.sequences[r], o = offsets[r];
    for (let j = 0, t = 0; j < q.length && t < T; j++) if (keep[o + j]) tokens[b * T + t++] = q[j];
    labels[b] = d.labels[r];
  }
  return { tokens, shape: [B, T], labels, indices: Int32Array.from(rows) };
}

/** evalBatches, one batch at a time. */
function* lazyBatches(d: Dataset, idx: Int32Array, batchSize: number, maxLen: number): Generator<Batch> {
  for (let start = 0; start < idx.length; start += batchSize) {
    yield makeBatch(d.sequences, d.labels, idx.subarray(start, Math.min(idx.length, start + batchSize)), maxLen);
  }
}

/** Each sequence with every token left out with probability p (at least one token is kept). */
export function dropTokens(seqs: Int32Array[], p: number, seed: number): Int32Array[] {
  const rng = new Rng(seed);
  return seqs.map((q) => {
    const kept = q.filter(() => rng.uniform() >= p);
    return kept.length > 0 || q.length === 0 ? kept : Int32Array.of(q[rng.int(q.length)]);
  });
}

function now(): number {
  return performance.now();
}
