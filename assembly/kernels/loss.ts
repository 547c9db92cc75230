// Mean losses with their gradients, computed together (the loss is the last forward step and the
// first backward one). All return the mean loss as f64 and WRITE (do not accumulate) dlogits.
// N = 0 returns 0, never 0/0.
import { at, exp4, hmax } from "../simd";

/** Softmax cross-entropy (torch.nn.functional.cross_entropy, reduction "mean").
 *  logits, dlogits [N,C]; labels [N] i32 in [0, C) (checked by the caller).
 *  loss = mean over rows of logsumexp(x) − x[label], with the row max subtracted first so that
 *  logits of ±1e4 stay finite; dlogits = (softmax(x) − onehot(label)) / N. */
export function cross_entropy(dlogits: usize, logits: usize, labels: usize, N: i32, C: i32): f64 {
  let total: f64 = 0;
  const invN: f64 = 1 / <f64>N;
  for (let n = 0; n < N; n++) {
    total += crossEntropyRow(at(dlogits, n * C), at(logits, n * C), load<i32>(at(labels, n)), C, invN);
  }
  return N > 0 ? total * invN : 0;
}

/** cross_entropy with PyTorch's ignore_index: a row whose label equals ignoreIndex (any i32, also
 *  one inside [0, C)) adds no loss and gets dlogits = 0, and the mean is over the M rows that
 *  count: loss = mean of their logsumexp(x) − x[label], dlogits = (softmax(x) − onehot) / M.
 *  Every other label is in [0, C) (checked by the caller). M = 0 returns 0 with dlogits all 0,
 *  where PyTorch returns 0/0 = NaN: an all-padding batch must not poison a training run. */
export function cross_entropy_ignore_index(dlogits: usize, logits: usize, labels: usize, N: i32, C: i32,
                                           ignoreIndex: i32): f64 {
  let M = 0;                                         // pass 0: the rows that count, for 1/M
  for (let n = 0; n < N; n++) if (load<i32>(at(labels, n)) != ignoreIndex) M++;
  let total: f64 = 0;
  const invM: f64 = 1 / <f64>M;
  for (let n = 0; n < N; n++) {
    const label = load<i32>(at(labels, n));
    if (label == ignoreIndex) memory.fill(at(dlogits, n * C), 0, <usize>C << 2);
    else total += crossEntropyRow(at(dlogits, n * C), at(logits, n * C), label, C, invM);
  }
  return M > 0 ? total * invM : 0;
}

/** One row of the cross-entropies: writes dr = softmax(xr)·scale − onehot(label)·scale and
 *  returns the row's loss logsumexp(xr) − xr[label]. scale is 1/(rows in the mean). */
// @ts-ignore: decorator
@inline function crossEntropyRow(dr: usize, xr: usize, label: i32, C: i32, scale: f64): f64 {
  let mx = <f32>-Infinity;                           // pass 1: the row max
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    let mv = f32x4.splat(-Infinity);
    for (; i + 4 <= C; i += 4) mv = f32x4.max(mv, v128.load(at(xr, i)));
    mx = hmax(mv);
  }
  for (; i < C; i++) mx = max(mx, load<f32>(at(xr, i)));
  let sum: f64 = 0;                                  // pass 2: e = exp(x − max) into dlogits, Σe
  i = 0;
  if (ASC_FEATURE_SIMD) {
    const m = f32x4.splat(mx);
    let acc = f64x2.splat(0);                        // Σe in f64 lanes: exact enough for any C
    for (; i + 4 <= C; i += 4) {
      const e = exp4(f32x4.sub(v128.load(at(xr, i)), m));
      v128.store(at(dr, i), e);
      acc = f64x2.add(acc, f64x2.add(f64x2.promote_low_f32x4(e), f64x2.promote_low_f32x4(i64x2.shuffle(e, e, 1, 1))));
    }
    sum = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  }
  for (; i < C; i++) {
    const e = Mathf.exp(load<f32>(at(xr, i)) - mx);
    store<f32>(at(dr, i), e);
    sum += <f64>e;
  }
  const loss = <f64>mx + Math.log(sum) - <f64>load<f32>(at(xr, label));
  const r = <f32>(scale / sum);                      // pass 3: dlogits = e / (Σe·rows) − onehot / rows
  i = 0;
  if (ASC_FEATURE_SIMD) {
    const rv = f32x4.splat(r);
    for (; i + 4 <= C; i += 4) v128.store(at(dr, i), f32x4.mul(v128.load(at(dr, i)), rv));
  }
  for (; i < C; i++) store<f32>(at(dr, i), load<f32>(at(dr, i)) * r);
  store<f32>(at(dr, label), <f32>(<f64>load<f32>(at(dr, label)) - scale));
  return loss;
}

/** Binary cross-entropy with logits (torch.nn.functional.binary_cross_entropy_with_logits, mean).
 *  logits, targets, dlogits [N]; targets in [0, 1].
 *  loss = mean of max(x, 0) − x·t + log1p(e^(−|x|))   (PyTorch's stable form)
 *  dlogits = (σ(x) − t) / N, with σ from e^(−|x|) so that it never overflows.
 *  Scalar f64 on purpose: N is the batch size and log1p has no vector form worth its error. */
export function bce_with_logits(dlogits: usize, logits: usize, targets: usize, N: i32): f64 {
  let total: f64 = 0;
  const invN: f64 = 1 / <f64>N;
  for (let i = 0; i < N; i++) {
    const x = <f64>load<f32>(at(logits, i)), t = <f64>load<f32>(at(targets, i));
    const e = Math.exp(-Math.abs(x));
    total += max<f64>(x, 0) - x * t + Math.log1p(e);
    const sig = x >= 0 ? 1 / (1 + e) : e / (1 + e);
    store<f32>(at(dlogits, i), <f32>((sig - t) * invN));
  }
  return N > 0 ? total * invN : 0;
}

/** Mean squared error (torch.nn.functional.mse_loss, reduction "mean") over N values.
 *  x, targets, dx [N]. loss = mean((x − t)²), dx = 2(x − t) / N. The differences are squared and
 *  summed in f64 lanes: float32 squares of ±1e4 differences would lose the small terms. */
export function mse_loss(dx: usize, x: usize, targets: usize, N: i32): f64 {
  const invN: f64 = 1 / <f64>N;
  const g = <f32>(2 * invN);
  let total: f64 = 0;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const gv = f32x4.splat(g);
    let acc = f64x2.splat(0);
    for (; i + 4 <= N; i += 4) {
      const xv = v128.load(at(x, i)), tv = v128.load(at(targets, i));
      v128.store(at(dx, i), f32x4.mul(f32x4.sub(xv, tv), gv));
      const lo = f64x2.sub(f64x2.promote_low_f32x4(xv), f64x2.promote_low_f32x4(tv));
      const hi = f64x2.sub(f64x2.promote_low_f32x4(i64x2.shuffle(xv, xv, 1, 1)),
                           f64x2.promote_low_f32x4(i64x2.shuffle(tv, tv, 1, 1)));
      acc = f64x2.add(acc, f64x2.add(f64x2.mul(lo, lo), f64x2.mul(hi, hi)));
    }
    total = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  }
  for (; i < N; i++) {
    const xi = load<f32>(at(x, i)), ti = load<f32>(at(targets, i));
    store<f32>(at(dx, i), (xi - ti) * g);
    const d = <f64>xi - <f64>ti;
    total += d * d;
  }
  return N > 0 ? total * invN : 0;
}
