// What a model's logits are trained against. 'class': one class id per row ([B]; with classes: 1,
// a 0/1 label and binary cross-entropy on one logit). 'token': one class id per token ([B,T]),
// IGNORE (-100, PyTorch's ignore_index) where a token has no label (padding, sub-word pieces),
// and cross-entropy averaged over the labelled tokens.
import type { Backend, Buf, IBuf } from '../backends/backend.js';
import type { Kernels } from '../backends/kernels.js';
import { HeedError } from '../errors.js';
import type { Plan } from './model.js';

export type TargetKind = 'class' | 'token';

/** The label of a token that has none: it adds no loss and is not counted in accuracy. */
export const IGNORE = -100;

/** Checks a batch's targets, reading each exactly once into the copy that is used. */
export function readTargets(kind: TargetKind, labels: ArrayLike<number>, B: number, T: number, C: number, who: string): Int32Array {
  const n = kind === 'token' ? B * T : B;
  const length: unknown = labels == null ? undefined : labels.length;
  if (length !== n) {
    throw new HeedError(kind === 'token'
      ? `${who}: labels has ${length ?? 'no'} entries for a batch of [${B},${T}] tokens (one per token: ${n})`
      : `${who}: labels has ${length ?? 'no'} entries for a batch of ${B}`);
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
export function targetLoss(kind: TargetKind, be: Backend, k: Kernels<Buf, IBuf>, p: Plan, ys: Int32Array, B: number, T: number, C: number): number {
  if (kind === 'token') {
    if (ys.length > 0) be.writeInt(p.labels, ys);
    return k.cross_entropy_ignore_index(p.dlogits, p.logits, p.labels, B * T, C, IGNORE);
  }
  if (C === 1) {
    be.write(p.targets, ys);
    return k.bce_with_logits(p.dlogits, p.logits, p.targets, B);
  }
  be.writeInt(p.labels, ys);
  return k.cross_entropy(p.dlogits, p.logits, p.labels, B, C);
}
