// attentionPoolingRegressor: the attention-pooling model with real-valued outputs — a text in, one
// or more numbers out (a rating, a price, a score), trained with the mean squared error
// (F.mse_loss over every output of every row). Same layers and names as attentionPoolingClassifier;
// only the head's width and the target differ.
import { checkPositiveInt, HeedError } from '../../errors.js';
import { AttentionPool, Dense, Embed } from '../chain.js';
import { Sequential } from '../layer.js';
import type { Family, Net, RegressorConfig } from '../model.js';
import { Embedding, Linear } from '../primitives.js';

export interface RegressorOptions { vocabSize: number; dModel?: number; outputs?: number; seed?: number }

export function regressorConfig(o: RegressorOptions): RegressorConfig {
  if (o === null || typeof o !== 'object') throw new HeedError('attentionPoolingRegressor: expected an options object');
  const outputs = o.outputs ?? 1;
  if (!(Number.isInteger(outputs) && outputs >= 1 && outputs <= 65536)) {
    throw new HeedError(`attentionPoolingRegressor: outputs must be an integer from 1 to 65536, got ${String(o.outputs)}`);
  }
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed)) throw new HeedError(`attentionPoolingRegressor: seed must be an integer, got ${String(o.seed)}`);
  const positiveInt = (name: string, v: unknown): number => checkPositiveInt('attentionPoolingRegressor', name, v);
  return { kind: 'regressor', vocabSize: positiveInt('vocabSize', o.vocabSize), dModel: positiveInt('dModel', o.dModel ?? 64), outputs, seed };
}

export const regressorFamily: Family<RegressorConfig> = {
  kind: 'regressor',
  factory: 'attentionPoolingRegressor',
  target: 'value',
  config: (o) => regressorConfig(o as RegressorOptions),
  build(ps, c): Net {
    const embed = new Embed(ps, new Embedding(ps, 'embed', c.vocabSize, c.dModel));
    const pool = new AttentionPool(ps, 'attn', c.dModel);
    const head = new Dense(new Linear(ps, 'head', c.dModel, c.outputs));
    return {
      root: new Sequential([embed, pool, head]),
      maxLen: Infinity,
      attention: (B, T) => [{ shape: [B, T], write: (p) => pool.probs(p) }],
      attentionList: false,
    };
  },
};
