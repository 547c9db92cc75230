// transformerClassifier: layer for layer the PyTorch model of the README's Models section —
// learned positions, pre-norm nn.TransformerEncoderLayer blocks (dropout 0, GELU tanh), key
// padding mask, final LayerNorm, mean over non-padding positions, Linear head.
import { MAX_ELEMENTS, isPlannable } from '../../backends/backend.js';
import { HeedError, checkPositiveInt } from '../../errors.js';
import { Dense, Embed, MeanPool, Norm } from '../chain.js';
import { blockAttention, EncoderBlock } from '../encoder.js';
import { Sequential, type Params } from '../layer.js';
import type { Family, Net, TransformerConfig } from '../model.js';
import { Embedding, LayerNorm, Linear, Positions } from '../primitives.js';

export interface TransformerOptions {
  vocabSize: number; maxLen?: number; dModel?: number; heads?: number; ffDim?: number; layers?: number;
  classes?: number; seed?: number;
}

/** The most encoder layers a config may have. */
export const MAX_LAYERS = 1024;

/** Validates the options of an encoder of pre-norm blocks (this family and the tagger), in the
 *  words of `who`; the parameter count is bounded before any layout is built. */
export function encoderConfig<K extends 'transformer' | 'tagger'>(who: string, kind: K, o: TransformerOptions, minClasses = 1):
  Omit<TransformerConfig, 'kind'> & { kind: K } {
  if (o === null || typeof o !== 'object') throw new HeedError(`${who}: expected an options object`);
  const positiveInt = (name: string, v: unknown): number => checkPositiveInt(who, name, v);
  const dModel = positiveInt('dModel', o.dModel ?? 64);
  const c = {
    kind,
    vocabSize: positiveInt('vocabSize', o.vocabSize),
    maxLen: positiveInt('maxLen', o.maxLen ?? 128),
    dModel,
    heads: positiveInt('heads', o.heads ?? 4),
    ffDim: positiveInt('ffDim', o.ffDim ?? 4 * dModel),
    layers: positiveInt('layers', o.layers ?? 2),
    classes: positiveInt('classes', o.classes ?? 2),
    seed: o.seed ?? 0,
  };
  if (!Number.isInteger(c.seed)) throw new HeedError(`${who}: seed must be an integer, got ${String(o.seed)}`);
  if (c.classes < minClasses) throw new HeedError(`${who}: classes must be at least ${minClasses}, got ${c.classes}`);
  if (dModel % c.heads !== 0) throw new HeedError(`${who}: heads (${c.heads}) must divide dModel (${dModel})`);
  // The layout is built entry by entry (12 per layer) before anything is allocated: an absurd
  // layer count would take minutes and gigabytes of JS heap there, and a parameter count past
  // what one block can hold must fail here, by name, not deep in an allocation.
  if (c.layers > MAX_LAYERS) throw new HeedError(`${who}: layers must be at most ${MAX_LAYERS}, got ${c.layers}`);
  const params = parameterCount(c);
  if (!isPlannable(params)) {
    throw new HeedError(`${who}: vocabSize ${c.vocabSize}, maxLen ${c.maxLen}, dModel ${dModel}, ffDim ${c.ffDim}, layers ${c.layers} ` +
      `and classes ${c.classes} make ${params} parameters, more than one block can hold (${MAX_ELEMENTS})`);
  }
  return c;
}

/** Parameters of an encoder config, computed without building the layout. */
export function parameterCount(c: Omit<TransformerConfig, 'kind'>): number {
  const d = c.dModel, F = c.ffDim, C = c.classes;
  const perLayer = 4 * d * d + 3 * d + d + 2 * F * d + F + d + 4 * d;   // attention, feed-forward, two norms
  return (c.vocabSize + c.maxLen) * d + c.layers * perLayer + 2 * d + C * d + C;
}

export function transformerConfig(o: TransformerOptions): TransformerConfig {
  return encoderConfig('transformerClassifier', 'transformer', o);
}

/** Embeddings + positions, `layers` pre-norm blocks, the final norm: [B,T] ids → [B·T,d]. The
 *  transformer and the tagger share it (their heads differ). */
export function encoderLayers(ps: Params, c: Omit<TransformerConfig, 'kind'>): { embed: Embed; blocks: EncoderBlock[]; norm: Norm } {
  const d = c.dModel;
  const embed = new Embed(ps, new Embedding(ps, 'embed', c.vocabSize, d), new Positions(ps, 'pos_embed', c.maxLen, d));
  const blocks = Array.from({ length: c.layers }, (_, i) => new EncoderBlock(ps, `layers.${i}`, { d, heads: c.heads, ffDim: c.ffDim, norm: 'pre' }));
  return { embed, blocks, norm: new Norm(new LayerNorm(ps, 'norm', d)) };
}

export const transformerFamily: Family<TransformerConfig> = {
  kind: 'transformer',
  factory: 'transformerClassifier',
  target: 'class',
  config: (o) => transformerConfig(o as TransformerOptions),
  build(ps, c): Net {
    const { embed, blocks, norm } = encoderLayers(ps, c);
    const head = new Dense(new Linear(ps, 'head', c.dModel, c.classes));
    const root = new Sequential([embed, ...blocks, norm, new MeanPool(ps), head]);
    return {
      root,
      features: () => root.outputOf(blocks.length + 1),
      maxLen: c.maxLen,
      attention: blockAttention(blocks, c.heads),
      attentionList: true,
    };
  },
};
