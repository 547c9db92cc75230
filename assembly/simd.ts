// Small @inline helpers shared by the kernels. Pointers are byte offsets into linear memory,
// counts are f32 elements: at(p, i) is the address of element i.

// @ts-ignore: decorator
@inline export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** *p += v on four lanes. */
// @ts-ignore: decorator
@inline export function addTo(p: usize, v: v128): void {
  v128.store(p, f32x4.add(v128.load(p), v));
}

/** Dot product of n f32 at a and b: f32x4 body, scalar tail. */
// @ts-ignore: decorator
@inline export function dot(a: usize, b: usize, n: i32): f32 {
  let i = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
    for (; i + 8 <= n; i += 8) {
      acc0 = f32x4.add(acc0, f32x4.mul(v128.load(at(a, i)), v128.load(at(b, i))));
      acc1 = f32x4.add(acc1, f32x4.mul(v128.load(at(a, i + 4)), v128.load(at(b, i + 4))));
    }
    for (; i + 4 <= n; i += 4) acc0 = f32x4.add(acc0, f32x4.mul(v128.load(at(a, i)), v128.load(at(b, i))));
    s = hsum(f32x4.add(acc0, acc1));
  }
  for (; i < n; i++) s += load<f32>(at(a, i)) * load<f32>(at(b, i));
  return s;
}

/** y[i] += alpha * x[i] for n elements. */
// @ts-ignore: decorator
@inline export function axpy(y: usize, x: usize, alpha: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const a = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) addTo(at(y, i), f32x4.mul(a, v128.load(at(x, i))));
  }
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(y, i)) + alpha * load<f32>(at(x, i)));
}

/** y[i] = alpha * y[i] for n elements. */
// @ts-ignore: decorator
@inline export function scaleBy(y: usize, alpha: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const a = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.mul(a, v128.load(at(y, i))));
  }
  for (; i < n; i++) store<f32>(at(y, i), alpha * load<f32>(at(y, i)));
}

/** e^x on four lanes (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, degree-7 polynomial in r, 2^n built
 *  from its exponent bits). About 1 ulp. x is clamped to [−87, 88] so that 2^n stays a normal
 *  float: exp4 never returns 0 or ∞ (e^−87 ≈ 1.6e−38, e^88 ≈ 1.7e38) — so e^−∞ is 1.6e−38, not 0:
 *  callers that rely on exp(−∞) = 0 (masked scores) must mask explicitly. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87)), f32x4.splat(88));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  // r = x − n·ln2 with ln2 split in two (0.693359375 is exact in 9 bits): no rounding in n·C1.
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(p, f32x4.mul(r, r)), r), f32x4.splat(1));
  const pow2n = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, pow2n);
}
