// GELU, tanh approximation (torch.nn.functional.gelu(x, approximate="tanh")), elementwise over n.
//   gelu(x) = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)
// Both paths use the identity 0.5·(1 + tanh(u)) = σ(2u) = 1/(1 + e^(−2u)), so gelu(x) = x·s with
// s = σ(2u): no 1 − tanh cancellation. e^(−2u) is clamped to [e^−87, e^88], so far out s is 1 or
// about 6e−39 and gelu(−1e4) comes out as −6e−35 rather than −0: harmless, and never NaN.
//   gelu'(x) = s + x·s·(1 − s)·2u',  u' = √(2/π)·(1 + 3·0.044715·x²),  1 − s = e^(−2u)·s
// The backward clamps x to ±GRAD_CLAMP for the second term: past it s is 0 or 1 in f32 and the term
// vanishes, but x² would overflow to ∞ for |x| > 1.8e19 and turn 0·∞ into NaN.
import { at, exp4, kf, K_ONE, madd, splatAt } from "../simd";

// @ts-ignore: decorator
@inline const TWO_SQRT_2_OVER_PI: f32 = 1.5957691216057308;
// @ts-ignore: decorator
@inline const GELU_C: f32 = 0.044715;
// @ts-ignore: decorator
@inline const GELU_3C: f32 = 0.134145;
// @ts-ignore: decorator
@inline const GRAD_CLAMP: f32 = 20;

/** The constants above, splatted, for the SIMD loops (see SPLATS in simd.ts for why a table). */
const GELU_SPLATS = memory.data<f32>([
  -TWO_SQRT_2_OVER_PI, -TWO_SQRT_2_OVER_PI, -TWO_SQRT_2_OVER_PI, -TWO_SQRT_2_OVER_PI,
  GELU_C, GELU_C, GELU_C, GELU_C,
  TWO_SQRT_2_OVER_PI, TWO_SQRT_2_OVER_PI, TWO_SQRT_2_OVER_PI, TWO_SQRT_2_OVER_PI,
  GELU_3C, GELU_3C, GELU_3C, GELU_3C,
  -GRAD_CLAMP, -GRAD_CLAMP, -GRAD_CLAMP, -GRAD_CLAMP,
  GRAD_CLAMP, GRAD_CLAMP, GRAD_CLAMP, GRAD_CLAMP,
]);
/** Every bit but the sign, per lane. */
const ABS_BITS = memory.data<i32>([0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF]);
// @ts-ignore: decorator
@inline const NEG_2C0 = 0;
// @ts-ignore: decorator
@inline const C = 1;
// @ts-ignore: decorator
@inline const POS_2C0 = 2;
// @ts-ignore: decorator
@inline const C3 = 3;
// @ts-ignore: decorator
@inline const LO = 4;
// @ts-ignore: decorator
@inline const HI = 5;

/** e^(−2u) for four lanes of x: the gate of gelu(x) = x·s is s = 1/(1 + e), and 1 − s = e·s
 *  (formed that way, not as 1 − s, which would keep only the ulps of s near 1). e is finite (exp4
 *  clamps), so e·s never becomes ∞·0. */
// @ts-ignore: decorator
@inline function expm2u4(x: v128): v128 {
  const x2 = f32x4.mul(x, x);
  return exp4(f32x4.mul(f32x4.mul(x, splatAt(GELU_SPLATS, NEG_2C0)), madd(x2, splatAt(GELU_SPLATS, C), kf(K_ONE))));
}

/** x·s; below −GRAD_CLAMP the gate is 0 in f32 (e^−600), but the clamped e^(−2u) would leave
 *  x/(1 + e^88), which is −1.8 at x = −3e38: those lanes keep only the sign of x (−0, as the
 *  f64 reference gives). NaN compares false and stays NaN. */
// @ts-ignore: decorator
@inline function gelu4(x: v128): v128 {
  const far = v128.and(f32x4.lt(x, splatAt(GELU_SPLATS, LO)), v128.load(ABS_BITS));
  return v128.andnot(f32x4.div(x, f32x4.add(kf(K_ONE), expm2u4(x))), far);
}

/** gelu'(x) on four lanes, x clamped to ±GRAD_CLAMP (pmin/pmax keep a NaN: see exp4). */
// @ts-ignore: decorator
@inline function geluGrad4(x: v128): v128 {
  const xv = f32x4.pmin(f32x4.pmax(x, splatAt(GELU_SPLATS, LO)), splatAt(GELU_SPLATS, HI));
  const e = expm2u4(xv), s = f32x4.div(kf(K_ONE), f32x4.add(kf(K_ONE), e));
  const du2 = f32x4.mul(splatAt(GELU_SPLATS, POS_2C0), madd(splatAt(GELU_SPLATS, C3), f32x4.mul(xv, xv), kf(K_ONE)));
  return madd(f32x4.mul(f32x4.mul(xv, s), f32x4.mul(e, s)), du2, s);
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
    // Two vectors per iteration: independent chains for the out-of-order core to overlap.
    for (; i + 8 <= n; i += 8) {
      const g0 = gelu4(v128.load(at(x, i))), g1 = gelu4(v128.load(at(x, i), 16));
      v128.store(at(y, i), g0);
      v128.store(at(y, i), g1, 16);
    }
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), gelu4(v128.load(at(x, i))));
  }
  for (; i < n; i++) {
    const xi = load<f32>(at(x, i));
    store<f32>(at(y, i), xi < -GRAD_CLAMP ? <f32>-0.0 : xi / (<f32>1 + expm2u(xi)));   // as gelu4
  }
}

/** dx += dy·gelu'(x) over n elements (forward line: y = x·s, s = σ(2u)). */
export function gelu_backward(dx: usize, x: usize, dy: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const g0 = geluGrad4(v128.load(at(x, i))), g1 = geluGrad4(v128.load(at(x, i), 16));
      v128.store(at(dx, i), madd(v128.load(at(dy, i)), g0, v128.load(at(dx, i))));
      v128.store(at(dx, i + 4), madd(v128.load(at(dy, i + 4)), g1, v128.load(at(dx, i + 4))));
    }
    for (; i + 4 <= n; i += 4) v128.store(at(dx, i), madd(v128.load(at(dy, i)), geluGrad4(v128.load(at(x, i))), v128.load(at(dx, i))));
  }
  for (; i < n; i++) {
    const xi = min(max(load<f32>(at(x, i)), -GRAD_CLAMP), GRAD_CLAMP);
    const e = expm2u(xi), s = <f32>1 / (<f32>1 + e);
    const du2 = TWO_SQRT_2_OVER_PI * (<f32>1 + GELU_3C * xi * xi);
    const g = s + xi * s * (e * s) * du2;
    store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)) * g);
  }
}
