// The kernel ABI: one method per AssemblyScript export in assembly/kernels/*, in the same order
// and with the same argument order (outputs, inputs, dims, scalars). `F` is a float buffer (a
// byte pointer into linear memory for wasm, a Float32Array for the js reference) and `I` an int32
// buffer (tokens, labels). Both the wasm exports and src/ref/ must satisfy this interface; the
// parity test in test/kernels.test.ts checks that the three backends expose exactly these names.
//
// Conventions: backward kernels ACCUMULATE (+=) into every gradient output and the caller zeroes
// them; forward kernels overwrite their outputs. Flags are 0/1 integers.

export interface Kernels<F, I> {
  // matmul.ts
  /** c[b] (=|+=) op(a[b]) · op(b[b]) for b < batch. op(a) is [M,K] (stored [K,M] if transA),
   *  op(b) is [K,N] (stored [N,K] if transB). strideB is the batch stride of b in elements
   *  (0: one b shared by every batch). accumulate 1 adds into c instead of overwriting it. */
  matmul_forward(c: F, a: F, b: F, batch: number, M: number, N: number, K: number,
                 transA: number, transB: number, strideB: number, accumulate: number): void;

  // softmax.ts
  /** y = softmax(x) over rows of length C; x, y [N,C]. */
  softmax_forward(y: F, x: F, N: number, C: number): void;
  /** dx += y ⊙ (dy − Σ y⊙dy) per row. */
  softmax_backward(dx: F, y: F, dy: F, N: number, C: number): void;

  // attention.ts
  /** out [B,H,T,D] = softmax(q·kᵀ·scale + masks)·v; q [B,H,T,D]; mask [B,S] (read only when
   *  useMask: 0 = padding); lse [B,H,T] receives each row's log-sum-exp (+Infinity for a row whose
   *  keys are all masked: its output is zeros). k, v: B·H blocks of S rows of D, block bh at
   *  element bh·kvStride; kvStride is always explicit and ≥ S·D (S·D: contiguous [B,H,S,D];
   *  Smax·D: the first S keys of a cache [B,H,Smax,D], read in place). causal: query t sits at
   *  position t + qOffset (an integer ≥ 0) and sees keys 0..min(S, t + qOffset + 1) − 1; qOffset 0
   *  is top-left (torch's is_causal), S − T bottom-right (a KV cache). */
  attention_forward(out: F, lse: F, q: F, k: F, v: F, mask: F, useMask: number,
                    B: number, H: number, T: number, S: number, D: number,
                    scale: number, causal: number, qOffset: number, kvStride: number): void;
  /** Accumulates dq [B,H,T,D] and dk, dv (laid out as k and v, through the same kvStride) given
   *  dout and the forward's out and lse (probabilities recomputed). */
  attention_backward(dq: F, dk: F, dv: F, q: F, k: F, v: F, out: F, lse: F, dout: F,
                     mask: F, useMask: number, B: number, H: number, T: number, S: number, D: number,
                     scale: number, causal: number, qOffset: number, kvStride: number): void;
  /** p [B,H,T,S] = the attention weights themselves (for inspection; never used in training);
   *  k, qOffset and kvStride as in attention_forward. */
  attention_probs(p: F, q: F, k: F, mask: F, useMask: number,
                  B: number, H: number, T: number, S: number, D: number,
                  scale: number, causal: number, qOffset: number, kvStride: number): void;

  // layout.ts
  /** q, k, v [B,H,T,D] ← qkv [B,T,3,H,D] (the QKV projection's rows: q heads, k heads, v heads). */
  split_heads_forward(q: F, k: F, v: F, qkv: F, B: number, T: number, H: number, D: number): void;
  /** dqkv [B,T,3,H,D] += dq, dk, dv [B,H,T,D]. */
  split_heads_backward(dqkv: F, dq: F, dk: F, dv: F, B: number, T: number, H: number, D: number): void;
  /** y [B,T,H,D] ← x [B,H,T,D]. */
  merge_heads_forward(y: F, x: F, B: number, T: number, H: number, D: number): void;
  /** dx [B,H,T,D] += dy [B,T,H,D]. */
  merge_heads_backward(dx: F, dy: F, B: number, T: number, H: number, D: number): void;

  // layernorm.ts
  /** y = (x − mean)·rstd·gamma + beta over rows; x, y [N,C]; gamma, beta [C]. */
  layernorm_forward(y: F, x: F, gamma: F, beta: F, N: number, C: number, eps: number): void;
  layernorm_backward(dx: F, dgamma: F, dbeta: F, dy: F, x: F, gamma: F,
                     N: number, C: number, eps: number): void;

  // gelu.ts
  /** y = 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) elementwise over n. */
  gelu_forward(y: F, x: F, n: number): void;
  gelu_backward(dx: F, x: F, dy: F, n: number): void;
  gelu_erf_forward(y: F, x: F, n: number): void;
  gelu_erf_backward(dx: F, x: F, dy: F, n: number): void;

  // tanh.ts
  /** y = tanh(x) elementwise over n (y may alias x). */
  tanh_forward(y: F, x: F, n: number): void;
  /** dx += dy·(1 − y²) from the forward's output y, over n. */
  tanh_backward(dx: F, y: F, dy: F, n: number): void;

  // embed.ts
  /** out[n,:] = weight[tokens[n],:]; out [N,C], weight [V,C], tokens [N]. */
  embedding_forward(out: F, tokens: I, weight: F, N: number, C: number): void;
  /** dweight[tokens[n],:] += dout[n,:]. */
  embedding_backward(dweight: F, tokens: I, dout: F, N: number, C: number): void;
  /** y[n,:] += bias for n < N; y [N,C], bias [C]. In place. */
  bias_forward(y: F, bias: F, N: number, C: number): void;
  /** dbias += Σₙ dy[n,:]. */
  bias_backward(dbias: F, dy: F, N: number, C: number): void;
  /** out[b,:] = mean of x[b,t,:] over t with tokens[b,t] ≠ 0 (zeros when there is none);
   *  x [B,T,C], tokens [B,T], out [B,C]. */
  mean_pool_forward(out: F, x: F, tokens: I, B: number, T: number, C: number): void;
  mean_pool_backward(dx: F, dout: F, tokens: I, B: number, T: number, C: number): void;
  /** mask[b,t] = tokens[b,t] ≠ 0 ? 1 : 0 over n elements. */
  token_mask(mask: F, tokens: I, n: number): void;
  /** y = a + b elementwise over n (y may alias a or b). */
  add_forward(y: F, a: F, b: F, n: number): void;

  // loss.ts
  /** Mean softmax cross-entropy of logits [N,C] against labels [N]; writes dlogits (= its
   *  gradient, not accumulated) and returns the mean loss. */
  cross_entropy(dlogits: F, logits: F, labels: I, N: number, C: number): number;
  /** Mean binary cross-entropy with logits [N] against targets [N] in {0,1} (any real in [0,1]
   *  works); writes dlogits and returns the mean loss. */
  bce_with_logits(dlogits: F, logits: F, targets: F, N: number): number;
  /** cross_entropy where rows labelled ignoreIndex (any int32) add no loss and get dlogits = 0;
   *  the mean is over the other rows; all rows ignored gives 0 (PyTorch: NaN). */
  cross_entropy_ignore_index(dlogits: F, logits: F, labels: I, N: number, C: number, ignoreIndex: number): number;
  /** Mean squared error of x [N] against targets [N]; writes dx = 2(x − t)/N, returns the mean. */
  mse_loss(dx: F, x: F, targets: F, N: number): number;

  // adamw.ts
  /** torch.optim.AdamW step over n parameters in place (param, m = exp_avg, v = exp_avg_sq). */
  adamw(param: F, grad: F, m: F, v: F, n: number, lr: number, beta1: number, beta2: number,
        eps: number, weightDecay: number, step: number): void;
  /** Σ x² over n (as f64); NaN or Infinity when any element is not finite. */
  sum_squares(x: F, n: number): number;
  /** x *= s over n, in place. */
  scale(x: F, n: number, s: number): void;
}

/** Names of every kernel, in ABI order: the parity test compares all three backends against it. */
export const KERNEL_NAMES = [
  'matmul_forward',
  'softmax_forward', 'softmax_backward',
  'attention_forward', 'attention_backward', 'attention_probs',
  'split_heads_forward', 'split_heads_backward', 'merge_heads_forward', 'merge_heads_backward',
  'layernorm_forward', 'layernorm_backward',
  'gelu_forward', 'gelu_backward', 'gelu_erf_forward', 'gelu_erf_backward',
  'tanh_forward', 'tanh_backward',
  'embedding_forward', 'embedding_backward', 'bias_forward', 'bias_backward',
  'mean_pool_forward', 'mean_pool_backward', 'token_mask', 'add_forward',
  'cross_entropy', 'bce_with_logits',
  'cross_entropy_ignore_index', 'mse_loss',
  'adamw', 'sum_squares', 'scale',
] as const satisfies readonly (keyof Kernels<unknown, unknown>)[];

// Compile-time check that KERNEL_NAMES lists every method of Kernels.
type Unlisted = Exclude<keyof Kernels<unknown, unknown>, (typeof KERNEL_NAMES)[number]>;
export const ALL_KERNELS_LISTED: Unlisted extends never ? true : never = true;

/** Exports of the wasm binary that are runtime, not kernels. */
export const RUNTIME_EXPORTS = ['memory', 'alloc', 'free', 'fill_zero', 'copy_bytes', 'simd_build'] as const;
