// The forward ops, bound to a context: what heed/infer's context exposes as `ops` (no backward
// passes, losses or optimizer update; the full library's context has every op, see index.ts).
import type { InferenceContext as Context } from '../inference-context.js';
import type { Tensor } from '../tensor.js';
import { attention, attentionWeights, type AttentionOptions } from './attention.js';
import { gelu, type GeluOptions } from './gelu.js';
import { layerNorm } from './layernorm.js';
import { matmul, type MatmulOptions } from './matmul.js';
import { softmax } from './softmax.js';
import { tanh } from './tanh.js';

export function bindInferenceOps(ctx: Context) {
  return {
    matmul: (a: Tensor, b: Tensor, options?: MatmulOptions) => matmul(ctx, a, b, options),
    softmax: (x: Tensor) => softmax(ctx, x),
    attention: (q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions) => attention(ctx, q, k, v, options),
    attentionWeights: (q: Tensor, k: Tensor, options?: AttentionOptions) => attentionWeights(ctx, q, k, options),
    layerNorm: (x: Tensor, gamma: Tensor, beta: Tensor, eps?: number) => layerNorm(ctx, x, gamma, beta, eps),
    gelu: (x: Tensor, options?: GeluOptions) => gelu(ctx, x, options),
    tanh: (x: Tensor) => tanh(ctx, x),
  };
}

/** heed/infer's `ops`: the forward subset of the full library's Ops. */
export type InferenceOps = ReturnType<typeof bindInferenceOps>;
