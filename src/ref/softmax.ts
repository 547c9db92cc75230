// Softmax reference over the last axis (torch.softmax(x, -1)): the oracle for
// assembly/kernels/softmax.ts. Same names and argument order; Float32Array for pointers.
// A row with no finite maximum (all −Infinity) gives zeros, as the kernel does.
type F32 = Float32Array;

export function softmax_forward(y: F32, x: F32, N: number, C: number): void {
  for (let o = 0; o < N * C; o += C) {
    let m = -Infinity;
    for (let i = 0; i < C; i++) m = Math.max(m, x[o + i]);
    if (m === -Infinity) {
      y.fill(0, o, o + C);
      continue;
    }
    let sum = 0;
    const e = new Float64Array(C);
    for (let i = 0; i < C; i++) sum += (e[i] = Math.exp(x[o + i] - m));
    for (let i = 0; i < C; i++) y[o + i] = e[i] / sum;
  }
}

/** dx += y ⊙ (dy − Σ y⊙dy) per row; accumulates, as the kernel does. */
export function softmax_backward(dx: F32, y: F32, dy: F32, N: number, C: number): void {
  for (let o = 0; o < N * C; o += C) {
    let s = 0;
    for (let i = 0; i < C; i++) s += y[o + i] * dy[o + i];
    for (let i = 0; i < C; i++) dx[o + i] += y[o + i] * (dy[o + i] - s);
  }
}
