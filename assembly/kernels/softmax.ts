// Softmax over the last axis (torch.softmax(x, -1)), numerically stable: y = exp(x − max) / Σ.
// x, y, dx, dy: [N, C]. A row whose entries are all −Infinity has no mass and gives zeros (torch
// gives NaN there); a −Infinity entry in any other row gets probability 0.
import { at, dot, hmax, madd, scaleBy } from "../simd";

/** max of the C floats at x (−Infinity for C = 0). */
// @ts-ignore: decorator
@inline function rowMax(x: usize, C: i32): f32 {
  let i = 0;
  let m: f32 = -Infinity;
  if (ASC_FEATURE_SIMD) {
    if (C >= 4) {
      let acc = v128.load(x);
      for (i = 4; i + 4 <= C; i += 4) acc = f32x4.max(acc, v128.load(at(x, i)));
      m = hmax(acc);
    }
  }
  for (; i < C; i++) m = max(m, load<f32>(at(x, i)));
  return m;
}

export function softmax_forward(y: usize, x: usize, N: i32, C: i32): void {
  for (let n = 0; n < N; n++) {
    const xr = at(x, n * C), yr = at(y, n * C);
    const m = rowMax(xr, C);                          // pass 1: the row max
    if (m == -Infinity) {                             // no finite entry: zeros, not 0/0
      memory.fill(yr, 0, <usize>C << 2);
      continue;
    }
    let sum: f32 = 0;                                 // pass 2: e = exp(x − m) into y, Σe
    for (let i = 0; i < C; i++) {
      const e = Mathf.exp(load<f32>(at(xr, i)) - m);  // exp(−Infinity) = 0
      store<f32>(at(yr, i), e);
      sum += e;
    }
    scaleBy(yr, <f32>1 / sum, C);                     // pass 3: normalise (sum ≥ 1: e = 1 at the max)
  }
}

/** dx += y ⊙ (dy − Σ y⊙dy) per row (the Jacobian-vector product of softmax, y its output). */
export function softmax_backward(dx: usize, y: usize, dy: usize, N: i32, C: i32): void {
  for (let n = 0; n < N; n++) {
    const yr = at(y, n * C), dyr = at(dy, n * C), dxr = at(dx, n * C);
    const s = dot(yr, dyr, C);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const sv = f32x4.splat(s);
      for (; i + 4 <= C; i += 4) {
        v128.store(at(dxr, i), madd(v128.load(at(yr, i)), f32x4.sub(v128.load(at(dyr, i)), sv), v128.load(at(dxr, i))));
      }
    }
    for (; i < C; i++) {
      store<f32>(at(dxr, i), load<f32>(at(dxr, i)) + load<f32>(at(yr, i)) * (load<f32>(at(dyr, i)) - s));
    }
  }
}
