// What a model's logits are trained against. 'class': one class id per row ([B]; with classes: 1,
// a 0/1 label and binary cross-entropy on one logit). 'token': one class id per token ([B,T]),
// IGNORE (-100, PyTorch's ignore_index) where a token has no label (padding, sub-word pieces),
// and cross-entropy averaged over the labelled tokens. 'value': real values per row ([B, outputs])
// and the mean squared error over all of them (F.mse_loss).
import type { Backend, Buf, IBuf } from '../backends/backend.js';
import type { Kernels } from '../backends/kernels.js';
import { IGNORE } from '../data/dataset.js';
import { HeedError } from '../errors.js';
import type { Model, Plan } from './model.js';

export type TargetKind = 'class' | 'token' | 'value';


/** Targets per row of a batch: T for 'token', C (the outputs) for 'value', else 1. */
export const targetsPerRow = (kind: TargetKind, T: number, C: number): number => (kind === 'token' ? T : kind === 'value' ? C : 1);

/** Checks a batch's targets, reading each exactly once into the copy that is used: class ids
 *  (Int32Array), or real values for 'value' (Float32Array). */
export function readTargets(kind: TargetKind, labels: ArrayLike<number>, B: number, T: number, C: number, who: string): Int32Array | Float32Array {
  const n = B * targetsPerRow(kind, T, C);
  const length: unknown = labels == null ? undefined : labels.length;
  if (length !== n) {
    throw new HeedError(kind === 'token'
      ? `${who}: labels has ${length ?? 'no'} entries for a batch of [${B},${T}] tokens (one per token: ${n})`
      : kind === 'value' ? `${who}: labels has ${length ?? 'no'} values for a batch of ${B} rows of ${C} output${C === 1 ? '' : 's'} (${n})`
        : `${who}: labels has ${length ?? 'no'} entries for a batch of ${B}`);
  }
  if (kind === 'value') {
    const ys = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const y = labels[i];
      if (!(typeof y === 'number' && Number.isFinite(y) && Math.abs(y) <= 3.4e38)) {
        throw new HeedError(`${who}: value ${y} at [${Math.floor(i / C)},${i % C}] is not a finite number in float32's range`);
      }
      ys[i] = y;
    }
    return ys;
  }
  const ys = new Int32Array(n);
  if (kind === 'token') {
    for (let i = 0; i < n; i++) {
      const y = labels[i];
      if (!(Number.isInteger(y) && ((y >= 0 && y < C) || y === IGNORE))) {
        throw new HeedError(`${who}: label ${y} at [${Math.floor(i / T)},${i % T}] is outside [0, ${C}) and is not ${IGNORE} (no label)`);
      }
      ys[i] = y;
    }
    return ys;
  }
  const maxLabel = C === 1 ? 2 : C;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!(Number.isInteger(y) && y >= 0 && y < maxLabel)) {
      throw new HeedError(`${who}: label ${y} at index ${i} is outside [0, ${maxLabel})${C === 1 ? ' (classes: 1 takes 0/1 labels)' : ''}`);
    }
    ys[i] = y;
  }
  return ys;
}

/** Writes checked targets into the plan, returns the mean loss of p.logits and writes its
 *  gradient into p.dlogits. */
export function targetLoss(kind: TargetKind, be: Backend, k: Kernels<Buf, IBuf>, p: Plan, ys: Int32Array | Float32Array, B: number, T: number, C: number): number {
  if (kind === 'value') {
    be.write(p.targets, ys);
    return k.mse_loss(p.dlogits, p.logits, p.targets, B * C);
  }
  if (kind === 'token') {
    if (ys.length > 0) be.writeInt(p.labels, ys as Int32Array);
    return k.cross_entropy_ignore_index(p.dlogits, p.logits, p.labels, B * T, C, IGNORE);
  }
  if (C === 1) {
    be.write(p.targets, ys);
    return k.bce_with_logits(p.dlogits, p.logits, p.targets, B);
  }
  be.writeInt(p.labels, ys as Int32Array);
  return k.cross_entropy(p.dlogits, p.logits, p.labels, B, C);
}

/** A model's batch targets checked (read once into the copy that is used). Training code only:
 *  inference never reads targets, so none of this is in heed/infer. */
export function readLabels(model: Model, labels: ArrayLike<number>, B: number, who: string, T = 0): Int32Array | Float32Array {
  return readTargets(model.target, labels, B, T, model.outputs, who);
}

/** Writes the targets for the model's planned batch, returns the mean loss of p.logits and writes
 *  its gradient to p.dlogits (cross-entropy; BCE with one logit for classes: 1; cross-entropy per
 *  token skipping -100; the mean squared error for values). The targets are checked here. */
export function lossOf(model: Model, p: Plan, B: number, labels: ArrayLike<number>, who = 'loss'): number {
  const T = model.plannedT, ys = readLabels(model, labels, B, who, T);
  return targetLoss(model.target, model.be, model.k, p, ys, B, T, model.outputs);
}
