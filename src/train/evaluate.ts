// Evaluation over labelled batches: class probabilities, mean loss and accuracy. The probabilities
// themselves (softmax, or [1 − σ(z), σ(z)] for classes: 1) are src/infer/probabilities.ts's.
import type { Batch } from '../data/dataset.js';
import { argmaxRows, probabilities } from '../infer/probabilities.js';
import type { Model } from '../nn/model.js';

export { argmaxRows, probabilities };

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
  const probs: Float32Array[] = [], predicted: number[] = [], labels: number[] = [], indices: number[] = [];
  let lossSum = 0, n = 0, correct = 0;
  for (const batch of batches) {
    const [B, T] = batch.shape;
    if (B === 0) continue;
    const p = model.prepare(batch.tokens, B, T);
    model.runForward(p, B, T);
    lossSum += model.lossOf(p, B, batch.labels) * B;
    const pr = probabilities(model.readLogits(p, B), B, C), pred = argmaxRows(pr, B, K);
    if (options.keepProbs) probs.push(pr);
    for (let i = 0; i < B; i++) {
      predicted.push(pred[i]); labels.push(batch.labels[i]); indices.push(batch.indices[i]);
      if (pred[i] === batch.labels[i]) correct++;
    }
    n += B;
  }
  let all: Float32Array | undefined;
  if (options.keepProbs) {
    all = new Float32Array(n * K);
    let o = 0;
    for (const pr of probs) { all.set(pr, o); o += pr.length; }
  }
  return {
    probs: all, predicted: Int32Array.from(predicted), labels: Int32Array.from(labels), indices: Int32Array.from(indices),
    loss: n ? lossSum / n : 0, accuracy: n ? correct / n : 0, n,
  };
}
