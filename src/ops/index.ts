// heed.ops: every public op bound to its context (one line per op). The op files validate
// arguments, allocate outputs and make one kernel call.
import type { InferenceContext as Context } from '../inference-context.js';
import type { Tensor } from '../tensor.js';
import { adamw, type AdamwOptions } from './adamw.js';
import { attention, attentionBackward, attentionWeights, attentionWithLse, type AttentionOptions, type AttentionSaved } from './attention.js';
import { gelu, geluBackward, type GeluOptions } from './gelu.js';
import { layerNorm, layerNormBackward } from './layernorm.js';
import { bceWithLogits, crossEntropy } from './loss.js';
import { crossEntropyIgnoreIndex, mseLoss } from './loss.js';
import { matmul, type MatmulOptions } from './matmul.js';
import { softmax, softmaxBackward } from './softmax.js';
import { tanh, tanhBackward } from './tanh.js';

export type { AdamwOptions, AttentionOptions, GeluOptions, MatmulOptions };

export function bindOps(ctx: Context) {
  return {
    matmul: (a: Tensor, b: Tensor, options?: MatmulOptions) => matmul(ctx, a, b, options),
    softmax: (x: Tensor) => softmax(ctx, x),
    softmaxBackward: (y: Tensor, dy: Tensor) => softmaxBackward(ctx, y, dy),
    attention: (q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions) => attention(ctx, q, k, v, options),
    attentionWithLse: (q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions) => attentionWithLse(ctx, q, k, v, options),
    attentionBackward: (q: Tensor, k: Tensor, v: Tensor, dout: Tensor, options?: AttentionOptions & { saved?: AttentionSaved }) =>
      attentionBackward(ctx, q, k, v, dout, options),
    attentionWeights: (q: Tensor, k: Tensor, options?: AttentionOptions) => attentionWeights(ctx, q, k, options),
    layerNorm: (x: Tensor, gamma: Tensor, beta: Tensor, eps?: number) => layerNorm(ctx, x, gamma, beta, eps),
    layerNormBackward: (x: Tensor, gamma: Tensor, dy: Tensor, eps?: number) => layerNormBackward(ctx, x, gamma, dy, eps),
    gelu: (x: Tensor, options?: GeluOptions) => gelu(ctx, x, options),
    geluBackward: (x: Tensor, dy: Tensor, options?: GeluOptions) => geluBackward(ctx, x, dy, options),
    tanh: (x: Tensor) => tanh(ctx, x),
    tanhBackward: (y: Tensor, dy: Tensor) => tanhBackward(ctx, y, dy),
    crossEntropy: (logits: Tensor, labels: Int32Array | ArrayLike<number>) => crossEntropy(ctx, logits, labels),
    bceWithLogits: (logits: Tensor, targets: Float32Array | ArrayLike<number>) => bceWithLogits(ctx, logits, targets),
    adamw: (param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamwOptions) => adamw(ctx, param, grad, m, v, options),
    crossEntropyIgnoreIndex: (logits: Tensor, labels: Int32Array | ArrayLike<number>, ignoreIndex?: number) =>
      crossEntropyIgnoreIndex(ctx, logits, labels, ignoreIndex),
    mseLoss: (x: Tensor, targets: Float32Array | ArrayLike<number>) => mseLoss(ctx, x, targets),
  };
}

/** `heed.ops`: every public op, bound to its context. Each op's signature is listed under
 *  `Context`'s `ops` property; shapes and semantics are in the README's Ops table. */
export type Ops = ReturnType<typeof bindOps>;
