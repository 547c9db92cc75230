// Inference over batches: class probabilities, mean loss and accuracy. For classes: 1 the single
// logit becomes two probabilities [1 − σ(z), σ(z)], so every caller sees one column per label.
import type { Batch } from '../data/dataset.js';
import type { Model } from '../nn/model.js';

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

/** Probabilities [B, K] from logits [B, C] (softmax, or sigmoid for C = 1). */
export function probabilities(logits: Float32Array, B: number, C: number): Float32Array {
  const K = Math.max(2, C), out = new Float32Array(B * K);
  for (let b = 0; b < B; b++) {
    if (C === 1) {
      const z = logits[b], p = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
      out[2 * b] = 1 - p;
      out[2 * b + 1] = p;
      continue;
    }
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, logits[b * C + c]);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(logits[b * C + c] - m);
    for (let c = 0; c < C; c++) out[b * K + c] = Math.exp(logits[b * C + c] - m) / s;
  }
  return out;
}

export function argmaxRows(probs: Float32Array, n: number, K: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < K; c++) if (probs[i * K + c] > probs[i * K + best]) best = c;
    out[i] = best;
  }
  return out;
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
