import type { InferenceContext as Context } from '../inference-context.js';
import { checkShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** GELU, tanh approximation, elementwise over x of any shape; returns y shaped like x. */
export function gelu(ctx: Context, x: Tensor): Tensor {
  ctx.own('x', x);
  const y = ctx.empty(x.shape);
  if (y.size > 0) ctx.k.gelu_forward(y.buf, x.buf, y.size);
  return y;
}

/** dx = dy·gelu'(x); dy shaped like x. */
export function geluBackward(ctx: Context, x: Tensor, dy: Tensor): Tensor {
  checkShape('dy', ctx.own('dy', dy), ctx.own('x', x));
  const dx = ctx.empty(x.shape); // zeroed; the kernel accumulates
  if (dx.size > 0) ctx.k.gelu_backward(dx.buf, x.buf, dy.buf, dx.size);
  return dx;
}
