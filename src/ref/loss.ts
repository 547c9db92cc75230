// Loss reference: the oracle for assembly/kernels/loss.ts, in f64. All kernels return the mean
// loss, WRITE dlogits (not accumulated) and return 0 for N = 0.
type F32 = Float32Array;
type I32 = Int32Array;

/** One row of softmax cross-entropy at offset o: returns logsumexp(x) − x[label] (max subtracted
 *  first) and writes dlogits = (softmax(x) − onehot(label)) / div. Shared by both cross-entropies,
 *  as the kernels share theirs. */
function crossEntropyRow(dlogits: F32, logits: F32, o: number, C: number, label: number, div: number): number {
  let mx = -Infinity;
  for (let i = 0; i < C; i++) mx = Math.max(mx, logits[o + i]);
  let sum = 0;
  for (let i = 0; i < C; i++) sum += Math.exp(logits[o + i] - mx);
  for (let i = 0; i < C; i++) dlogits[o + i] = (Math.exp(logits[o + i] - mx) / sum - (i === label ? 1 : 0)) / div;
  return mx + Math.log(sum) - logits[o + label];
}

/** Mean softmax cross-entropy: loss = mean(logsumexp(x) − x[label]);
 *  dlogits = (softmax(x) − onehot(label)) / N. logits, dlogits [N,C]; labels [N]. */
export function cross_entropy(dlogits: F32, logits: F32, labels: I32, N: number, C: number): number {
  let total = 0;
  for (let n = 0; n < N; n++) total += crossEntropyRow(dlogits, logits, n * C, C, labels[n], N);
  return N > 0 ? total / N : 0;
}

/** Mean binary cross-entropy with logits, PyTorch's stable form:
 *  loss = mean(max(x, 0) − x·t + log1p(e^(−|x|))); dlogits = (σ(x) − t) / N. logits, targets [N]. */
export function bce_with_logits(dlogits: F32, logits: F32, targets: F32, N: number): number {
  let total = 0;
  for (let i = 0; i < N; i++) {
    const x = logits[i], t = targets[i], e = Math.exp(-Math.abs(x));
    total += Math.max(x, 0) - x * t + Math.log1p(e);
    dlogits[i] = ((x >= 0 ? 1 / (1 + e) : e / (1 + e)) - t) / N;
  }
  return N > 0 ? total / N : 0;
}

/** cross_entropy with PyTorch's ignore_index: rows labelled ignoreIndex add no loss and get
 *  dlogits = 0; the mean is over the M other rows (dlogits = (softmax(x) − onehot) / M).
 *  M = 0 gives loss 0 and dlogits all 0 (PyTorch: NaN). */
export function cross_entropy_ignore_index(dlogits: F32, logits: F32, labels: I32, N: number, C: number,
                                           ignoreIndex: number): number {
  let M = 0;
  for (let n = 0; n < N; n++) if (labels[n] !== ignoreIndex) M++;
  let total = 0;
  for (let n = 0; n < N; n++) {
    const o = n * C, label = labels[n];
    if (label === ignoreIndex) dlogits.fill(0, o, o + C);
    else total += crossEntropyRow(dlogits, logits, o, C, label, M);
  }
  return M > 0 ? total / M : 0;
}

/** Mean squared error: loss = mean((x − t)²); dx = 2(x − t) / N. x, targets, dx [N]. */
export function mse_loss(dx: F32, x: F32, targets: F32, N: number): number {
  let total = 0;
  for (let i = 0; i < N; i++) {
    const d = x[i] - targets[i];
    total += d * d;
    dx[i] = 2 * d / N;
  }
  return N > 0 ? total / N : 0;
}
