// tanh elementwise over n (torch.tanh), and its backward from the forward's output (torch's
// tanh_backward: the layer keeps y, not x). Cephes' tanhf, computed on a = |x| with the sign of x
// put back at the end (so tanh(−0) = −0 even where a·(…) + a would round −0 to +0):
//   a < 0.625: a + a·z·P(z), z = a², P Cephes' degree-4 minimax polynomial: no cancellation near
//              0, where 1 − e^(−2a) would keep only the ulps of e^(−2a);
//   a ≥ 0.625: (1 − e)/(1 + e), e = e^(−2a) ≤ 0.287: 1 − e keeps every bit (Cephes' 1 − 2/(e^(2a)+1)
//              loses one there, 2/(…) being up to 0.45). Far out e is exp4's clamp e^−87 (or 0 in
//              the scalar tail) and the quotient rounds to exactly 1, ±Infinity included.
// NaN fails a < 0.625, takes the exp branch, and stays NaN through exp and the division.
//   tanh'(x) = 1 − y² = (1 − y)·(1 + y): 1 − y is exact for y ≥ ½, where 1 − y·y would lose the
//   product's rounding error relative to a small difference (y = 0.9999 → 3e-4 relative).
import { at, exp4, kf, K_ONE, madd, splatAt } from "../simd";

// @ts-ignore: decorator
@inline const SMALL: f32 = 0.625;
// @ts-ignore: decorator
@inline const P0: f32 = -5.70498872745e-3;
// @ts-ignore: decorator
@inline const P1: f32 = 2.06390887954e-2;
// @ts-ignore: decorator
@inline const P2: f32 = -5.37397155531e-2;
// @ts-ignore: decorator
@inline const P3: f32 = 1.33314422036e-1;
// @ts-ignore: decorator
@inline const P4: f32 = -3.33332819422e-1;

/** The constants above, splatted, for the SIMD loops (see SPLATS in simd.ts for why a table). */
const TANH_SPLATS = memory.data<f32>([
  P0, P0, P0, P0,
  P1, P1, P1, P1,
  P2, P2, P2, P2,
  P3, P3, P3, P3,
  P4, P4, P4, P4,
  SMALL, SMALL, SMALL, SMALL,
  -2, -2, -2, -2,
]);
/** The sign bit, per lane. */
const SIGN_BITS = memory.data<i32>([0x80000000, 0x80000000, 0x80000000, 0x80000000]);
// @ts-ignore: decorator
@inline const T_POLY = 0;      // 5 rows, highest power first
// @ts-ignore: decorator
@inline const T_SMALL = 5;
// @ts-ignore: decorator
@inline const T_NEG2 = 6;

/** tanh on four lanes (see the top of the file). */
// @ts-ignore: decorator
@inline function tanh4(x: v128): v128 {
  const sign = v128.load(SIGN_BITS);
  const a = v128.andnot(x, sign);
  const z = f32x4.mul(a, a);
  let p = splatAt(TANH_SPLATS, T_POLY);
  for (let r = 1; r < 5; r++) p = madd(p, z, splatAt(TANH_SPLATS, T_POLY + r));
  const small = madd(f32x4.mul(p, z), a, a);
  const e = exp4(f32x4.mul(a, splatAt(TANH_SPLATS, T_NEG2)));
  const big = f32x4.div(f32x4.sub(kf(K_ONE), e), f32x4.add(kf(K_ONE), e));
  const r = v128.bitselect(small, big, f32x4.lt(a, splatAt(TANH_SPLATS, T_SMALL)));
  return v128.or(r, v128.and(x, sign));
}

/** tanh, scalar: the same two branches as tanh4. */
// @ts-ignore: decorator
@inline function tanh1(x: f32): f32 {
  const a = abs(x);
  let r: f32;
  if (a < SMALL) {
    const z = a * a;
    r = ((((P0 * z + P1) * z + P2) * z + P3) * z + P4) * z * a + a;
  } else {
    const e = Mathf.exp(<f32>-2 * a);
    r = (<f32>1 - e) / (<f32>1 + e);
  }
  return copysign<f32>(r, x);
}

/** y = tanh(x) over n elements; y may alias x. */
export function tanh_forward(y: usize, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // Two vectors per iteration: independent exp chains for the out-of-order core to overlap.
    for (; i + 8 <= n; i += 8) {
      const t0 = tanh4(v128.load(at(x, i))), t1 = tanh4(v128.load(at(x, i), 16));
      v128.store(at(y, i), t0);
      v128.store(at(y, i), t1, 16);
    }
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), tanh4(v128.load(at(x, i))));
  }
  for (; i < n; i++) store<f32>(at(y, i), tanh1(load<f32>(at(x, i))));
}

/** dx += dy·(1 − y)·(1 + y) over n elements (forward line: y = tanh(x)). */
export function tanh_backward(dx: usize, y: usize, dy: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 8 <= n; i += 8) {
      const y0 = v128.load(at(y, i)), y1 = v128.load(at(y, i), 16);
      const g0 = f32x4.mul(f32x4.sub(kf(K_ONE), y0), f32x4.add(kf(K_ONE), y0));
      const g1 = f32x4.mul(f32x4.sub(kf(K_ONE), y1), f32x4.add(kf(K_ONE), y1));
      v128.store(at(dx, i), madd(v128.load(at(dy, i)), g0, v128.load(at(dx, i))));
      v128.store(at(dx, i + 4), madd(v128.load(at(dy, i + 4)), g1, v128.load(at(dx, i + 4))));
    }
    for (; i + 4 <= n; i += 4) {
      const yv = v128.load(at(y, i));
      const g = f32x4.mul(f32x4.sub(kf(K_ONE), yv), f32x4.add(kf(K_ONE), yv));
      v128.store(at(dx, i), madd(v128.load(at(dy, i)), g, v128.load(at(dx, i))));
    }
  }
  for (; i < n; i++) {
    const yi = load<f32>(at(y, i));
    store<f32>(at(dx, i), load<f32>(at(dx, i)) + load<f32>(at(dy, i)) * ((<f32>1 - yi) * (<f32>1 + yi)));
  }
}
