// The training loop shared by heed.fit on a worker and on the calling thread: epochs of shuffled
// batches, learning-rate warm-up and decay, validation, early stopping, progress callbacks and
// cooperative cancellation. The same seed, data and settings give the same weights either way.
import { epochSeed, packedBatch, packedInOrder, packSequences, rowCount, type PackedDataset } from '../data/dataset.js';
import { Rng } from '../nn/rng.js';
import type { Model } from '../nn/model.js';
import type { AdamwOptimizer } from '../nn/optim.js';
import { trainStep } from '../nn/step.js';
import type { DataParallelTrainer } from '../parallel/trainer.js';
import { correctClasses, predictBatches, predictedClasses, targetCount } from './evaluate.js';

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
  /** The optimizer's freeze: the embeddings and the first N layers ('encoder': all) stay as they are. */
  freeze?: number | 'encoder';
}

/** A dataset as token-id sequences (no padding) and class ids; the loop packs it once
 *  (packSequences) and runs on the PackedDataset (which may also hold per-token targets). */
export interface Dataset { sequences: Int32Array[]; labels: Int32Array }

const packed = (d: PackedDataset | Dataset): PackedDataset => ('offsets' in d ? d : packSequences(d.sequences, d.labels));

/** loss and accuracy are per row, or per labelled token for a model with a target per token
 *  (tokenClassifier); for a regressor, loss is the mean squared error per value and accuracy is
 *  NaN. seqPerSec counts rows either way. */
export interface StepInfo {
  epoch: number; epochs: number; step: number; steps: number; globalStep: number; totalSteps: number;
  loss: number; accuracy: number; lr: number; gradNorm: number; seqPerSec: number; etaSeconds: number;
}

/** Per row or per labelled token, as StepInfo. */
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

/**
 * Early stopping's rule, applied after each validated epoch: a validation loss below the best so
 * far (strictly: an equal one is no better) makes `epoch` the best ('best': the caller keeps its
 * weights); otherwise `patience` such epochs in a row end the run ('stop'). Updates `early`.
 */
export function earlyStopping(early: EarlyState, epoch: number, valLoss: number, patience: number): 'best' | 'stop' | 'go on' {
  if (early.best === null || valLoss < early.best) {
    early.best = valLoss;
    early.bestEpoch = epoch;
    early.sinceBest = 0;
    return 'best';
  }
  return ++early.sinceBest >= patience ? 'stop' : 'go on';
}

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

export async function trainLoop(model: Model, opt: AdamwOptimizer, trainData: PackedDataset | Dataset, valData: PackedDataset | Dataset | null,
                                s: TrainSettings, hooks: LoopHooks, early: EarlyState = freshEarlyState(),
                                parallel: DataParallelTrainer | null = null): Promise<TrainResult> {
  const train = packed(trainData), val = valData ? packed(valData) : null;
  const n = rowCount(train), nVal = val ? rowCount(val) : 0;
  const steps = stepsPerEpoch(n, s.batchSize), totalSteps = steps * s.epochs;
  const history: EpochInfo[] = [];
  const keep = s.tokenDropout > 0 ? new Uint8Array(train.tokens.length) : null;
  const C = model.outputs, scored = model.target !== 'value';
  let lastPause = now(), cancelled = false, stoppedEarly = false;
  const runStart = now();
  let seqsDone = 0;
  const order = new Int32Array(n);
  for (let epoch = s.startEpoch; epoch < s.epochs && !cancelled; epoch++) {
    const t0 = now();
    // The epoch's batches are built one at a time from the packed rows (the order and the dropout
    // draws are those of epochBatches over dropTokens, so results are unchanged), and the dropout
    // is a byte per token reused every epoch: memory stays one batch plus O(tokens) bytes.
    if (keep) dropMask(train, s.tokenDropout, epochSeed(s.seed, epoch) ^ 0x5bd1e995, keep);
    for (let i = 0; i < n; i++) order[i] = i;
    new Rng(epochSeed(s.seed, epoch)).shuffle(order);
    // Loss and accuracy are means over what the loss averages (rows, or labelled tokens): `seen`.
    let lossSum = 0, correct = 0, seen = 0, rowsSeen = 0;
    for (let i = 0; i < steps; i++) {
      if (hooks.shouldStop()) { cancelled = true; break; }
      const rows = order.subarray(i * s.batchSize, Math.min(order.length, (i + 1) * s.batchSize));
      const b = packedBatch(train, rows, s.maxLen, keep);
      const [B] = b.shape, g = epoch * steps + i, labels = b.targets.labels;
      opt.lr = learningRate(s, g, totalSteps);
      const loss = parallel ? await parallel.step(b.tokens, b.shape, labels) : trainStep(model, opt, b.tokens, b.shape, labels);
      const logits = parallel ? parallel.lastLogits() : model.readLogits(model.currentPlan!, B);
      const count = targetCount(b.targets);
      if (scored) correct += correctClasses(predictedClasses(logits, b.targets, C), b.targets);
      lossSum += loss * count;
      seen += count;
      rowsSeen += B;
      seqsDone += B;
      if (hooks.onStep) {
        const elapsed = (now() - runStart) / 1000, done = g + 1 - s.startEpoch * steps;
        const remaining = totalSteps - (g + 1);
        hooks.onStep({
          epoch: epoch + 1, epochs: s.epochs, step: i + 1, steps, globalStep: g + 1, totalSteps,
          loss, accuracy: scored ? correct / seen : NaN, lr: opt.lr, gradNorm: opt.lastGradNorm,
          seqPerSec: seqsDone / Math.max(elapsed, 1e-9), etaSeconds: done > 0 ? (elapsed / done) * remaining : NaN,
        });
      }
      if (now() - lastPause > PAUSE_EVERY_MS) {
        await hooks.pause();
        lastPause = now();
      }
    }
    if (cancelled && rowsSeen === 0) break;
    const seconds = (now() - t0) / 1000;
    const info: EpochInfo = {
      epoch: epoch + 1, loss: seen ? lossSum / seen : NaN, accuracy: seen && scored ? correct / seen : NaN,
      lr: opt.lr, seconds, seqPerSec: rowsSeen / Math.max(seconds, 1e-9),
    };
    if (val && nVal > 0) {
      const pr = predictBatches(model, packedInOrder(val, Math.max(s.batchSize, 64), s.maxLen));
      info.valLoss = pr.loss;
      info.valAccuracy = pr.accuracy;
    }
    history.push(info);
    hooks.onEpoch?.(info);
    if (cancelled) break;
    const verdict = s.patience > 0 && info.valLoss !== undefined ? earlyStopping(early, epoch + 1, info.valLoss, s.patience) : 'go on';
    if (verdict === 'best') early.params = model.be.read(model.params, model.layout.total);
    const stop = verdict === 'stop';
    hooks.onCheckpoint?.(epoch + 1);
    if (stop) { stoppedEarly = true; break; }
    await hooks.pause();
    lastPause = now();
  }
  if (stoppedEarly && early.params) model.be.write(model.params, early.params);
  return { history, cancelled, stoppedEarly, bestEpoch: early.bestEpoch };
}

/** dropTokens as a mask over packed rows: keep[offsets[i] + j] = 1 when token j of row i stays.
 *  The same draws in the same order as dropTokens, so the kept tokens are the same. */
export function dropMask(d: PackedDataset, p: number, seed: number, keep: Uint8Array): void {
  const rng = new Rng(seed), { offsets } = d;
  keep.fill(0);
  for (let i = 0; i + 1 < offsets.length; i++) {
    const o = offsets[i], n = offsets[i + 1] - o;
    let any = false;
    for (let j = 0; j < n; j++) if (rng.uniform() >= p) { keep[o + j] = 1; any = true; }
    if (!any && n > 0) keep[o + rng.int(n)] = 1;
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
