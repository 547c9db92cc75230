import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError, checkRank, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

function checkArrayLike(name: string, a: unknown): ArrayLike<number> {
  if (a == null || typeof a !== 'object' || typeof (a as ArrayLike<number>).length !== 'number') {
    throw new HeedError(`${name}: expected an array or typed array, got ${a === null ? 'null' : typeof a}`);
  }
  return a as ArrayLike<number>;
}

/** Mean softmax cross-entropy of logits [N,C] against integer labels [N] in [0, C).
 *  Returns the mean loss as a JS number and dlogits [N,C], the gradient of that mean.
 *  N = 0 gives loss 0 and an empty dlogits (PyTorch would give NaN for the mean of nothing). */
export function crossEntropy(ctx: Context, logits: Tensor, labels: Int32Array | ArrayLike<number>):
    { loss: number; dlogits: Tensor } {
  const [N, C] = checkRank('logits', ctx.own('logits', logits), 2);
  const ls = checkArrayLike('labels', labels);
  if (ls.length !== N) {
    throw new HeedError(`labels: expected ${N} labels (one per row of logits ${fmtShape(logits.shape)}), got ${ls.length}`);
  }
  // Each label is read once, into the copy the kernel gets: a label cannot change after its check.
  const ys = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const y = ls[i];
    if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= C) {
      throw new HeedError(`labels[${i}]: expected an integer class in [0, ${C}), got ${String(y)}`);
    }
    ys[i] = y;
  }
  const dlogits = ctx.empty([N, C]);
  if (N === 0) return { loss: 0, dlogits };
  const loss = ctx.withInts(ys, (ib) => ctx.k.cross_entropy(dlogits.buf, logits.buf, ib, N, C));
  return { loss, dlogits };
}

/** Mean binary cross-entropy with logits [N] (or [N,1]) against targets [N] in [0, 1] (0/1 labels).
 *  Returns the mean loss and dlogits shaped like logits. N = 0 gives loss 0. */
export function bceWithLogits(ctx: Context, logits: Tensor, targets: Float32Array | ArrayLike<number>):
    { loss: number; dlogits: Tensor } {
  const s = checkRank('logits', ctx.own('logits', logits), 1, 2);
  if (s.length === 2 && s[1] !== 1) throw new HeedError(`logits: expected shape [N] or [N,1], got ${fmtShape(s)}`);
  const N = s[0];
  const ts = checkArrayLike('targets', targets);
  if (ts.length !== N) {
    throw new HeedError(`targets: expected ${N} targets (one per logit of ${fmtShape(s)}), got ${ts.length}`);
  }
  const tt = new Float32Array(N);     // read once, as crossEntropy's labels
  for (let i = 0; i < N; i++) {
    const t = ts[i];
    if (typeof t !== 'number' || !(t >= 0 && t <= 1)) {
      throw new HeedError(`targets[${i}]: expected a number in [0, 1], got ${String(t)}`);
    }
    tt[i] = t;
  }
  const dlogits = ctx.empty(s);
  if (N === 0) return { loss: 0, dlogits };
  const loss = ctx.withScratch(N, (tb) => {
    ctx.be.write(tb, tt);
    return ctx.k.bce_with_logits(dlogits.buf, logits.buf, tb, N);
  });
  return { loss, dlogits };
}

/** Mean softmax cross-entropy of logits [N,C] against labels [N] where a label equal to
 *  `ignoreIndex` (any int32; default -100, PyTorch's) marks a row that does not count: per-token
 *  targets with padding, for tagging and language modelling. Every other label is in [0, C).
 *  Returns the mean loss over the `count` rows that count, and dlogits [N,C] (zero on ignored
 *  rows). When every row is ignored the loss is 0 and dlogits all 0, where PyTorch gives NaN. */
export function crossEntropyIgnoreIndex(ctx: Context, logits: Tensor, labels: Int32Array | ArrayLike<number>,
                                        ignoreIndex = -100): { loss: number; dlogits: Tensor; count: number } {
  const [N, C] = checkRank('logits', ctx.own('logits', logits), 2);
  if (typeof ignoreIndex !== 'number' || !Number.isInteger(ignoreIndex) || ignoreIndex < -0x80000000 || ignoreIndex > 0x7fffffff) {
    throw new HeedError(`ignoreIndex: expected an int32 integer, got ${String(ignoreIndex)}`);
  }
  const ls = checkArrayLike('labels', labels);
  if (ls.length !== N) {
    throw new HeedError(`labels: expected ${N} labels (one per row of logits ${fmtShape(logits.shape)}), got ${ls.length}`);
  }
  const ys = new Int32Array(N);       // read once, as crossEntropy's labels
  let count = 0;
  for (let i = 0; i < N; i++) {
    const y = ls[i];
    if (y === ignoreIndex) { ys[i] = y; continue; }
    if (typeof y !== 'number' || !Number.isInteger(y) || y < 0 || y >= C) {
      throw new HeedError(`labels[${i}]: expected an integer class in [0, ${C}) or the ignoreIndex ${ignoreIndex}, got ${String(y)}`);
    }
    ys[i] = y;
    count++;
  }
  const dlogits = ctx.empty([N, C]);
  if (N === 0) return { loss: 0, dlogits, count };
  const loss = ctx.withInts(ys, (ib) => ctx.k.cross_entropy_ignore_index(dlogits.buf, logits.buf, ib, N, C, ignoreIndex));
  return { loss, dlogits, count };
}

/** Mean squared error of x (any shape, N values) against targets (N finite numbers, in x's
 *  row-major order): loss = mean((x − t)²) (PyTorch's mse_loss). Returns the loss and dlogits
 *  = 2(x − t)/N shaped like x (named as the other losses' gradient). N = 0 gives loss 0. */
export function mseLoss(ctx: Context, x: Tensor, targets: Float32Array | ArrayLike<number>):
    { loss: number; dlogits: Tensor } {
  const s = ctx.own('x', x);
  const N = x.size;
  const ts = checkArrayLike('targets', targets);
  if (ts.length !== N) {
    throw new HeedError(`targets: expected ${N} targets (one per value of x ${fmtShape(s)}), got ${ts.length}`);
  }
  const tt = new Float32Array(N);     // read once, as crossEntropy's labels
  for (let i = 0; i < N; i++) {
    const t = ts[i];
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new HeedError(`targets[${i}]: expected a finite number, got ${String(t)}`);
    }
    tt[i] = t;
  }
  const dlogits = ctx.empty(s);
  if (N === 0) return { loss: 0, dlogits };
  const loss = ctx.withScratch(N, (tb) => {
    ctx.be.write(tb, tt);
    return ctx.k.mse_loss(dlogits.buf, x.buf, tb, N);
  });
  return { loss, dlogits };
}
