// Evaluation over labelled batches: class probabilities, mean loss and the metric of the target
// kind (accuracy for classes). The probabilities themselves (softmax, or [1 − σ(z), σ(z)] for
// classes: 1) are src/infer/probabilities.ts's.
import type { Batch, Targets } from '../data/dataset.js';
import { argmaxRows, probabilities } from '../infer/probabilities.js';
import type { Model } from '../nn/model.js';

export { argmaxRows, probabilities };

/** Rows of a batch whose predicted class is their label: accuracy's numerator. */
export function correctClasses(predicted: Int32Array, targets: Targets): number {
  const labels = targets.labels;
  let n = 0;
  for (let j = 0; j < labels.length; j++) if (predicted[j] === labels[j]) n++;
  return n;
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

export interface Predictions {
  /** [n, K] probabilities in dataset order of the indices seen (K = max(2, classes)); only with
   *  { keepProbs: true }, since n·K floats is 160 MB for 4,000 rows of a 10,000-class model. */
  probs?: Float32Array;
  /** Predicted class per row (argmax). */
  predicted: Int32Array;
  /** True class per row. */
  labels: Int32Array;
  /** Dataset index per row. */
  indices: Int32Array;
  /** Mean loss (the training loss function). */
  loss: number;
  accuracy: number;
  n: number;
}

/** Runs the model over batches (no update) and gathers predictions, loss and accuracy; memory is
 *  O(n) besides one batch (O(n·K) with keepProbs). */
export function predictBatches(model: Model, batches: Iterable<Batch>, options: { keepProbs?: boolean } = {}): Predictions {
  const C = model.config.classes, K = Math.max(2, C);
  const probs: Float32Array[] = [], predicted = new Ints(), labels = new Ints(), indices = new Ints();
  let lossSum = 0, n = 0, correct = 0;
  for (const batch of batches) {
    const [B, T] = batch.shape;
    if (B === 0) continue;
    const p = model.prepare(batch.tokens, B, T);
    model.runForward(p, B, T);
    const y = batch.targets.labels;
    lossSum += model.lossOf(p, B, y) * B;
    const pr = probabilities(model.readLogits(p, B), B, C), pred = argmaxRows(pr, B, K);
    if (options.keepProbs) probs.push(pr);
    for (let i = 0; i < B; i++) { predicted.push(pred[i]); labels.push(y[i]); indices.push(batch.indices[i]); }
    correct += correctClasses(pred, batch.targets);
    n += B;
  }
  let all: Float32Array | undefined;
  if (options.keepProbs) {
    all = new Float32Array(n * K);
    let o = 0;
    for (const pr of probs) { all.set(pr, o); o += pr.length; }
  }
  return {
    probs: all, predicted: predicted.done(), labels: labels.done(), indices: indices.done(),
    loss: n ? lossSum / n : 0, accuracy: n ? correct / n : 0, n,
  };
}
