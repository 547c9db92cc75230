// GELU reference (torch.nn.functional.gelu(x, approximate="tanh")): the oracle for
// assembly/kernels/gelu.ts, in f64 with Math.tanh, written as the formula reads.
type F32 = Float32Array;

const K = Math.sqrt(2 / Math.PI), C = 0.044715;

/** y = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) over n elements. */
export function gelu_forward(y: F32, x: F32, n: number): void {
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    y[i] = 0.5 * xi * (1 + Math.tanh(K * (xi + C * xi * xi * xi)));
  }
}

/** dx += dy·gelu'(x), gelu'(x) = 0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²), t = tanh(u).
 *  For |x| past ~10, t = ±1 exactly and the second term is 0 (x² stays finite in f64 for any f32). */
export function gelu_backward(dx: F32, x: F32, dy: F32, n: number): void {
  for (let i = 0; i < n; i++) {
    const xi = x[i], t = Math.tanh(K * (xi + C * xi * xi * xi));
    dx[i] += dy[i] * (0.5 * (1 + t) + 0.5 * xi * (1 - t * t) * K * (1 + 3 * C * xi * xi));
  }
}
