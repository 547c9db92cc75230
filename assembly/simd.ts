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
