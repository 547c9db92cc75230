// The optimizer's kernels over one flat block of parameters: the AdamW step, Σx² for the global
// gradient norm, and an in-place scale for clipping.
import { at, scaleBy } from "../simd";

/** One torch.optim.AdamW step (_single_tensor_adamw, amsgrad off) over n parameters, in place on
 *  param, m (exp_avg) and v (exp_avg_sq); step counts from 1. The scalar factors are formed in f64
 *  as Python forms them, then rounded to f32 as torch's float kernels round their scalars:
 *    param *= 1 − lr·wd                                 (decoupled weight decay)
 *    m = β1·m + (1 − β1)·g;   v = β2·v + (1 − β2)·g²
 *    denom = √v / √(1 − β2^step) + eps
 *    param += −(lr / (1 − β1^step)) · m / denom */
export function adamw(param: usize, grad: usize, m: usize, v: usize, n: i32,
                      lr: f64, beta1: f64, beta2: f64, eps: f64, weightDecay: f64, step: i32): void {
  const decay = <f32>(1 - lr * weightDecay);
  const b1 = <f32>beta1, c1 = <f32>(1 - beta1), b2 = <f32>beta2, c2 = <f32>(1 - beta2);
  const bc1 = 1 - Math.pow(beta1, <f64>step), bc2 = 1 - Math.pow(beta2, <f64>step);
  const negStep = <f32>(-(lr / bc1)), bc2Sqrt = <f32>Math.sqrt(bc2), epsf = <f32>eps;
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const dv = f32x4.splat(decay), b1v = f32x4.splat(b1), c1v = f32x4.splat(c1), b2v = f32x4.splat(b2), c2v = f32x4.splat(c2);
    const sv = f32x4.splat(negStep), bcv = f32x4.splat(bc2Sqrt), ev = f32x4.splat(epsf);
    for (; i + 4 <= n; i += 4) {
      const g = v128.load(at(grad, i));
      const mi = f32x4.add(f32x4.mul(v128.load(at(m, i)), b1v), f32x4.mul(c1v, g));
      const vi = f32x4.add(f32x4.mul(v128.load(at(v, i)), b2v), f32x4.mul(f32x4.mul(c2v, g), g));
      const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), bcv), ev);
      const p = f32x4.mul(v128.load(at(param, i)), dv);
      v128.store(at(m, i), mi);
      v128.store(at(v, i), vi);
      v128.store(at(param, i), f32x4.add(p, f32x4.mul(sv, f32x4.div(mi, denom))));
    }
  }
  for (; i < n; i++) {
    const g = load<f32>(at(grad, i));
    const mi = load<f32>(at(m, i)) * b1 + c1 * g;
    const vi = load<f32>(at(v, i)) * b2 + c2 * g * g;
    const denom = Mathf.sqrt(vi) / bc2Sqrt + epsf;
    const p = load<f32>(at(param, i)) * decay;
    store<f32>(at(m, i), mi);
    store<f32>(at(v, i), vi);
    store<f32>(at(param, i), p + negStep * (mi / denom));
  }
}

/** Σ x² over n, in f64: each f32 square is exact in f64 and the sum loses at most n·2⁻⁵³ relative.
 *  NaN or Infinity when any element is not finite (the caller's overflow check). */
export function sum_squares(x: usize, n: i32): f64 {
  let i = 0;
  let s: f64 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc0 = f64x2.splat(0), acc1 = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const xv = v128.load(at(x, i));
      const lo = f64x2.promote_low_f32x4(xv), hi = f64x2.promote_low_f32x4(i64x2.shuffle(xv, xv, 1, 1));
      acc0 = f64x2.add(acc0, f64x2.mul(lo, lo));
      acc1 = f64x2.add(acc1, f64x2.mul(hi, hi));
    }
    const acc = f64x2.add(acc0, acc1);
    s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  }
  for (; i < n; i++) {
    const xi = <f64>load<f32>(at(x, i));
    s += xi * xi;
  }
  return s;
}

/** x *= s over n, in place (gradient clipping). */
export function scale(x: usize, n: i32, s: f32): void {
  scaleBy(x, s, n);
}
