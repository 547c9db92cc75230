import type { InferenceContext as Context } from '../inference-context.js';
import { checkShape , lastAxis } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Softmax over the last axis of x [..., N], max-subtracted; returns y shaped like x. A row of
 *  all −Infinity gives zeros (not NaN); a −Infinity entry elsewhere gets probability 0. */
export function softmax(ctx: Context, x: Tensor): Tensor {
  const [rows, N] = lastAxis('x', ctx.own('x', x));
  const y = ctx.empty(x.shape);
  if (y.size > 0) ctx.k.softmax_forward(y.buf, x.buf, rows, N);
  return y;
}

/** Gradient of softmax given its output y and dy (both [..., N]): dx = y ⊙ (dy − Σ y⊙dy). */
export function softmaxBackward(ctx: Context, y: Tensor, dy: Tensor): Tensor {
  const [rows, N] = lastAxis('y', ctx.own('y', y));
  checkShape('dy', ctx.own('dy', dy), y.shape);
  const dx = ctx.empty(y.shape);                     // zeroed; the kernel accumulates
  if (dx.size > 0) ctx.k.softmax_backward(dx.buf, y.buf, dy.buf, rows, N);
  return dx;
}
