import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError, checkShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Which GELU, in PyTorch's words (`F.gelu(x, approximate=...)`): 'tanh' (heed's default, GPT-2's
 *  and heed's own models') or 'none', the exact x·Φ(x) that BERT-family checkpoints use. */
export interface GeluOptions { approximate?: 'tanh' | 'none' }

function exact(options: GeluOptions | undefined): boolean {
  const a = options?.approximate ?? 'tanh';
  if (a !== 'tanh' && a !== 'none') throw new HeedError(`gelu: approximate must be 'tanh' or 'none', got ${JSON.stringify(a)}`);
  return a === 'none';
}

/** GELU elementwise over x of any shape; returns y shaped like x. */
export function gelu(ctx: Context, x: Tensor, options?: GeluOptions): Tensor {
  const erf = exact(options);
  ctx.own('x', x);
  const y = ctx.empty(x.shape);
  if (y.size > 0) (erf ? ctx.k.gelu_erf_forward : ctx.k.gelu_forward)(y.buf, x.buf, y.size);
  return y;
}

/** dx = dy·gelu'(x); dy shaped like x. */
export function geluBackward(ctx: Context, x: Tensor, dy: Tensor, options?: GeluOptions): Tensor {
  const erf = exact(options);
  checkShape('dy', ctx.own('dy', dy), ctx.own('x', x));
  const dx = ctx.empty(x.shape); // zeroed; the kernel accumulates
  if (dx.size > 0) (erf ? ctx.k.gelu_erf_backward : ctx.k.gelu_backward)(dx.buf, x.buf, dy.buf, dx.size);
  return dx;
}
