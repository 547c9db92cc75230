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

/** a·b + c on four lanes: one fused multiply-add (f32x4.relaxed_madd) in the relaxed-SIMD build,
 *  a multiply then an add elsewhere. relaxed_madd may round once (FMA) or twice, as the CPU has it,
 *  so the relaxed build's results are repeatable on one host but not promised across CPUs. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
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
      acc0 = madd(v128.load(at(a, i)), v128.load(at(b, i)), acc0);
      acc1 = madd(v128.load(at(a, i + 4)), v128.load(at(b, i + 4)), acc1);
    }
    for (; i + 4 <= n; i += 4) acc0 = madd(v128.load(at(a, i)), v128.load(at(b, i)), acc0);
    s = hsum(f32x4.add(acc0, acc1));
  }
  for (; i < n; i++) s += load<f32>(at(a, i)) * load<f32>(at(b, i));
  return s;
}

/** Σ a[i]·b[i] in index order from 0, rounded as one output of the GEMM tile is (a multiply-add
 *  per step; fused in the relaxed build): equal to that output bit for bit when b is the same
 *  row, where dot's four partial sums would differ from it in the last ulps. Scalar: for short n. */
// @ts-ignore: decorator
@inline export function dotInOrder(a: usize, b: usize, n: i32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    let acc = f32x4.splat(0);
    for (let i = 0; i < n; i++) acc = madd(v128.load32_splat(at(a, i)), v128.load32_splat(at(b, i)), acc);
    return f32x4.extract_lane(acc, 0);
  }
  let s: f32 = 0;
  for (let i = 0; i < n; i++) s += load<f32>(at(a, i)) * load<f32>(at(b, i));
  return s;
}

/** y[i] += alpha * x[i] for n elements. */
// @ts-ignore: decorator
@inline export function axpy(y: usize, x: usize, alpha: f32, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const a = f32x4.splat(alpha);
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), madd(a, v128.load(at(x, i)), v128.load(at(y, i))));
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

/** The largest finite f32. */
// @ts-ignore: decorator
@inline export const F32_MAX: f32 = 3.4028234663852886e38;

// Splatted constants for hot loops. V8 rebuilds a v128.const inside every loop iteration (three
// instructions: a 64-bit immediate, a move and an unpack) and binaryen folds constants hoisted into
// locals back into their uses, so hot loops load them from this table instead: one L1 load each.
// Index i is the four lanes at SPLATS + 16·i; kf(i) reads it. A kernel with constants of its own
// keeps its own table (gelu.ts) and reads it with splatAt.
const SPLATS = memory.data<f32>([
  -87, -87, -87, -87,                                                       // 0  exp4 lower clamp
  88, 88, 88, 88,                                                           // 1  exp4 upper clamp
  1.44269504088896341, 1.44269504088896341, 1.44269504088896341, 1.44269504088896341, // 2 log2 e
  12582912, 12582912, 12582912, 12582912,                                   // 3  1.5·2^23
  0.693359375, 0.693359375, 0.693359375, 0.693359375,                       // 4  ln 2, high part
  -2.12194440e-4, -2.12194440e-4, -2.12194440e-4, -2.12194440e-4,           // 5  ln 2, low part
  1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4,       // 6  exp polynomial
  1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3,       // 7
  8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3,       // 8
  4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2,       // 9
  1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1,       // 10
  5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1,       // 11
  1, 1, 1, 1,                                                               // 12
  -Infinity, -Infinity, -Infinity, -Infinity,                               // 13
  -F32_MAX, -F32_MAX, -F32_MAX, -F32_MAX,                                   // 14
  F32_MAX, F32_MAX, F32_MAX, F32_MAX,                                       // 15
]);
/** 127 − bits(1.5·2^23), per lane: turns the bits of t = x·log2 e + 1.5·2^23 into n + 127. */
const EXP_BIAS = memory.data<i32>([127 - 0x4B400000, 127 - 0x4B400000, 127 - 0x4B400000, 127 - 0x4B400000]);

// @ts-ignore: decorator
@inline export const K_ONE = 12;
// @ts-ignore: decorator
@inline export const K_NEG_INF = 13;
// @ts-ignore: decorator
@inline export const K_NEG_MAX = 14;
// @ts-ignore: decorator
@inline export const K_MAX = 15;

/** The four lanes at index i of a table of splatted constants (i a compile-time constant). */
// @ts-ignore: decorator
@inline export function splatAt(table: usize, i: i32): v128 {
  return v128.load(table + (<usize>i << 4));
}

/** The splatted constant at index i of SPLATS. */
// @ts-ignore: decorator
@inline export function kf(i: i32): v128 {
  return splatAt(SPLATS, i);
}

/** e^x on four lanes (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, degree-7 polynomial in r, 2^n built
 *  from its exponent bits). About 1 ulp. x is clamped to [−87, 88] so that 2^n stays a normal
 *  float: exp4 never returns 0 or ∞ (e^−87 ≈ 1.6e−38, e^88 ≈ 1.7e38) — so e^−∞ is 1.6e−38, not 0:
 *  callers that rely on exp(−∞) = 0 (masked scores) must mask explicitly. NaN stays NaN.
 *  Written for V8's x64 code: pmin/pmax are one instruction each where min/max are eight (NaN and
 *  ±0 rules that a clamp against constants does not need: pmax(NaN, c) is still NaN), and n is
 *  rounded by adding 1.5·2^23 (round-to-nearest-even, like f32x4.nearest) so that the bits of the
 *  sum give 2^n without a float-to-int conversion (five instructions in V8). Loops that call it
 *  run best on two vectors per iteration: one alone is a 60-cycle dependency chain. */
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, kf(0)), kf(1));
  const t = madd(x, kf(2), kf(3));
  const n = f32x4.sub(t, kf(3));
  // r = x − n·ln2 with ln2 split in two (0.693359375 is exact in 9 bits): no rounding in n·C1.
  let r = f32x4.sub(x, f32x4.mul(n, kf(4)));
  r = f32x4.sub(r, f32x4.mul(n, kf(5)));
  let p = kf(6);
  p = madd(p, r, kf(7));
  p = madd(p, r, kf(8));
  p = madd(p, r, kf(9));
  p = madd(p, r, kf(10));
  p = madd(p, r, kf(11));
  p = f32x4.add(madd(p, f32x4.mul(r, r), r), kf(K_ONE));
  const pow2n = i32x4.shl(i32x4.add(t, v128.load(EXP_BIAS)), 23);
  return f32x4.mul(p, pow2n);
}
