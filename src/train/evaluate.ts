// Evaluation over labelled batches: class probabilities, mean loss and accuracy. The probabilities
// themselves (softmax, or [1 − σ(z), σ(z)] for classes: 1) are src/infer/probabilities.ts's.
import type { Batch } from '../data/dataset.js';
import { argmaxRows, probabilities } from '../infer/probabilities.js';
import type { Model } from '../nn/model.js';

export { argmaxRows, probabilities };

export interface Predictions {
  /** [n, K] probabilities in dataset order of the indices seen (K = max(2, classes)). */
  probs: Float32Array;
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

/** Runs the model over batches (no update) and gathers probabilities, loss and accuracy. */
export function predictBatches(model: Model, batches: Iterable<Batch>): Predictions {
  const C = model.config.classes, K = Math.max(2, C);
  const probs: Float32Array[] = [], labels: number[] = [], indices: number[] = [];
  let lossSum = 0, n = 0;
  for (const batch of batches) {
    const [B, T] = batch.shape;
    if (B === 0) continue;
    const p = model.prepare(batch.tokens, B, T);
    model.runForward(p, B, T);
    lossSum += model.lossOf(p, B, batch.labels) * B;
    probs.push(probabilities(model.readLogits(p, B), B, C));
    for (let i = 0; i < B; i++) { labels.push(batch.labels[i]); indices.push(batch.indices[i]); }
    n += B;
  }
  const all = new Float32Array(n * K);
  let o = 0;
  for (const pr of probs) { all.set(pr, o); o += pr.length; }
  const predicted = argmaxRows(all, n, K);
  let correct = 0;
  for (let i = 0; i < n; i++) if (predicted[i] === labels[i]) correct++;
  return {
    probs: all, predicted, labels: Int32Array.from(labels), indices: Int32Array.from(indices),
    loss: n ? lossSum / n : 0, accuracy: n ? correct / n : 0, n,
  };
}
