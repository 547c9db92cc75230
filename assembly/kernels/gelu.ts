// GELU, tanh approximation (torch.nn.functional.gelu(x, approximate="tanh")), elementwise over n.
//   gelu(x) = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)
// Both paths use the identity 0.5·(1 + tanh(u)) = σ(2u) = 1/(1 + e^(−2u)), so gelu(x) = x·s with
// s = σ(2u): no 1 − tanh cancellation. e^(−2u) is clamped to [e^−87, e^88], so far out s is 1 or
// about 6e−39 and gelu(−1e4) comes out as −6e−35 rather than −0: harmless, and never NaN.
//   gelu'(x) = s + x·s·(1 − s)·2u',  u' = √(2/π)·(1 + 3·0.044715·x²),  1 − s = e^(−2u)·s
// The backward clamps x to ±GRAD_CLAMP for the second term: past it s is 0 or 1 in f32 and the term
// vanishes, but x² would overflow to ∞ for |x| > 1.8e19 and turn 0·∞ into NaN.
import { addTo, at, exp4 } from "../simd";

// @ts-ignore: decorator
@inline const TWO_SQRT_2_OVER_PI: f32 = 1.5957691216057308;
// @ts-ignore: decorator
@inline const GELU_C: f32 = 0.044715;
// @ts-ignore: decorator
@inline const GELU_3C: f32 = 0.134145;
// @ts-ignore: decorator
@inline const GRAD_CLAMP: f32 = 20;

/** e^(−2u) for four lanes of x: the gate of gelu(x) = x·s is s = 1/(1 + e), and 1 − s = e·s
 *  (formed that way, not as 1 − s, which would keep only the ulps of s near 1). e is finite (exp4
 *  clamps), so e·s never becomes ∞·0. */
// @ts-ignore: decorator
@inline function expm2u4(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  return exp4(f32x4.mul(f32x4.mul(x, f32x4.splat(-TWO_SQRT_2_OVER_PI)), f32x4.add(f32x4.splat(1), f32x4.mul(x2, f32x4.splat(GELU_C)))));
}

/** The scalar e^(−2u), clamped like exp4 so that e·s stays finite. */
// @ts-ignore: decorator
@inline function expm2u(x: f32): f32 {
  return Mathf.exp(min<f32>(-TWO_SQRT_2_OVER_PI * x * (<f32>1 + GELU_C * x * x), 88));
}

/** y = gelu(x) over n elements; y may alias x. */
export function gelu_forward(y: usize, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const xv = v128.load(at(x, i));
      v128.store(at(y, i), f32x4.div(xv, f32x4.add(f32x4.splat(1), expm2u4(xv))));
    }
  }
  for (; i < n; i++) {
    const xi = load<f32>(at(x, i));
    store<f32>(at(y, i), xi / (<f32>1 + expm2u(xi)));
  }
}

/** dx += dy·gelu'(x) over n elements (forward line: y = x·s, s = σ(2u)). */
export function gelu_backward(dx: usize, x: usize, dy: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const one = f32x4.splat(1), lo = f32x4.splat(-GRAD_CLAMP), hi = f32x4.splat(GRAD_CLAMP);
    for (; i + 4 <= n; i += 4) {
      const xv = f32x4.min(f32x4.max(v128.load(at(x, i)), lo), hi);
      const e = expm2u4(xv), s = f32x4.div(one, f32x4.add(one, e));
      const du2 = f32x4.mul(f32x4.splat(TWO_SQRT_2_OVER_PI), f32x4.add(one, f32x4.mul(f32x4.splat(GELU_3C), f32x4.mul(xv, xv))));
      const g = f32x4.add(s, f32x4.mul(f32x4.mul(f32x4.mul(xv, s), f32x4.mul(e, s)), du2));
      addTo(at(dx, i), f32x4.mul(v128.load(at(dy, i)), g));
    }
  }
  for (; i < n; i++) {
    const xi = min(max(load<f32>(at(x, i)), -GRAD_CLAMP), GRAD_CLAMP);
    const e = expm2u(xi), s = <f32>1 / (<f32>1 + e);
    const du2 = TWO_SQRT_2_OVER_PI * (<f32>1 + GELU_3C * xi * xi);
    const g = s + xi * s * (e * s) * du2;
    store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)) * g);
  }
}
