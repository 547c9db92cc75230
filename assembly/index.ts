// heed's WebAssembly ABI: the runtime (memory, alloc/free) and every kernel. Kernels are stateless
// functions over byte pointers into linear memory; src/backends/kernels.ts mirrors this list.
export { alloc, free, fill_zero, copy_bytes, simd_build } from "./memory";
export { matmul_forward } from "./kernels/matmul";
export { softmax_forward, softmax_backward } from "./kernels/softmax";
export { attention_forward, attention_backward, attention_probs } from "./kernels/attention";
export { split_heads_forward, split_heads_backward, merge_heads_forward, merge_heads_backward } from "./kernels/layout";
export { layernorm_forward, layernorm_backward } from "./kernels/layernorm";
export { gelu_forward, gelu_backward, gelu_erf_forward, gelu_erf_backward } from "./kernels/gelu";
export { tanh_forward, tanh_backward } from "./kernels/tanh";
export {
  embedding_forward, embedding_backward, bias_forward, bias_backward,
  mean_pool_forward, mean_pool_backward, token_mask, add_forward,
} from "./kernels/embed";
export { cross_entropy, bce_with_logits } from "./kernels/loss";
export { cross_entropy_ignore_index, mse_loss } from "./kernels/loss";
export { adamw, sum_squares, scale } from "./kernels/adamw";
