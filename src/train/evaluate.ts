// Evaluation over labelled batches: class probabilities, mean loss and the metric of the target
// kind: accuracy over rows ('class') or over labelled tokens ('token'), and the loss averaged the
// same way. The probabilities themselves (softmax, or [1 − σ(z), σ(z)] for classes: 1) are
// src/classifier/probabilities.ts's.
import { IGNORE, type Batch, type Targets } from '../data/dataset.js';
import { argmaxRows, probabilities } from '../classifier/probabilities.js';
import type { Model } from '../nn/model.js';
import { lossOf } from '../nn/targets.js';

export { argmaxRows, probabilities };

/** What a batch's loss is a mean over: its rows ('class'), its labelled tokens ('token'), or its
 *  values ('value': rows × outputs). Means of several batches (an epoch's, a data-parallel step's
 *  shards) weight each batch by it. */
export function targetCount(targets: Targets): number {
  if (targets.kind !== 'token') return targets.labels.length;
  let n = 0;
  for (const y of targets.labels) if (y !== IGNORE) n++;
  return n;
}

/** Entries of a batch (rows, or labelled tokens) whose predicted class is their label: accuracy's
 *  numerator. `predicted` has one class per entry of targets.labels. */
export function correctClasses(predicted: Int32Array, targets: Targets): number {
  const labels = targets.labels;
  let n = 0;
  for (let j = 0; j < labels.length; j++) if (predicted[j] === labels[j]) n++;
  return n;
}

/** The predicted class of each entry of a batch's targets (rows, or every token) from its logits. */
export function predictedClasses(logits: Float32Array, targets: Targets, C: number): Int32Array {
  const rows = targets.labels.length;
  return argmaxRows(probabilities(logits, rows, C), rows, Math.max(2, C));
}

/** An Int32Array that grows by doubling: O(n) typed storage where a number[] would box and
 *  over-allocate. */
class Ints {
  a = new Int32Array(256);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) { const g = new Int32Array(this.a.length * 2); g.set(this.a); this.a = g; }
    this.a[this.n++] = v;
  }
  done(): Int32Array { return this.a.slice(0, this.n); }
}

/** Per row ('class' targets) or per labelled token ('token'), in the order seen. For real-valued
 *  targets ('value') only the loss (the mean squared error) is gathered: the arrays are empty and
 *  accuracy is NaN. */
export interface Predictions {
  /** [n, K] probabilities (K = max(2, classes)); only with { keepProbs: true }, since n·K floats
   *  is 160 MB for 4,000 rows of a 10,000-class model. */
  probs?: Float32Array;
  /** Predicted class (argmax). */
  predicted: Int32Array;
  /** True class. */
  labels: Int32Array;
  /** Dataset row (of the token, for 'token' targets). */
  indices: Int32Array;
  /** Mean loss (the training loss function), per row or per labelled token. */
  loss: number;
  accuracy: number;
  /** Rows, or labelled tokens. */
  n: number;
}

/** Runs the model over batches (no update) and gathers predictions, loss and accuracy; memory is
 *  O(n) besides one batch (O(n·K) with keepProbs). */
export function predictBatches(model: Model, batches: Iterable<Batch>, options: { keepProbs?: boolean } = {}): Predictions {
  const C = model.outputs, K = Math.max(2, C);
  const probs: Float32Array[] = [], predicted = new Ints(), labels = new Ints(), indices = new Ints();
  let lossSum = 0, n = 0, correct = 0;
  for (const batch of batches) {
    const [B, T] = batch.shape;
    if (B === 0) continue;
    const p = model.prepare(batch.tokens, B, T);
    model.runForward(p, B, T);
    const y = batch.targets.labels, count = targetCount(batch.targets);
    lossSum += lossOf(model, p, B, y) * count;
    n += count;
    if (batch.targets.kind === 'value') continue;
    const rows = y.length, perRow = rows / B;
    const pr = probabilities(model.readLogits(p, B), rows, C), pred = argmaxRows(pr, rows, K);
    const kept = count === rows ? pr : new Float32Array(options.keepProbs ? count * K : 0);
    for (let i = 0, j = 0; i < rows; i++) {
      if (y[i] === IGNORE) continue;
      predicted.push(pred[i]); labels.push(y[i]); indices.push(batch.indices[Math.floor(i / perRow)]);
      if (options.keepProbs && kept !== pr) kept.set(pr.subarray(i * K, (i + 1) * K), K * j++);
    }
    if (options.keepProbs) probs.push(kept);
    correct += correctClasses(pred, batch.targets);
  }
  let all: Float32Array | undefined;
  if (options.keepProbs) {
    all = new Float32Array(n * K);
    let o = 0;
    for (const pr of probs) { all.set(pr, o); o += pr.length; }
  }
  return {
    probs: all, predicted: predicted.done(), labels: labels.done(), indices: indices.done(),
    loss: n ? lossSum / n : 0, accuracy: model.target === 'value' ? NaN : n ? correct / n : 0, n,
  };
}
