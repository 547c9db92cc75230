// Helpers for whole-model tests: the loss of a batch and its analytic gradient through the
// model's own passes, and finite differences over the parameter block.
import type { Context } from '../../src/context.js';
import type { Model } from '../../src/nn/model.js';
import { lossOf } from '../../src/nn/targets.js';

/** Mean loss of one batch (no update); leaves the gradient of that loss in model.grads. */
export function lossAndGrads(model: Model, tokens: Int32Array, shape: [number, number], labels: Int32Array | Float32Array): { loss: number; grads: Float32Array } {
  const [B, T] = model.checkTokens(tokens, shape);
  const { k, be } = model, C = model.outputs, n = model.layout.total, values = model.target === 'value';
  const p = model.prepare(tokens, B, T);
  if (C === 1 || values) be.write(p.targets, labels); else be.writeInt(p.labels, labels as Int32Array);
  be.zero(model.grads, n);
  model.runForward(p, B, T);
  const loss = values ? k.mse_loss(p.dlogits, p.logits, p.targets, B * C)
    : C === 1 ? k.bce_with_logits(p.dlogits, p.logits, p.targets, B) : k.cross_entropy(p.dlogits, p.logits, p.labels, B, C);
  model.runBackward(p, B, T);
  return { loss, grads: be.read(model.grads, n) };
}

/** Central differences of `loss()` with respect to the parameters at indices `which` (every one
 *  when absent); each parameter is restored after its two evaluations. */
export function centralDiffs(model: Model, loss: () => number, which?: number[], h = 1e-2): Float32Array {
  const { be } = model, params = be.read(model.params, model.layout.total);
  const at = which ?? [...params.keys()], out = new Float32Array(at.length);
  at.forEach((i, j) => {
    const x0 = params[i];
    be.write(model.params, [x0 + h], i);
    const fp = loss();
    be.write(model.params, [x0 - h], i);
    const fm = loss();
    be.write(model.params, [x0], i);
    out[j] = (fp - fm) / (2 * h);
  });
  return out;
}

/** Central differences of the mean loss with respect to every parameter (indices `which`). */
export function numericParamGrads(model: Model, tokens: Int32Array, shape: [number, number], labels: Int32Array | Float32Array,
                                  which: number[], h = 1e-2): Float32Array {
  return centralDiffs(model, () => lossAndGrads(model, tokens, shape, labels).loss, which, h);
}

/** The mean loss of a batch through the training path (lossOf: targets checked and written),
 *  leaving its gradient in model.grads. */
export function trainingLoss(model: Model, tokens: Int32Array, [B, T]: [number, number], labels: ArrayLike<number>): number {
  const p = model.prepare(tokens, B, T);
  model.be.zero(model.grads, model.layout.total);
  model.runForward(p, B, T);
  const l = lossOf(model, p, B, labels);
  model.runBackward(p, B, T);
  return l;
}

/** The parameter (by name) that holds flat index i. */
export function paramAt(model: Model, i: number): string {
  return model.layout.entries.find((e) => i >= e.offset && i < e.offset + e.size)!.name;
}

/** "Is token A before token B?" sequences: tokens 3..V-1 are filler, 1 = A, 2 = B; each sequence
 *  holds exactly one A and one B at random positions; label 1 when A comes first. Lengths vary,
 *  with padding (0) at the end. Needs attention: bag-of-tokens models see the same multiset. */
export function orderTask(n: number, T: number, V: number, seed: number): { tokens: Int32Array; labels: Int32Array } {
  let s = seed >>> 0;
  const r = (m: number) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return Math.floor((s / 2 ** 32) * m); };
  const tokens = new Int32Array(n * T), labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const len = 3 + r(T - 2);
    for (let t = 0; t < len; t++) tokens[i * T + t] = 3 + r(V - 3);
    const a = r(len);
    let b = r(len - 1);
    if (b >= a) b++;
    tokens[i * T + a] = 1;
    tokens[i * T + b] = 2;
    labels[i] = a < b ? 1 : 0;
  }
  return { tokens, labels };
}

export type { Context };
