// Logits → class probabilities, and the argmax of each row. For classes: 1 the single logit
// becomes two probabilities [1 − σ(z), σ(z)], so every caller sees one column per label. Shared by
// inference (heed/infer, the CLI) and the training loop's evaluation.

/** Probabilities [B, K] from logits [B, C] (softmax, or sigmoid for C = 1; K = max(2, C)). */
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

/** The index of the largest value in each of n rows of K (the first on ties). */
export function argmaxRows(probs: Float32Array, n: number, K: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < K; c++) if (probs[i * K + c] > probs[i * K + best]) best = c;
    out[i] = best;
  }
  return out;
}
