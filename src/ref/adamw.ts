// Optimizer reference: the oracle for assembly/kernels/adamw.ts. torch.optim.AdamW
// (_single_tensor_adamw, amsgrad off) transcribed in f64, rounding to f32 only where it stores.
type F32 = Float32Array;

/** One AdamW step over n parameters in place (m = exp_avg, v = exp_avg_sq); step counts from 1. */
export function adamw(param: F32, grad: F32, m: F32, v: F32, n: number, lr: number, beta1: number, beta2: number,
                      eps: number, weightDecay: number, step: number): void {
  const bc1 = 1 - beta1 ** step, bc2 = 1 - beta2 ** step;
  const stepSize = lr / bc1, bc2Sqrt = Math.sqrt(bc2);
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    param[i] *= 1 - lr * weightDecay;                     // decoupled weight decay
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    const denom = Math.sqrt(v[i]) / bc2Sqrt + eps;
    param[i] -= stepSize * m[i] / denom;
  }
}

/** Σ x² over n in f64 (NaN or Infinity when an element is not finite). */
export function sum_squares(x: F32, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}

/** x *= s over n, in place. */
export function scale(x: F32, n: number, s: number): void {
  for (let i = 0; i < n; i++) x[i] *= s;
}
