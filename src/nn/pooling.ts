// attentionPoolingClassifier: the article's model made sound. e = embed(tok); a score per position
// s = attn(e) = e·w + b; softmax of s over the non-padding positions; pooled = Σ weight·e; head.
//
// The scores are exactly one attention query per sequence: q = w (the same for every sequence),
// keys = values = e, scale 1, key padding mask. So the pass runs on the attention kernels (no T×T,
// and a sequence of only padding pools to zeros). attn.bias shifts every score of a row equally,
// which softmax ignores: it has no effect on the output and its gradient is exactly zero.
import type { Buf } from '../backends/backend.js';
import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError, checkPositiveInt } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { ParamLayout, type Arena, type ParamSpec, type SizingArena } from './block.js';
import { Model, type BasePlan, type PoolingConfig } from './model.js';

export interface PoolingOptions { vocabSize: number; dModel?: number; classes?: number; seed?: number }

interface Plan extends BasePlan {
  mask: Buf;    // [B,T]
  e: Buf;       // [B,T,d] embeddings (keys and values)
  q: Buf;       // [B,d] attn.weight repeated per sequence
  pooled: Buf;  // [B,d]
  lse: Buf;     // [B]
  dpooled: Buf; dq: Buf; dk: Buf; dv: Buf;
}

const positiveInt = (name: string, v: unknown): number => checkPositiveInt('attentionPoolingClassifier', name, v);

export function poolingConfig(o: PoolingOptions): PoolingConfig {
  if (o === null || typeof o !== 'object') throw new HeedError('attentionPoolingClassifier: expected an options object');
  const c: PoolingConfig = {
    kind: 'pooling',
    vocabSize: positiveInt('vocabSize', o.vocabSize),
    dModel: positiveInt('dModel', o.dModel ?? 64),
    classes: positiveInt('classes', o.classes ?? 2),
    seed: o.seed ?? 0,
  };
  if (!Number.isInteger(c.seed)) throw new HeedError(`attentionPoolingClassifier: seed must be an integer, got ${String(o.seed)}`);
  return c;
}

function specs(c: PoolingConfig): ParamSpec[] {
  const d = c.dModel, lin = { uniform: 1 / Math.sqrt(d) };
  return [
    { name: 'embed.weight', shape: [c.vocabSize, d], init: { normal: 1 } },
    { name: 'attn.weight', shape: [1, d], init: lin },
    { name: 'attn.bias', shape: [1], init: lin },
    { name: 'head.weight', shape: [c.classes, d], init: lin },
    { name: 'head.bias', shape: [c.classes], init: lin },
  ];
}

export class AttentionPoolingClassifier extends Model<PoolingConfig, Plan> {
  constructor(ctx: Context, options: PoolingOptions) {
    const c = poolingConfig(options);
    super(ctx, c, specs(c));
  }

  /** The parameter layout of a config, without allocating a model. */
  static layoutFor(c: PoolingConfig): ParamLayout {
    return new ParamLayout(specs(c));
  }

  protected get maxLen(): number {
    return Infinity;
  }

  protected planBuffers(a: Arena | SizingArena, B: number, T: number): Plan {
    const d = this.config.dModel, N = B * T;
    return {
      ...this.basePlan(a, B, T), mask: a.take(N), e: a.take(N * d), q: a.take(B * d), pooled: a.take(B * d), lse: a.take(B),
      dpooled: a.take(B * d), dq: a.take(B * d), dk: a.take(N * d), dv: a.take(N * d),
    };
  }

  runForward(p: Plan, B: number, T: number): void {
    const { k, be } = this, { dModel: d, classes: C } = this.config, N = B * T;
    if (B === 0) return;
    k.embedding_forward(p.e, p.tokens, this.param('embed.weight'), N, d);
    k.token_mask(p.mask, p.tokens, N);
    const w = this.param('attn.weight');
    for (let b = 0; b < B; b++) be.copy(be.sub(p.q, b * d, d), w, d);
    k.attention_forward(p.pooled, p.lse, p.q, p.e, p.e, p.mask, 1, B, 1, 1, T, d, 1, 0, 0, T * d);
    k.matmul_forward(p.logits, p.pooled, this.param('head.weight'), 1, B, C, d, 0, 1, 0, 0);
    k.bias_forward(p.logits, this.param('head.bias'), B, C);
  }

  runBackward(p: Plan, B: number, T: number): void {
    const { k, be } = this, { dModel: d, classes: C } = this.config, N = B * T;
    if (B === 0) return;
    const G = (n: string) => this.param(n, true);
    k.matmul_forward(p.dpooled, p.dlogits, this.param('head.weight'), 1, B, d, C, 0, 0, 0, 0);
    k.matmul_forward(G('head.weight'), p.dlogits, p.pooled, 1, C, d, B, 1, 0, 0, 1);
    k.bias_backward(G('head.bias'), p.dlogits, B, C);
    be.zero(p.dq, B * d); be.zero(p.dk, N * d); be.zero(p.dv, N * d);
    k.attention_backward(p.dq, p.dk, p.dv, p.q, p.e, p.e, p.pooled, p.lse, p.dpooled, p.mask, 1, B, 1, 1, T, d, 1, 0, 0, T * d);
    k.bias_backward(G('attn.weight'), p.dq, B, d);   // q was attn.weight repeated: sum over the batch
    k.add_forward(p.dk, p.dk, p.dv, N * d);          // e was both keys and values
    k.embedding_backward(G('embed.weight'), p.tokens, p.dk, N, d);
  }

  protected attentionOf(p: Plan, B: number, T: number): Tensor {
    const w = this.ctx.empty([B, T]);
    if (w.size > 0) this.k.attention_probs(w.buf, p.q, p.e, p.mask, 1, B, 1, 1, T, this.config.dModel, 1, 0, 0, T * this.config.dModel);
    return w;
  }
}
