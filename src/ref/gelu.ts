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

// Exact GELU (torch.nn.functional.gelu(x), approximate="none"): gelu(x) = x·Φ(x) with
// Φ(x) = ½·erfc(−x/√2). JavaScript has no erf, so erfc is computed here to f64 accuracy: the
// positive series erf(z) = 2/√π·e^(−z²)·Σ 2ⁿz^(2n+1)/(1·3·…·(2n+1)) below z = 3 (no cancellation in
// the sum; erfc = 1 − erf keeps ~12 digits there, since erfc(3) = 2.2e-5), and the continued fraction
// erfc(z) = e^(−z²)/√π · 1/(z + ½/(z + 1/(z + 3/2/(z + …)))) from 3 on, where it converges fast.

/** erfc(z) for any real z, relative error ~1e-14. */
function erfc(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z < 0) return 2 - erfc(-z);
  if (z < 3) {
    let term = z, sum = z;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * z * z) / (2 * n + 1);
      sum += term;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-z * z) * sum;
  }
  // Modified Lentz evaluation of the continued fraction z + (1/2)/(z + 1/(z + (3/2)/(z + ...))).
  const tiny = 1e-300;
  let f = z, C = z, D = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    D = z + a * D; D = D === 0 ? tiny : 1 / D;
    C = z + a / C; if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-z * z) / (Math.sqrt(Math.PI) * f);
}

/** Φ(x), the standard normal CDF. */
const cdf = (x: number) => 0.5 * erfc(-x / Math.SQRT2);

/** y = x·Φ(x) over n elements. */
export function gelu_erf_forward(y: F32, x: F32, n: number): void {
  for (let i = 0; i < n; i++) y[i] = x[i] * cdf(x[i]);
}

/** dx += dy·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π), over n elements. */
export function gelu_erf_backward(dx: F32, x: F32, dy: F32, n: number): void {
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    dx[i] += dy[i] * (cdf(xi) + xi * Math.exp(-0.5 * xi * xi) / Math.sqrt(2 * Math.PI));
  }
}
