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

// ---------------------------------------------------------------- exact GELU
// GELU with the exact normal CDF (torch.nn.functional.gelu(x), approximate="none"; BERT's "gelu"):
//   gelu(x) = x·Φ(x),  Φ(x) = ½·erfc(−x/√2),  gelu'(x) = Φ(x) + x·φ(x),  φ(x) = e^(−x²/2)/√(2π)
// erfc(z) for z = |x|/√2 ≥ 0 is Numerical Recipes' erfcc, t·e^(−z² + P(t)) with t = 1/(1 + z/2):
// relative error under 1.2e-7 for every z, so the far tail (x ≪ 0, where Φ is tiny and 1 + erf
// would cancel) is as accurate as the middle. Φ(x) is then 1 − c/2 for x ≥ 0 and c/2 below.
// Below ERF_CUT the true gelu is under 1e-37 in magnitude, while exp4's clamp (e^−87) would leave
// ~1e-38 of noise: those lanes give −0, as the f64 reference's underflow does.

// @ts-ignore: decorator
@inline const INV_SQRT2: f32 = 0.7071067811865476;
// @ts-ignore: decorator
@inline const INV_SQRT_2PI: f32 = 0.3989422804014327;
// @ts-ignore: decorator
@inline const ERF_CUT: f32 = -13;

/** erfcc's polynomial, highest power first, then the constants the SIMD loops splat. */
const ERF_SPLATS = memory.data<f32>([
  0.17087277, 0.17087277, 0.17087277, 0.17087277,
  -0.82215223, -0.82215223, -0.82215223, -0.82215223,
  1.48851587, 1.48851587, 1.48851587, 1.48851587,
  -1.13520398, -1.13520398, -1.13520398, -1.13520398,
  0.27886807, 0.27886807, 0.27886807, 0.27886807,
  -0.18628806, -0.18628806, -0.18628806, -0.18628806,
  0.09678418, 0.09678418, 0.09678418, 0.09678418,
  0.37409196, 0.37409196, 0.37409196, 0.37409196,
  1.00002368, 1.00002368, 1.00002368, 1.00002368,
  -1.26551223, -1.26551223, -1.26551223, -1.26551223,
  INV_SQRT2, INV_SQRT2, INV_SQRT2, INV_SQRT2,
  0.5, 0.5, 0.5, 0.5,
  INV_SQRT_2PI, INV_SQRT_2PI, INV_SQRT_2PI, INV_SQRT_2PI,
  ERF_CUT, ERF_CUT, ERF_CUT, ERF_CUT,
  -0.5, -0.5, -0.5, -0.5,
]);
// @ts-ignore: decorator
@inline const E_POLY = 0;      // 10 rows: the polynomial, then its constant term at row 9
// @ts-ignore: decorator
@inline const E_RSQRT2 = 10;
// @ts-ignore: decorator
@inline const E_HALF = 11;
// @ts-ignore: decorator
@inline const E_RSQRT2PI = 12;
// @ts-ignore: decorator
@inline const E_CUT = 13;
// @ts-ignore: decorator
@inline const E_NEG_HALF = 14;

/** Φ(x) on four lanes, through erfc(|x|/√2) (see above); NaN stays NaN. */
// @ts-ignore: decorator
@inline function cdf4(x: v128): v128 {
  const z = f32x4.mul(v128.and(x, v128.load(ABS_BITS)), splatAt(ERF_SPLATS, E_RSQRT2));
  const t = f32x4.div(kf(K_ONE), madd(z, splatAt(ERF_SPLATS, E_HALF), kf(K_ONE)));
  let q = splatAt(ERF_SPLATS, E_POLY);
  for (let r = 1; r < 9; r++) q = madd(q, t, splatAt(ERF_SPLATS, E_POLY + r));
  const arg = f32x4.sub(madd(q, t, splatAt(ERF_SPLATS, E_POLY + 9)), f32x4.mul(z, z));
  const halfC = f32x4.mul(f32x4.mul(t, exp4(arg)), splatAt(ERF_SPLATS, E_HALF));   // c/2
  // x < 0: c/2; otherwise 1 − c/2
  return v128.bitselect(halfC, f32x4.sub(kf(K_ONE), halfC), f32x4.lt(x, f32x4.splat(0)));
}

// @ts-ignore: decorator
@inline function geluErf4(x: v128): v128 {
  const far = v128.and(f32x4.lt(x, splatAt(ERF_SPLATS, E_CUT)), v128.load(ABS_BITS));
  return v128.andnot(f32x4.mul(x, cdf4(x)), far);
}

/** gelu'(x) = Φ(x) + x·φ(x); x clamped to ±GRAD_CLAMP for φ (past it φ underflows anyway, and x²
 *  would overflow for |x| > 1.8e19). */
// @ts-ignore: decorator
@inline function geluErfGrad4(x: v128): v128 {
  const xv = f32x4.pmin(f32x4.pmax(x, splatAt(GELU_SPLATS, LO)), splatAt(GELU_SPLATS, HI));
  const pdf = f32x4.mul(exp4(f32x4.mul(f32x4.mul(xv, xv), splatAt(ERF_SPLATS, E_NEG_HALF))), splatAt(ERF_SPLATS, E_RSQRT2PI));
  return madd(xv, pdf, cdf4(xv));
}

/** Φ(x), scalar, the same formula as cdf4. */
// @ts-ignore: decorator
@inline function cdf(x: f32): f32 {
  const z = abs(x) * INV_SQRT2, t = <f32>1 / (<f32>1 + <f32>0.5 * z);
  let q: f32 = load<f32>(ERF_SPLATS);
  for (let r = 1; r < 10; r++) q = q * t + load<f32>(ERF_SPLATS + (<usize>r << 4));
  const halfC = <f32>0.5 * t * Mathf.exp(q - z * z);
  return x < 0 ? halfC : <f32>1 - halfC;
}

/** y = x·Φ(x) over n elements; y may alias x. */
export function gelu_erf_forward(y: usize, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const g0 = geluErf4(v128.load(at(x, i))), g1 = geluErf4(v128.load(at(x, i), 16));
      v128.store(at(y, i), g0);
      v128.store(at(y, i), g1, 16);
    }
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), geluErf4(v128.load(at(x, i))));
  }
  for (; i < n; i++) {
    const xi = load<f32>(at(x, i));
    store<f32>(at(y, i), xi < ERF_CUT ? <f32>-0.0 : xi * cdf(xi));   // as geluErf4
  }
}

/** dx += dy·(Φ(x) + x·φ(x)) over n elements (forward line: y = x·Φ(x)). */
export function gelu_erf_backward(dx: usize, x: usize, dy: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(dx, i), madd(v128.load(at(dy, i)), geluErfGrad4(v128.load(at(x, i))), v128.load(at(dx, i))));
  }
  for (; i < n; i++) {
    const xi = min(max(load<f32>(at(x, i)), -GRAD_CLAMP), GRAD_CLAMP);
    const g = cdf(xi) + xi * Mathf.exp(<f32>-0.5 * xi * xi) * INV_SQRT_2PI;
    store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)) * g);
  }
}
