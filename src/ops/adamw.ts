import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError, checkShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** torch.optim.AdamW hyper-parameters; the defaults are PyTorch's. `step` counts from 1. */
export interface AdamwOptions { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; step: number }

function option(name: string, v: unknown, ok: (x: number) => boolean, want: string): number {
  if (typeof v !== 'number' || !ok(v)) throw new HeedError(`adamw: option ${name} must be ${want}, got ${String(v)}`);
  return v;
}

/** One AdamW step, in place on param, m (exp_avg) and v (exp_avg_sq); grad, m, v shaped like param. */
export function adamw(ctx: Context, param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamwOptions): void {
  const shape = ctx.own('param', param);
  checkShape('grad', ctx.own('grad', grad), shape);
  checkShape('m', ctx.own('m', m), shape);
  checkShape('v', ctx.own('v', v), shape);
  const ts = [param, grad, m, v], names = ['param', 'grad', 'm', 'v'];
  for (let i = 0; i < 4; i++) {
    for (let j = i + 1; j < 4; j++) {
      if (ts[i] === ts[j]) throw new HeedError(`adamw: ${names[i]} and ${names[j]} are the same tensor; each needs its own storage`);
    }
  }
  if (options === null || typeof options !== 'object') {
    throw new HeedError(`adamw: options must be an object with lr and step, got ${String(options)}`);
  }
  const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01 } = options;
  const finiteNonNeg = (x: number) => Number.isFinite(x) && x >= 0;
  const lr = option('lr', options.lr, finiteNonNeg, 'a finite number ≥ 0');
  const b1 = option('beta1', beta1, (x) => x >= 0 && x < 1, 'in [0, 1)');
  const b2 = option('beta2', beta2, (x) => x >= 0 && x < 1, 'in [0, 1)');
  const e = option('eps', eps, finiteNonNeg, 'a finite number ≥ 0');
  const wd = option('weightDecay', weightDecay, finiteNonNeg, 'a finite number ≥ 0');
  const step = option('step', options.step, (x) => Number.isInteger(x) && x >= 1 && x <= 2 ** 31 - 1, 'a positive integer');
  if (param.size > 0) ctx.k.adamw(param.buf, grad.buf, m.buf, v.buf, param.size, lr, b1, b2, e, wd, step);
}
