import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError, checkFinitePositive, checkRank, checkShape, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Options of every attention op (attention, attentionWithLse, attentionBackward, attentionWeights). */
export interface AttentionOptions {
  /** [B,S] of 1 (keep) / 0 (padding), S the number of keys attended (`kvLength` when given). */
  keyMask?: Tensor;
  /** Query row t sees keys 0..t + qOffset only, clamped to the S keys there are. */
  causal?: boolean;
  /** Defaults to 1/√D. */
  scale?: number;
  /** With `causal`: the absolute position of query row 0 (an integer ≥ 0, default 0; an error
   *  without `causal`). 0 aligns top-left, as torch's scaled_dot_product_attention(is_causal=True)
   *  does also when T ≠ S; S − T aligns bottom-right, the KV-cache convention (a prefill of T = S
   *  tokens is qOffset 0; decoding one token after S − 1 cached ones is T = 1, qOffset S − 1).
   *  Rows at position S − 1 or later see every key. */
  qOffset?: number;
  /** How many keys to attend, S ≤ k.shape[2] (default: all). k and v may be a cache [B,H,Smax,D]
   *  whose first S positions per head are filled: they are read in place, without a copy, and the
   *  backward's dk, dv have the cache's shape, zero past S. */
  kvLength?: number;
}

interface Dims { B: number; H: number; T: number; S: number; D: number; scale: number; causal: number;
                 mask: Tensor | undefined; qOffset: number; kvStride: number }

/** Validates q [B,H,T,D], k [B,H,Smax,D], v like k (null: no v, for the weights) and the options.
 *  The default scale is 1/√D (1 when D = 0, where every score is 0 anyway). */
function dims(ctx: Context, q: Tensor, k: Tensor, v: Tensor | null, options: AttentionOptions | undefined): Dims {
  const [B, H, T, D] = checkRank('q', ctx.own('q', q), 4);
  const ks = checkRank('k', ctx.own('k', k), 4);
  const Smax = ks[2];
  checkShape('k', ks, [B, H, Smax, D]);
  if (v !== null) checkShape('v', ctx.own('v', v), [B, H, Smax, D]);
  if (options != null && typeof options !== 'object') {
    throw new HeedError(`attention options must be an object, got ${typeof options}`);
  }
  const { keyMask, causal, scale, qOffset = 0, kvLength = Smax } = options ?? {};
  if (causal != null && typeof causal !== 'boolean') {
    throw new HeedError(`causal must be a boolean, got ${String(causal)}`);
  }
  if (typeof kvLength !== 'number' || !Number.isInteger(kvLength) || kvLength < 0 || kvLength > Smax) {
    throw new HeedError(`kvLength must be an integer in [0, ${Smax}] (k ${fmtShape(ks)} holds ${Smax} keys per head; q ${fmtShape(q.shape)}), got ${String(kvLength)}`);
  }
  const S = kvLength;
  if (typeof qOffset !== 'number' || !Number.isInteger(qOffset) || qOffset < 0) {
    throw new HeedError(`qOffset must be an integer ≥ 0 (q ${fmtShape(q.shape)}, k ${fmtShape(ks)}), got ${String(qOffset)}`);
  }
  // A silent no-op would hide a forgotten `causal: true`: without it every query sees every key.
  if (qOffset !== 0 && !causal) {
    throw new HeedError(`qOffset ${qOffset} needs causal: true (without it every query sees all ${S} keys; q ${fmtShape(q.shape)}, k ${fmtShape(ks)})`);
  }
  if (keyMask != null) checkShape('keyMask', ctx.own('keyMask', keyMask), [B, S]);
  if (scale != null) checkFinitePositive('scale', scale);
  // Past S every row sees every key, so the offset is clamped there: the kernels take it as an i32
  // (2^31 would wrap to a negative offset) and add t + 1 to it.
  return { B, H, T, S, D, scale: scale ?? (D > 0 ? 1 / Math.sqrt(D) : 1), causal: causal ? 1 : 0,
           mask: keyMask ?? undefined, qOffset: Math.min(qOffset, S), kvStride: Smax * D };
}

/** The forward's output and each query row's log-sum-exp of its scaled, masked scores: all the
 *  backward needs besides q, k, v (FlashAttention's saved statistics). */
export interface AttentionSaved { out: Tensor; lse: Tensor }

/** softmax(q·kᵀ·scale + masks)·v for q [B,H,T,D], k, v [B,H,S,D] (or a cache [B,H,Smax,D] read
 *  up to `kvLength`); returns [B,H,T,D]. A query row whose keys are all masked returns zeros.
 *  Never builds the T×S weights. */
export function attention(ctx: Context, q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions): Tensor {
  const { out, lse } = attentionWithLse(ctx, q, k, v, options);
  lse.dispose();
  return out;
}

/** attention() that also returns lse [B,H,T], each query row's log-sum-exp of its scaled scores
 *  (+∞ for a row whose keys are all masked, so that its probabilities exp(s − lse) recompute as 0),
 *  for attentionBackward's `saved` option: training calls this, so the
 *  backward recomputes probabilities from lse instead of rerunning the forward. */
export function attentionWithLse(ctx: Context, q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions): AttentionSaved {
  const { B, H, T, S, D, scale, causal, mask, qOffset, kvStride } = dims(ctx, q, k, v, options);
  const out = ctx.empty([B, H, T, D]);
  let lse: Tensor;
  try {
    lse = ctx.empty([B, H, T]);
  } catch (e) {
    out.dispose();
    throw e;
  }
  if (B * H * T === 0) return { out, lse };
  if (S === 0) {                                       // no keys: every row is masked, out = 0
    ctx.be.write(lse.buf, new Float32Array(B * H * T).fill(Infinity));
    return { out, lse };
  }
  try {
    ctx.k.attention_forward(out.buf, lse.buf, q.buf, k.buf, v.buf, mask ? mask.buf : q.buf, mask ? 1 : 0,
      B, H, T, S, D, scale, causal, qOffset, kvStride);
  } catch (e) {
    out.dispose();
    lse.dispose();
    throw e;
  }
  return { out, lse };
}

/** Gradients of attention given dout [B,H,T,D], recomputing each row's probabilities from its
 *  log-sum-exp. With `saved` (attentionWithLse's result for the same inputs and options) the
 *  forward is not rerun; without it, it is. Fully masked rows get zero gradients. dk and dv have
 *  k's shape: with `kvLength` < k.shape[2], positions past it get zeros. */
export function attentionBackward(ctx: Context, q: Tensor, k: Tensor, v: Tensor, dout: Tensor,
                                  options?: AttentionOptions & { saved?: AttentionSaved }): { dq: Tensor; dk: Tensor; dv: Tensor } {
  const { B, H, T, S, D, scale, causal, mask, qOffset, kvStride } = dims(ctx, q, k, v, options);
  checkShape('dout', ctx.own('dout', dout), [B, H, T, D]);
  const given = options?.saved;
  let saved: AttentionSaved | null = null;
  if (given != null) {
    if (typeof given !== 'object') throw new HeedError(`saved must be { out, lse } from attentionWithLse, got ${typeof given}`);
    // Read once: the tensors checked are the tensors the kernel gets, whatever getters `saved` has.
    const { out, lse } = given;
    checkShape('saved.out', ctx.own('saved.out', out), [B, H, T, D]);
    checkShape('saved.lse', ctx.own('saved.lse', lse), [B, H, T]);
    saved = { out, lse };
  }
  const dq = ctx.empty(q.shape), dk = ctx.empty(k.shape), dv = ctx.empty(k.shape); // zeroed; kernels accumulate
  if (dq.size === 0 || S === 0) return { dq, dk, dv };      // no queries, no keys or D = 0: all zero
  let own: AttentionSaved | null = null;
  try {
    const m = mask ? mask.buf : q.buf, useMask = mask ? 1 : 0;
    const s = saved ?? (own = attentionWithLse(ctx, q, k, v, options));
    ctx.k.attention_backward(dq.buf, dk.buf, dv.buf, q.buf, k.buf, v.buf, s.out.buf, s.lse.buf, dout.buf,
      m, useMask, B, H, T, S, D, scale, causal, qOffset, kvStride);
  } catch (e) {
    for (const t of [dq, dk, dv]) t.dispose();
    throw e;
  } finally {
    own?.out.dispose();
    own?.lse.dispose();
  }
  return { dq, dk, dv };
}

/** The attention weights softmax(q·kᵀ·scale + masks) as [B,H,T,S] (S = kvLength when given):
 *  each row sums to 1, or is all zeros when its keys are all masked. For inspection; it is the T×S matrix training avoids. */
export function attentionWeights(ctx: Context, q: Tensor, k: Tensor, options?: AttentionOptions): Tensor {
  const { B, H, T, S, D, scale, causal, mask, qOffset, kvStride } = dims(ctx, q, k, null, options);
  const p = ctx.empty([B, H, T, S]);
  if (p.size === 0) return p;
  try {
    ctx.k.attention_probs(p.buf, q.buf, k.buf, mask ? mask.buf : q.buf, mask ? 1 : 0, B, H, T, S, D, scale, causal,
      qOffset, kvStride);
  } catch (e) {
    p.dispose();
    throw e;
  }
  return p;
}
