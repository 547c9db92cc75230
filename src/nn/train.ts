// One training step: zero grads → forward → loss → backward → (clip) → AdamW. Nothing is
// allocated after the first step of a batch shape: activations live in the model's arena.
import { HeedError, fmtShape } from '../errors.js';
import type { Model } from './model.js';
import type { AdamwOptimizer } from './optim.js';

/** Mean loss of the batch before the update. Throws before any parameter changes when the loss
 *  or a gradient is not finite. */
export function trainStep(model: Model, opt: AdamwOptimizer, tokens: ArrayLike<number>, shape: readonly number[],
                          labels: ArrayLike<number>): number {
  opt.alive();
  if (opt.model !== model) throw new HeedError('trainStep: the optimizer was made for another model');
  const [B, T] = model.checkTokens(tokens, shape);
  if (B === 0) throw new HeedError('trainStep: the batch is empty (B = 0)');
  const C = model.config.classes;
  if (labels == null || labels.length !== B) {
    throw new HeedError(`trainStep: labels has ${labels?.length ?? 'no'} entries for tokens of shape ${fmtShape(shape)} (expected ${B})`);
  }
  const maxLabel = C === 1 ? 2 : C;
  for (let i = 0; i < B; i++) {
    const y = labels[i];
    if (!(Number.isInteger(y) && y >= 0 && y < maxLabel)) {
      throw new HeedError(`trainStep: label ${y} at index ${i} is outside [0, ${maxLabel})${C === 1 ? ' (classes: 1 takes 0/1 labels)' : ''}`);
    }
  }
  const { k, be } = model;
  const n = model.layout.total;
  const p = model.prepare(tokens, B, T);
  be.zero(model.grads, n);
  model.runForward(p, B, T);
  const loss = model.lossOf(p, B, labels);
  const step = opt.step + 1;
  if (!Number.isFinite(loss)) throw new HeedError(`trainStep: the loss is ${loss} at step ${step}; no parameter was changed (lower the learning rate?)`);
  model.runBackward(p, B, T);
  const sumsq = k.sum_squares(model.grads, n);
  if (!Number.isFinite(sumsq)) throw new HeedError(`trainStep: a gradient is ${sumsq} at step ${step}; no parameter was changed`);
  const norm = Math.sqrt(sumsq);
  opt.lastGradNorm = norm;
  if (opt.clipNorm !== undefined) {
    const coef = opt.clipNorm / (norm + 1e-6);
    if (coef < 1) k.scale(model.grads, n, coef);
  }
  k.adamw(model.params, model.grads, opt.m, opt.v, n, opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weightDecay, step);
  opt.step = step;
  return loss;
}
