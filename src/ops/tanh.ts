import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** tanh elementwise over x of any shape (torch.tanh; BERT's pooler); returns y shaped like x.
 *  Exactly ±1 far out and at ±Infinity, tanh(±0) = ±0, NaN stays NaN. */
export function tanh(ctx: Context, x: Tensor): Tensor {
  ctx.own('x', x);
  const y = ctx.empty(x.shape);
  if (y.size > 0) ctx.k.tanh_forward(y.buf, x.buf, y.size);
  return y;
}

/** dx = dy·(1 − y²) from the forward's output y = tanh(x) (torch's tanh_backward keeps y, not x);
 *  dy shaped like y. */
export function tanhBackward(ctx: Context, y: Tensor, dy: Tensor): Tensor {
  const ys = ctx.own('y', y), dys = ctx.own('dy', dy);
  if (dys.length !== ys.length || dys.some((d, i) => d !== ys[i])) {
    throw new HeedError(`tanhBackward: dy ${fmtShape(dys)} must have y's shape ${fmtShape(ys)}`);
  }
  const dx = ctx.empty(y.shape); // zeroed; the kernel accumulates
  if (dx.size > 0) ctx.k.tanh_backward(dx.buf, y.buf, dy.buf, dx.size);
  return dx;
}
