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
