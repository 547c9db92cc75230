// tanh reference (torch.tanh, torch's tanh_backward): the oracle for assembly/kernels/tanh.ts, in
// f64 with Math.tanh, written as the formula reads.
type F32 = Float32Array;

/** y = tanh(x) over n elements. */
export function tanh_forward(y: F32, x: F32, n: number): void {
  for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]);
}

/** dx += dy·(1 − y²) over n elements, from the forward's output y (as torch's tanh_backward). */
export function tanh_backward(dx: F32, y: F32, dy: F32, n: number): void {
  for (let i = 0; i < n; i++) dx[i] += dy[i] * (1 - y[i] * y[i]);
}
