// causalLM: a decoder-only language model, nanoGPT's GPT layer for layer — token and learned
// position embeddings, pre-norm causal blocks (attention + GELU MLP, dropout 0), a final
// LayerNorm and an LM head over the vocabulary, tied to the token embedding unless told otherwise.
// Parameter names are nanoGPT's (transformer.wte, transformer.h.0.attn.c_attn, …, lm_head); a tied
// model has no lm_head.weight of its own (PyTorch's state_dict lists the shared tensor twice).
// Logits are [B,T,vocabSize]; the target at each position is the next token's id (-100: none).
// No padding mask: causal rows never see the padding after their tokens, and id 0 is a token.
import { MAX_ELEMENTS, isPlannable } from '../../backends/backend.js';
import { HeedError, checkPositiveInt } from '../../errors.js';
import { brief } from '../../io/json.js';
import { MultiHeadAttention } from '../attention.js';
import { Dense, Embed, Norm } from '../chain.js';
import { blockAttention, EncoderBlock, FeedForward, type BlockParts } from '../encoder.js';
import { Sequential, type Params } from '../layer.js';
import type { DecoderConfig, Family, Net } from '../model.js';
import { Embedding, LayerNorm, Linear, Positions } from '../primitives.js';
import { TiedHead } from '../tied-head.js';
import { MAX_LAYERS } from './transformer.js';

export interface DecoderOptions {
  vocabSize: number;
  /** The longest context (positions) the model takes; generation may not run past it. */
  maxLen?: number;
  dModel?: number; heads?: number; ffDim?: number; layers?: number;
  /** The LM head's weight is the token embedding (default true). */
  tieEmbeddings?: boolean;
  /** GELU of the MLP: 'tanh' (GPT-2's, default) or 'erf' (nanoGPT's nn.GELU()). */
  gelu?: 'tanh' | 'erf';
  seed?: number;
}

/** Validates a causalLM's options (or a decoder config read from a file), filling in defaults. */
export function decoderConfig(o: DecoderOptions & { classes?: unknown }): DecoderConfig {
  const who = 'causalLM';
  if (o === null || typeof o !== 'object') throw new HeedError(`${who}: expected an options object`);
  const positiveInt = (name: string, v: unknown): number => checkPositiveInt(who, name, v);
  const dModel = positiveInt('dModel', o.dModel ?? 64), vocabSize = positiveInt('vocabSize', o.vocabSize);
  const c: DecoderConfig = {
    kind: 'decoder',
    vocabSize,
    maxLen: positiveInt('maxLen', o.maxLen ?? 128),
    dModel,
    heads: positiveInt('heads', o.heads ?? 4),
    ffDim: positiveInt('ffDim', o.ffDim ?? 4 * dModel),
    layers: positiveInt('layers', o.layers ?? 2),
    tieEmbeddings: o.tieEmbeddings ?? true,
    gelu: o.gelu ?? 'tanh',
    // One logit per vocabulary entry: what the Model reads as the width of its logits.
    classes: vocabSize,
    seed: o.seed ?? 0,
  };
  if (typeof c.tieEmbeddings !== 'boolean') throw new HeedError(`${who}: tieEmbeddings must be true or false, got ${brief(o.tieEmbeddings)}`);
  if (c.gelu !== 'tanh' && c.gelu !== 'erf') throw new HeedError(`${who}: gelu must be "tanh" or "erf", got ${brief(o.gelu)}`);
  if (o.classes !== undefined && o.classes !== vocabSize) {
    throw new HeedError(`${who}: classes (${brief(o.classes)}) must equal vocabSize (${vocabSize}): a language model has one logit per token`);
  }
  if (!Number.isInteger(c.seed)) throw new HeedError(`${who}: seed must be an integer, got ${String(o.seed)}`);
  if (dModel % c.heads !== 0) throw new HeedError(`${who}: heads (${c.heads}) must divide dModel (${dModel})`);
  if (c.layers > MAX_LAYERS) throw new HeedError(`${who}: layers must be at most ${MAX_LAYERS}, got ${c.layers}`);
  const d = dModel, F = c.ffDim;
  const params = (vocabSize + c.maxLen) * d + c.layers * (4 * d * d + 4 * d + 2 * F * d + F + d + 4 * d) + 2 * d + (c.tieEmbeddings ? 0 : vocabSize * d);
  if (!isPlannable(params)) {
    throw new HeedError(`${who}: vocabSize ${vocabSize}, maxLen ${c.maxLen}, dModel ${d}, ffDim ${F} and layers ${c.layers} ` +
      `make ${params} parameters, more than one block can hold (${MAX_ELEMENTS})`);
  }
  return c;
}

/** The layers of a decoder, kept by name for the KV cache (src/nn/kv-cache.ts), which runs them
 *  step by step over its own buffers. */
export interface DecoderLayers { wte: Embedding; wpe: Positions; blocks: EncoderBlock[]; lnF: LayerNorm; head: Linear | null }

/** nanoGPT's Block: ln_1, attn.c_attn + attn.c_proj (causal), ln_2, mlp.c_fc + mlp.c_proj; every
 *  Linear N(0, 0.02) with a zero bias, the two projections back into the residual stream
 *  N(0, 0.02/√(2·layers)) (nanoGPT's _init_weights). */
function gptBlock(c: DecoderConfig) {
  const d = c.dModel, init = { weightInit: { normal: 0.02 }, biasInit: { constant: 0 } };
  const proj = { weightInit: { normal: 0.02 / Math.sqrt(2 * c.layers) }, biasInit: { constant: 0 } };
  return (ps: Params, p: string): BlockParts => ({
    norm1: new LayerNorm(ps, `${p}ln_1`, d),
    attn: new MultiHeadAttention(ps, `${p}attn`, d, c.heads, { layout: 'packed', inProj: `${p}attn.c_attn`, out: `${p}attn.c_proj`, init, outInit: proj }, true),
    norm2: new LayerNorm(ps, `${p}ln_2`, d),
    ff: new FeedForward(ps, new Linear(ps, `${p}mlp.c_fc`, d, c.ffDim, init), new Linear(ps, `${p}mlp.c_proj`, c.ffDim, d, proj), c.gelu),
  });
}

/** Registered in nanoGPT's order: wte, wpe, the blocks, ln_f, then lm_head when untied. */
export function decoderLayers(ps: Params, c: DecoderConfig): DecoderLayers {
  const d = c.dModel, init = { normal: 0.02 };
  const wte = new Embedding(ps, 'transformer.wte', c.vocabSize, d, init);
  const wpe = new Positions(ps, 'transformer.wpe', c.maxLen, d, init);
  const names = gptBlock(c);
  const blocks = Array.from({ length: c.layers }, (_, i) => new EncoderBlock(ps, `transformer.h.${i}`, { d, heads: c.heads, ffDim: c.ffDim, norm: 'pre', names }));
  const lnF = new LayerNorm(ps, 'transformer.ln_f', d);
  const head = c.tieEmbeddings ? null : new Linear(ps, 'lm_head', d, c.vocabSize, { bias: false, weightInit: init });
  return { wte, wpe, blocks, lnF, head };
}

/** The DecoderLayers of a model built by this family (what build returned them as). */
export const layersOf = new WeakMap<Net, DecoderLayers>();

export const decoderFamily: Family<DecoderConfig> = {
  kind: 'decoder',
  factory: 'causalLM',
  target: 'token',
  config: (o) => decoderConfig(o as DecoderOptions),
  build(ps, c): Net {
    const l = decoderLayers(ps, c);
    const head = l.head ? new Dense(l.head) : new TiedHead(ps, l.wte);
    const root = new Sequential([new Embed(ps, l.wte, l.wpe), ...l.blocks, new Norm(l.lnF), head]);
    const net: Net = {
      root,
      features: () => root.outputOf(l.blocks.length + 1),
      maxLen: c.maxLen,
      attention: blockAttention(l.blocks, c.heads),
      attentionList: true,
    };
    layersOf.set(net, l);
    return net;
  },
};
