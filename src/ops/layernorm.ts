import type { InferenceContext as Context } from '../inference-context.js';
import { checkFinitePositive, checkShape, lastAxis } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** LayerNorm over the last axis of x [..., C] with gamma, beta [C]; returns y shaped like x. */
export function layerNorm(ctx: Context, x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const [N, C] = lastAxis('x', ctx.own('x', x));
  checkShape('gamma', ctx.own('gamma', gamma), [C]);
  checkShape('beta', ctx.own('beta', beta), [C]);
  checkFinitePositive('eps', eps);
  const y = ctx.empty(x.shape);
  if (y.size > 0) ctx.k.layernorm_forward(y.buf, x.buf, gamma.buf, beta.buf, N, C, eps);
  return y;
}

/** Gradients of layerNorm given dy shaped like x; mean and rstd are recomputed, nothing is cached. */
export function layerNormBackward(ctx: Context, x: Tensor, gamma: Tensor, dy: Tensor, eps = 1e-5):
    { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const [N, C] = lastAxis('x', ctx.own('x', x));
  checkShape('gamma', ctx.own('gamma', gamma), [C]);
  checkShape('dy', ctx.own('dy', dy), x.shape);
  checkFinitePositive('eps', eps);
  const dx = ctx.empty(x.shape), dgamma = ctx.empty([C]), dbeta = ctx.empty([C]); // zeroed; kernels accumulate
  if (dx.size > 0) ctx.k.layernorm_backward(dx.buf, dgamma.buf, dbeta.buf, dy.buf, x.buf, gamma.buf, N, C, eps);
  return { dx, dgamma, dbeta };
}
