// Text generation with a causalLM: prefill the prompt through a KV cache, then sample one token per
// row per step, attending over the cached keys and values (nothing of the prefix is recomputed).
import { Model, type DecoderConfig } from './nn/model.js';

/** A decoder-only language model (ctx.causalLM): logits [B, T, vocabSize], trained against the
 *  next token's id at every position (-100: none). */
export class CausalLM extends Model<DecoderConfig> {}
