import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError, checkRank, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

export interface MatmulOptions { transA?: boolean; transB?: boolean }

/** [M,K]·[K,N] → [M,N]; batched [B,M,K]·[B,K,N] → [B,M,N]; a rank-2 b is shared by every batch.
 *  transA / transB transpose the last two axes (transB reads b as [N,K], PyTorch's Linear layout). */
export function matmul(ctx: Context, a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const as = checkRank('a', ctx.own('a', a), 2, 3), bs = checkRank('b', ctx.own('b', b), 2, 3);
  const { transA = false, transB = false } = options ?? {};
  if (as.length === 2 && bs.length === 3) {
    throw new HeedError(`matmul: a ${fmtShape(as)} is rank 2 but b ${fmtShape(bs)} is batched; give a a batch axis too`);
  }
  const batch = as.length === 3 ? as[0] : 1;
  if (bs.length === 3 && bs[0] !== batch) {
    throw new HeedError(`matmul: batch sizes differ: a ${fmtShape(as)}, b ${fmtShape(bs)}`);
  }
  const [ar, ac] = as.slice(-2), [br, bc] = bs.slice(-2);
  const [M, K] = transA ? [ac, ar] : [ar, ac];
  const [Kb, N] = transB ? [bc, br] : [br, bc];
  if (K !== Kb) {
    const desc = (t: boolean, s: readonly number[], n: string) => `${n} ${fmtShape(s)}${t ? ' (transposed)' : ''}`;
    throw new HeedError(`matmul: inner dimensions differ (${K} vs ${Kb}): ${desc(transA, as, 'a')} · ${desc(transB, bs, 'b')}`);
  }
  const c = ctx.empty(as.length === 3 ? [batch, M, N] : [M, N]);
  if (c.size > 0) {
    ctx.k.matmul_forward(c.buf, a.buf, b.buf, batch, M, N, K, transA ? 1 : 0, transB ? 1 : 0, bs.length === 3 ? K * N : 0, 0);
  }
  return c;
}
