// One training step: zero grads → forward → loss → backward → (clip) → AdamW. Nothing is
// allocated after the first step of a batch shape: activations live in the model's arena.
import { HeedError, fmtShape } from '../errors.js';
import type { Model } from './model.js';
import type { AdamwOptimizer } from './optim.js';
import { lossOf, readLabels, targetsPerRow } from './targets.js';

/** A checked batch: its shape and private copies of its ids and labels ([B]; [B,T] for a model
 *  with a target per token; [B, outputs] real values for a regressor). What was checked is what
 *  is used: the caller's arrays are not read again. */
export interface CheckedBatch { B: number; T: number; tokens: Int32Array; labels: Int32Array | Float32Array }

/** Checks a batch against the model. `who` names the caller in errors. */
export function checkBatch(model: Model, opt: AdamwOptimizer, tokens: ArrayLike<number>, shape: readonly number[],
                           labels: ArrayLike<number>, who = 'trainStep'): CheckedBatch {
  opt.alive();
  if (opt.model !== model) throw new HeedError(`${who}: the optimizer was made for another model`);
  const { B, T, ids } = model.readTokens(tokens, shape);
  if (B === 0) throw new HeedError(`${who}: the batch is empty (B = 0)`);
  const n: unknown = labels == null ? undefined : labels.length, want = B * targetsPerRow(model.target, T, model.outputs);
  if (n !== want) {
    const each = model.target === 'token' ? ', one per token' : model.target === 'value' ? `, ${model.outputs} per row` : '';
    throw new HeedError(`${who}: labels has ${n ?? 'no'} entries for tokens of shape ${fmtShape([B, T])} (expected ${want}${each})`);
  }
  return { B, T, tokens: ids, labels: readLabels(model, labels, B, who, T) };
}

/** Zeroes the gradients, runs forward and backward on a checked batch, and returns its mean loss;
 *  the gradient block then holds d(mean loss)/d(params). Throws (before the backward) when the
 *  loss is not finite; `step` is the step number for that message. */
export function computeGradients(model: Model, tokens: ArrayLike<number>, B: number, T: number,
                                 labels: ArrayLike<number>, step: number, who = 'trainStep', typeIds: ArrayLike<number> | null = null): number {
  const p = model.prepare(tokens, B, T, typeIds);
  model.be.zero(model.grads, model.layout.total);
  model.runForward(p, B, T);
  const loss = lossOf(model, p, B, labels, who);
  if (!Number.isFinite(loss)) throw new HeedError(`${who}: the loss is ${loss} at step ${step}; no parameter was changed (lower the learning rate?)`);
  model.runBackward(p, B, T);
  return loss;
}

/** Checks the gradient block, clips it (clipNorm) and takes one AdamW step. */
export function applyGradients(model: Model, opt: AdamwOptimizer, who = 'trainStep'): void {
  const { k, be } = model, step = opt.step + 1;
  // Frozen parameters (a prefix of the block) take no part: views of the trainable rest.
  const from = opt.trainableFrom, n = model.layout.total - from;
  const rest = (b: typeof model.params) => (from === 0 ? b : be.sub(b, from, n));
  const grads = rest(model.grads);
  const sumsq = n > 0 ? k.sum_squares(grads, n) : 0;
  if (!Number.isFinite(sumsq)) throw new HeedError(`${who}: a gradient is ${sumsq} at step ${step}; no parameter was changed`);
  const norm = Math.sqrt(sumsq);
  opt.lastGradNorm = norm;
  if (opt.clipNorm !== undefined) {
    const coef = opt.clipNorm / (norm + 1e-6);
    if (coef < 1 && n > 0) k.scale(grads, n, coef);
  }
  if (n > 0) k.adamw(rest(model.params), grads, rest(opt.m), rest(opt.v), n, opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weightDecay, step);
  opt.step = step;
}

/** What a batch may carry besides token ids and labels. */
export interface StepOptions {
  /** Token type (segment) ids [B·T], for models that take them (bertClassifier); zeros when absent. */
  typeIds?: ArrayLike<number>;
}

/** Mean loss of the batch before the update. Throws before any parameter changes when the loss
 *  or a gradient is not finite. */
export function trainStep(model: Model, opt: AdamwOptimizer, tokens: ArrayLike<number>, shape: readonly number[],
                          labels: ArrayLike<number>, options: StepOptions = {}): number {
  // A model being trained by fit or a trainer would lose this step's update (fit writes its own
  // weights back at the end) or mix it into a step in flight.
  model.checkFree('trainStep');
  const b = checkBatch(model, opt, tokens, shape, labels);
  const loss = computeGradients(model, b.tokens, b.B, b.T, b.labels, opt.step + 1, 'trainStep', options?.typeIds ?? null);
  applyGradients(model, opt);
  return loss;
}
