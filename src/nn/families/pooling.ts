// attentionPoolingClassifier: the article's model made sound. e = embed(tok); a score per position
// s = e·w + b; softmax of s over the non-padding positions; pooled = Σ weight·e; Linear head.
import { HeedError, checkPositiveInt } from '../../errors.js';
import { AttentionPool, Dense, Embed } from '../chain.js';
import { Sequential } from '../layer.js';
import type { Family, Net, PoolingConfig } from '../model.js';
import { Embedding, Linear } from '../primitives.js';

export interface PoolingOptions { vocabSize: number; dModel?: number; classes?: number; seed?: number }

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

export const poolingFamily: Family<PoolingConfig> = {
  kind: 'pooling',
  factory: 'attentionPoolingClassifier',
  target: 'class',
  config: (o) => poolingConfig(o as PoolingOptions),
  build(ps, c): Net {
    const embed = new Embed(ps, new Embedding(ps, 'embed', c.vocabSize, c.dModel));
    const pool = new AttentionPool(ps, 'attn', c.dModel);
    const head = new Dense(new Linear(ps, 'head', c.dModel, c.classes));
    return {
      root: new Sequential([embed, pool, head]),
      maxLen: Infinity,
      attention: (B, T) => [{ shape: [B, T], write: (p) => pool.probs(p) }],
      attentionList: false,
    };
  },
};
