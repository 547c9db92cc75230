import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError, checkShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** torch.optim.AdamW hyper-parameters; the defaults are PyTorch's. `step` counts from 1. */
export interface AdamwOptions { lr: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; step: number }

const nonNegative = (x: number) => x >= 0;

/** The one home of AdamW's defaults and of what each hyper-parameter accepts, read by this op,
 *  adamwOptimizer and fit. Values are PyTorch's: it accepts lr = 0 (a step that only moves m and
 *  v), eps = 0 and weightDecay = 0, and betas in [0, 1). clipNorm is heed's (clip_grad_norm_):
 *  no default, absent means no clipping. Every value must also be finite. */
export const ADAMW_RULES = Object.freeze({
  lr: { dflt: 1e-3, ok: nonNegative, what: 'a finite number ≥ 0' },
  beta1: { dflt: 0.9, ok: (x: number) => x >= 0 && x < 1, what: 'in [0, 1)' },
  beta2: { dflt: 0.999, ok: (x: number) => x >= 0 && x < 1, what: 'in [0, 1)' },
  eps: { dflt: 1e-8, ok: nonNegative, what: 'a finite number ≥ 0' },
  weightDecay: { dflt: 0.01, ok: nonNegative, what: 'a finite number ≥ 0' },
  clipNorm: { dflt: undefined, ok: (x: number) => x > 0, what: 'a finite number > 0' },
});
export type AdamwHyper = keyof typeof ADAMW_RULES;

/** `v` checked against ADAMW_RULES[name], its default when undefined (unless `required`); a
 *  HeedError "<who> <name> must be <what>, got <v>" otherwise. */
export function adamwOption<N extends AdamwHyper>(who: string, name: N, v: unknown, required = false): number | (typeof ADAMW_RULES)[N]['dflt'] {
  const rule = ADAMW_RULES[name];
  if (v === undefined && !required) return rule.dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !rule.ok(v)) throw new HeedError(`${who} ${name} must be ${rule.what}, got ${String(v)}`);
  return v;
}

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
  const lr = adamwOption('adamw: option', 'lr', options.lr, true);
  const b1 = adamwOption('adamw: option', 'beta1', options.beta1) as number;
  const b2 = adamwOption('adamw: option', 'beta2', options.beta2) as number;
  const e = adamwOption('adamw: option', 'eps', options.eps) as number;
  const wd = adamwOption('adamw: option', 'weightDecay', options.weightDecay) as number;
  const step = option('step', options.step, (x) => Number.isInteger(x) && x >= 1 && x <= 2 ** 31 - 1, 'a positive integer');
  if (param.size > 0) ctx.k.adamw(param.buf, grad.buf, m.buf, v.buf, param.size, lr, b1, b2, e, wd, step);
}
