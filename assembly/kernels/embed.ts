// Embedding lookup, bias add, masked mean pooling and the small elementwise helpers around them.
// Float buffers are f32 byte pointers; tokens is an i32 byte pointer (token id 0 is padding).
// Token ids are validated by the caller (the model checks them against vocabSize): these kernels
// index weight rows with them unchecked.
import { addTo, at, axpy, scaleBy } from "../simd";

/** out[n,:] = weight[tokens[n],:]; out [N,C], weight [V,C], tokens [N]. */
export function embedding_forward(out: usize, tokens: usize, weight: usize, N: i32, C: i32): void {
  const rowBytes = <usize>C << 2;
  for (let n = 0; n < N; n++) {
    memory.copy(at(out, n * C), at(weight, load<i32>(at(tokens, n)) * C), rowBytes);
  }
}

/** dweight[tokens[n],:] += dout[n,:] (scatter-add: a repeated token accumulates every row). */
export function embedding_backward(dweight: usize, tokens: usize, dout: usize, N: i32, C: i32): void {
  for (let n = 0; n < N; n++) {
    axpy(at(dweight, load<i32>(at(tokens, n)) * C), at(dout, n * C), 1, C);
  }
}

/** y[n,:] += bias for n < N; y [N,C], bias [C]. In place. */
export function bias_forward(y: usize, bias: usize, N: i32, C: i32): void {
  for (let n = 0; n < N; n++) {
    const yr = at(y, n * C);
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      for (; i + 4 <= C; i += 4) addTo(at(yr, i), v128.load(at(bias, i)));
    }
    for (; i < C; i++) store<f32>(at(yr, i), load<f32>(at(yr, i)) + load<f32>(at(bias, i)));
  }
}

/** dbias += Σₙ dy[n,:] (forward line: y[n,:] += bias). */
export function bias_backward(dbias: usize, dy: usize, N: i32, C: i32): void {
  for (let n = 0; n < N; n++) axpy(dbias, at(dy, n * C), 1, C);
}

/** Number of non-padding tokens in the row tokens[0..T). */
// @ts-ignore: decorator
@inline function countTokens(tok: usize, T: i32): i32 {
  let count = 0;
  for (let t = 0; t < T; t++) count += i32(load<i32>(at(tok, t)) != 0);
  return count;
}

/** out[b,:] = mean of x[b,t,:] over t with tokens[b,t] ≠ 0, zeros when there is none.
 *  x [B,T,C], tokens [B,T], out [B,C]. Overwrites out. */
export function mean_pool_forward(out: usize, x: usize, tokens: usize, B: i32, T: i32, C: i32): void {
  for (let b = 0; b < B; b++) {
    const tok = at(tokens, b * T), orow = at(out, b * C);
    memory.fill(orow, 0, <usize>C << 2);
    const count = countTokens(tok, T);
    if (count == 0) continue;                        // all padding: zeros, not 0/0
    for (let t = 0; t < T; t++) {                    // pass 1: sum the kept rows
      if (load<i32>(at(tok, t)) != 0) axpy(orow, at(x, (b * T + t) * C), 1, C);
    }
    scaleBy(orow, <f32>1 / <f32>count, C);           // pass 2: divide by the count
  }
}

/** dx[b,t,:] += dout[b,:] / count for every non-padding t (forward line: out[b,:] = Σ x[b,t,:] / count). */
export function mean_pool_backward(dx: usize, dout: usize, tokens: usize, B: i32, T: i32, C: i32): void {
  for (let b = 0; b < B; b++) {
    const tok = at(tokens, b * T);
    const count = countTokens(tok, T);
    if (count == 0) continue;
    const inv = <f32>1 / <f32>count, drow = at(dout, b * C);
    for (let t = 0; t < T; t++) {
      if (load<i32>(at(tok, t)) != 0) axpy(at(dx, (b * T + t) * C), drow, inv, C);
    }
  }
}

/** mask[i] = tokens[i] ≠ 0 ? 1 : 0 over n elements (the attention key mask from token ids). */
export function token_mask(mask: usize, tokens: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // i32x4.ne gives all-ones lanes where the token is not padding; and-ing with the bits of 1.0f
    // leaves 1.0 there and 0.0 elsewhere.
    const one = f32x4.splat(1), zero = i32x4.splat(0);
    for (; i + 4 <= n; i += 4) v128.store(at(mask, i), v128.and(i32x4.ne(v128.load(at(tokens, i)), zero), one));
  }
  for (; i < n; i++) store<f32>(at(mask, i), load<i32>(at(tokens, i)) != 0 ? 1 : 0);
}

/** y = a + b over n elements; y may alias a or b (each element is read before it is written). */
export function add_forward(y: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) v128.store(at(y, i), f32x4.add(v128.load(at(a, i)), v128.load(at(b, i))));
  }
  for (; i < n; i++) store<f32>(at(y, i), load<f32>(at(a, i)) + load<f32>(at(b, i)));
}
