// bertClassifier: Hugging Face's BertForSequenceClassification, layer for layer and name for name
// (bert.embeddings.*, bert.encoder.layer.N.*, bert.pooler.dense, classifier): word + learned
// position + token type embeddings and a LayerNorm, post-norm encoder layers with exact-erf GELU
// and LayerNorm eps from the config, the pooler tanh(dense(h[CLS])), a Linear classifier. Dropout
// is 0 (heed trains without it). Padding is token id 0 ([PAD] in BERT vocabularies).
import { MAX_ELEMENTS, isPlannable } from '../../backends/backend.js';
import { HeedError, checkPositiveInt } from '../../errors.js';
import { ClsPool, Dense, Embed, Tanh } from '../chain.js';
import { blockAttention, EncoderBlock } from '../encoder.js';
import { Sequential } from '../layer.js';
import type { BertConfig, Family, Net } from '../model.js';
import { Embedding, LayerNorm, Linear, Positions } from '../primitives.js';

export interface BertOptions {
  vocabSize: number; maxLen?: number; typeVocabSize?: number; dModel?: number; heads?: number; ffDim?: number; layers?: number;
  /** LayerNorm eps (BERT's 1e-12). */
  eps?: number;
  /** 'erf' (BERT's "gelu") or 'tanh' ("gelu_new", "gelu_pytorch_tanh"). */
  gelu?: 'erf' | 'tanh';
  classes?: number; seed?: number;
}

const WHO = 'bertClassifier';
/** The most encoder layers a config may have. */
const MAX_LAYERS = 1024;

export function bertConfig(o: BertOptions): BertConfig {
  if (o === null || typeof o !== 'object') throw new HeedError(`${WHO}: expected an options object`);
  const int = (name: string, v: unknown): number => checkPositiveInt(WHO, name, v);
  const dModel = int('dModel', o.dModel ?? 768);
  const c: BertConfig = {
    kind: 'bert',
    vocabSize: int('vocabSize', o.vocabSize),
    maxLen: int('maxLen', o.maxLen ?? 512),
    typeVocabSize: int('typeVocabSize', o.typeVocabSize ?? 2),
    dModel,
    heads: int('heads', o.heads ?? 12),
    ffDim: int('ffDim', o.ffDim ?? 4 * dModel),
    layers: int('layers', o.layers ?? 12),
    eps: o.eps ?? 1e-12,
    gelu: o.gelu ?? 'erf',
    classes: int('classes', o.classes ?? 2),
    seed: o.seed ?? 0,
  };
  if (!(typeof c.eps === 'number' && c.eps > 0 && c.eps < 1)) throw new HeedError(`${WHO}: eps must be a number in (0, 1), got ${String(o.eps)}`);
  if (c.gelu !== 'erf' && c.gelu !== 'tanh') throw new HeedError(`${WHO}: gelu must be 'erf' or 'tanh', got ${JSON.stringify(o.gelu)}`);
  if (!Number.isInteger(c.seed)) throw new HeedError(`${WHO}: seed must be an integer, got ${String(o.seed)}`);
  if (c.classes < 2) throw new HeedError(`${WHO}: classes must be at least 2 (Hugging Face reads num_labels 1 as regression), got ${c.classes}`);
  if (dModel % c.heads !== 0) throw new HeedError(`${WHO}: heads (${c.heads}) must divide dModel (${dModel})`);
  if (c.layers > MAX_LAYERS) throw new HeedError(`${WHO}: layers must be at most ${MAX_LAYERS}, got ${c.layers}`);
  const d = dModel, F = c.ffDim;
  const params = (c.vocabSize + c.maxLen + c.typeVocabSize) * d + 2 * d + c.layers * (4 * d * d + 4 * d + 2 * F * d + F + d + 4 * d) + d * d + d + c.classes * d + c.classes;
  if (!isPlannable(params)) throw new HeedError(`${WHO}: the config makes ${params} parameters, more than one block can hold (${MAX_ELEMENTS})`);
  return c;
}

export const bertFamily: Family<BertConfig> = {
  kind: 'bert',
  factory: 'bertClassifier',
  target: 'class',
  config: (o) => bertConfig(o as BertOptions),
  build(ps, c): Net {
    const d = c.dModel, hf = { normal: 0.02 }, init = { weightInit: hf, biasInit: { constant: 0 } };
    const embed = new Embed(ps,
      new Embedding(ps, 'bert.embeddings.word_embeddings', c.vocabSize, d, hf),
      new Positions(ps, 'bert.embeddings.position_embeddings', c.maxLen, d, hf),
      new Embedding(ps, 'bert.embeddings.token_type_embeddings', c.typeVocabSize, d, hf),
      new LayerNorm(ps, 'bert.embeddings.LayerNorm', d, c.eps));
    const blocks = Array.from({ length: c.layers }, (_, i) => new EncoderBlock(ps, `bert.encoder.layer.${i}`, {
      d, heads: c.heads, ffDim: c.ffDim, norm: 'post', names: 'bert', gelu: c.gelu, eps: c.eps,
    }));
    const pooler = new Dense(new Linear(ps, 'bert.pooler.dense', d, d, init));
    const classifier = new Dense(new Linear(ps, 'classifier', d, c.classes, init));
    const root = new Sequential([embed, ...blocks, new ClsPool(ps), pooler, new Tanh(ps), classifier]);
    return {
      root,
      features: () => root.outputOf(blocks.length),
      maxLen: c.maxLen,
      attention: blockAttention(blocks, c.heads),
      attentionList: true,
      input: 'tokens+types',
    };
  },
};
