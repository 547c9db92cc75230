// LayerNorm reference (torch.nn.LayerNorm over the last axis): the oracle for
// assembly/kernels/layernorm.ts. Same names and argument order; Float32Array for pointers.
type F32 = Float32Array;

function stats(x: F32, o: number, C: number, eps: number): [mean: number, rstd: number] {
  let mean = 0, v = 0;
  for (let i = 0; i < C; i++) mean += x[o + i];
  mean /= C;
  for (let i = 0; i < C; i++) v += (x[o + i] - mean) ** 2;
  return [mean, 1 / Math.sqrt(v / C + eps)];
}

export function layernorm_forward(y: F32, x: F32, gamma: F32, beta: F32, N: number, C: number, eps: number): void {
  for (let o = 0; o < N * C; o += C) {
    const [mean, rstd] = stats(x, o, C, eps);
    for (let i = 0; i < C; i++) y[o + i] = (x[o + i] - mean) * rstd * gamma[i] + beta[i];
  }
}

/** Accumulates into dx, dgamma, dbeta (+=), as the kernel does. */
export function layernorm_backward(dx: F32, dgamma: F32, dbeta: F32, dy: F32, x: F32, gamma: F32,
                                   N: number, C: number, eps: number): void {
  for (let o = 0; o < N * C; o += C) {
    const [mean, rstd] = stats(x, o, C, eps);
    let gMean = 0, gxMean = 0;
    for (let i = 0; i < C; i++) {
      const g = dy[o + i] * gamma[i];
      gMean += g; gxMean += g * (x[o + i] - mean) * rstd;
    }
    gMean /= C; gxMean /= C;
    for (let i = 0; i < C; i++) {
      const xhat = (x[o + i] - mean) * rstd;
      dx[o + i] += rstd * (dy[o + i] * gamma[i] - gMean - xhat * gxMean);
      dgamma[i] += dy[o + i] * xhat;
      dbeta[i] += dy[o + i];
    }
  }
}
