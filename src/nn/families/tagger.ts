// tokenClassifier: the transformer's encoder with a Linear head on every token instead of a pooled
// row — one class per token (tagging: parts of speech, named entities, …). Targets are [B,T] class
// ids, -100 where a token has no label (padding always counts as none).
import { Dense } from '../chain.js';
import { blockAttention } from '../encoder.js';
import { Sequential } from '../layer.js';
import type { Family, Net, TaggerConfig } from '../model.js';
import { Linear } from '../primitives.js';
import { encoderConfig, encoderLayers, type TransformerOptions } from './transformer.js';

export type TaggerOptions = TransformerOptions;

export function taggerConfig(o: TaggerOptions): TaggerConfig {
  return encoderConfig('tokenClassifier', 'tagger', o, 2);
}

export const taggerFamily: Family<TaggerConfig> = {
  kind: 'tagger',
  factory: 'tokenClassifier',
  target: 'token',
  config: (o) => taggerConfig(o as TaggerOptions),
  build(ps, c): Net {
    const { embed, blocks, norm } = encoderLayers(ps, c);
    const head = new Dense(new Linear(ps, 'head', c.dModel, c.classes));
    const root = new Sequential([embed, ...blocks, norm, head]);
    return {
      root,
      features: () => root.outputOf(blocks.length + 1),
      maxLen: c.maxLen,
      attention: blockAttention(blocks, c.heads),
      attentionList: true,
    };
  },
};
