// attentionPoolingClassifier: the article's model made sound. e = embed(tok); a score per position
// s = e·w + b; softmax of s over the non-padding positions; pooled = Σ weight·e; Linear head.
// pool 'mean' drops the scores (fastText's model): pooled = the mean of e over the non-padding
// positions, so every token votes with the same weight.
import { HeedError, checkPositiveInt } from '../../errors.js';
import { AttentionPool, Dense, Embed, MeanPool } from '../chain.js';
import { Sequential } from '../layer.js';
import type { Act, Batch, Params, Planner } from '../layer.js';
import type { Family, Net, PoolingConfig } from '../model.js';
import type { Buf } from '../../backends/backend.js';
import { Embedding, Linear } from '../primitives.js';

export interface PoolingOptions {
  vocabSize: number; dModel?: number; classes?: number; seed?: number;
  /** How token vectors become one vector: 'attention' (default: a learned score per token, softmax,
   *  weighted sum) or 'mean' (every token counts the same, as in fastText; no attn parameters). */
  pool?: 'attention' | 'mean';
}

export type PoolMode = NonNullable<PoolingOptions['pool']>;

const positiveInt = (name: string, v: unknown): number => checkPositiveInt('attentionPoolingClassifier', name, v);

/** The pooling of a config: configs (and model files) from before the option have none and attend. */
export const poolOf = (c: PoolingConfig): PoolMode => ((c as { pool?: PoolMode }).pool ?? 'attention');

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
  if (o.pool !== undefined && o.pool !== 'attention' && o.pool !== 'mean') {
    throw new HeedError(`attentionPoolingClassifier: pool must be 'attention' or 'mean', got ${JSON.stringify(o.pool)}`);
  }
  // 'attention' is left out, so a default model's config (and file) is what it was before the option.
  if (o.pool === 'mean') Object.assign(c, { pool: 'mean' });
  return c;
}

/** Mean pooling that can say what it read: each non-padding position's share of the mean (1/n),
 *  the pooling model's attention map when it has no scores (explain shows it; words with more
 *  pieces carry more of the mean). */
class SharedMeanPool extends MeanPool {
  #batch!: Batch;
  constructor(ps: Params) { super(ps); }

  override plan(a: Planner, batch: Batch, x: Act | null): Act {
    this.#batch = batch;
    return super.plan(a, batch, x);
  }

  /** The shares [B,T] of the last forward, into p. */
  shares(p: Buf): void {
    const { be } = this.ps.rt, { B, T, mask } = this.#batch;
    const m = be.read(mask, B * T);
    for (let b = 0; b < B; b++) {
      let n = 0;
      for (let t = 0; t < T; t++) n += m[b * T + t];
      for (let t = 0; t < T; t++) m[b * T + t] = n > 0 ? m[b * T + t] / n : 0;
    }
    be.write(p, m);
  }
}

export const poolingFamily: Family<PoolingConfig> = {
  kind: 'pooling',
  factory: 'attentionPoolingClassifier',
  target: 'class',
  config: (o) => poolingConfig(o as PoolingOptions),
  build(ps, c): Net {
    const mean = poolOf(c) === 'mean';
    // Mean pooling starts its embeddings near zero, as fastText does (uniform ±1/d): a feature never
    // seen in training (a hashed n-gram of a new word) then adds next to nothing to the mean instead
    // of a random vector of norm √d. (Measured on the training splits of bench/ACCURACY.md's data:
    // +0.8 points of validation accuracy on average over N(0, 1).)
    const embed = new Embed(ps, new Embedding(ps, 'embed', c.vocabSize, c.dModel, mean ? { normal: 0.01 } : undefined));
    const pool = mean ? new SharedMeanPool(ps) : new AttentionPool(ps, 'attn', c.dModel);
    const head = new Dense(new Linear(ps, 'head', c.dModel, c.classes));
    return {
      root: new Sequential([embed, pool, head]),
      maxLen: Infinity,
      attention: (B, T) => [{ shape: [B, T], write: (p) => (pool instanceof AttentionPool ? pool.probs(p) : pool.shares(p)) }],
      attentionList: false,
    };
  },
};
