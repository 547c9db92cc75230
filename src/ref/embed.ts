// Embedding, bias, masked mean pooling and elementwise helpers: the oracle for
// assembly/kernels/embed.ts. Same names and argument order; Int32Array for token buffers.
type F32 = Float32Array;
type I32 = Int32Array;

/** out[n,:] = weight[tokens[n],:]; out [N,C], weight [V,C], tokens [N]. */
export function embedding_forward(out: F32, tokens: I32, weight: F32, N: number, C: number): void {
  for (let n = 0; n < N; n++) out.set(weight.subarray(tokens[n] * C, tokens[n] * C + C), n * C);
}

/** dweight[tokens[n],:] += dout[n,:] (repeated tokens accumulate). */
export function embedding_backward(dweight: F32, tokens: I32, dout: F32, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const o = tokens[n] * C;
    for (let i = 0; i < C; i++) dweight[o + i] += dout[n * C + i];
  }
}

/** y[n,:] += bias in place; y [N,C], bias [C]. */
export function bias_forward(y: F32, bias: F32, N: number, C: number): void {
  for (let n = 0; n < N; n++) for (let i = 0; i < C; i++) y[n * C + i] += bias[i];
}

/** dbias += Σₙ dy[n,:]. */
export function bias_backward(dbias: F32, dy: F32, N: number, C: number): void {
  for (let i = 0; i < C; i++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += dy[n * C + i];
    dbias[i] += s;
  }
}

function countTokens(tokens: I32, o: number, T: number): number {
  let count = 0;
  for (let t = 0; t < T; t++) if (tokens[o + t] !== 0) count++;
  return count;
}

/** out[b,:] = mean of x[b,t,:] over t with tokens[b,t] ≠ 0; zeros when there is none. */
export function mean_pool_forward(out: F32, x: F32, tokens: I32, B: number, T: number, C: number): void {
  for (let b = 0; b < B; b++) {
    const count = countTokens(tokens, b * T, T);
    for (let i = 0; i < C; i++) {
      let s = 0;
      for (let t = 0; t < T; t++) if (tokens[b * T + t] !== 0) s += x[(b * T + t) * C + i];
      out[b * C + i] = count > 0 ? s / count : 0;
    }
  }
}

/** dx[b,t,:] += dout[b,:] / count for every non-padding t. */
export function mean_pool_backward(dx: F32, dout: F32, tokens: I32, B: number, T: number, C: number): void {
  for (let b = 0; b < B; b++) {
    const count = countTokens(tokens, b * T, T);
    for (let t = 0; t < T; t++) {
      if (tokens[b * T + t] === 0) continue;
      for (let i = 0; i < C; i++) dx[(b * T + t) * C + i] += dout[b * C + i] / count;
    }
  }
}

/** mask[i] = tokens[i] ≠ 0 ? 1 : 0. */
export function token_mask(mask: F32, tokens: I32, n: number): void {
  for (let i = 0; i < n; i++) mask[i] = tokens[i] !== 0 ? 1 : 0;
}

/** y = a + b over n (y may alias a or b). */
export function add_forward(y: F32, a: F32, b: F32, n: number): void {
  for (let i = 0; i < n; i++) y[i] = a[i] + b[i];
}
