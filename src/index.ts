import type { BackendName } from './backends/backend.js';
import { jsBackend } from './backends/js.js';
import { compiledModule, hostFeatures, wasmBackend } from './backends/wasm.js';
import { Context } from './context.js';
import { HeedError } from './errors.js';

export { HeedError } from './errors.js';
export { Tensor } from './tensor.js';
export type { Context } from './context.js';
export type { BackendName } from './backends/backend.js';
export type { Features } from './backends/wasm.js';
export type { Ops } from './ops/index.js';
export type { TransformerClassifier, TransformerOptions } from './nn/transformer.js';
export type { AttentionPoolingClassifier, PoolingOptions } from './nn/pooling.js';
export type { Model, ModelConfig, TransformerConfig, PoolingConfig, StateDict, ForwardOptions } from './nn/model.js';
export type { AdamwOptimizer, AdamwOptimizerOptions } from './nn/optim.js';
export type { LoadedModel, ModelFileExtras } from './io/model-file.js';
export type { FitOptions, FitRun, FitResult, FitData, ModelOptions } from './train/fit.js';
export type { StepInfo, EpochInfo, TrainResult, Schedule } from './train/loop.js';
export { decodeSafetensors, encodeSafetensors } from './io/safetensors.js';

export interface InitOptions {
  /** 'wasm' (SIMD), 'wasm-scalar' or 'js'. Without it: 'wasm' where the host validates SIMD,
   *  else 'wasm-scalar'. A backend asked for by name is that backend or a HeedError. */
  backend?: BackendName;
  /** A WebAssembly.Module the platform compiled from heed's simd.wasm or scalar.wasm (edge runtimes
   *  that forbid compiling from bytes). */
  module?: WebAssembly.Module;
  /** A cap, in MiB (2^20 bytes), on the memory heed allocates in this context: tensors, model
   *  parameters and gradients, optimizer state, activation arenas and scratch. A request that would
   *  go over it throws a HeedError naming the request and the cap, allocates nothing, and leaves the
   *  context usable. Without it the only bound is the backend's (4 GiB of wasm32 linear memory).
   *  The WebAssembly memory itself can be larger than the bytes allocated by the allocator's
   *  overhead and growth step. */
  maxMemoryMB?: number;
}

const BACKENDS: readonly BackendName[] = ['wasm', 'wasm-scalar', 'js'];

/** Creates a heed context: one backend with its own memory and tensors. */
export async function init(options: InitOptions = {}): Promise<Context> {
  if (options === null || typeof options !== 'object') throw new HeedError(`init: options must be an object, got ${String(options)}`);
  const { backend, module, maxMemoryMB } = options;
  if (backend !== undefined && !BACKENDS.includes(backend)) {
    throw new HeedError(`init: unknown backend '${String(backend)}' (expected one of ${BACKENDS.join(', ')})`);
  }
  if (maxMemoryMB !== undefined && (typeof maxMemoryMB !== 'number' || !Number.isFinite(maxMemoryMB) || maxMemoryMB <= 0)) {
    throw new HeedError(`init: maxMemoryMB must be a positive number of MiB, got ${typeof maxMemoryMB === 'string' ? JSON.stringify(maxMemoryMB) : String(maxMemoryMB)}`);
  }
  const cap = maxMemoryMB === undefined ? undefined : Math.floor(maxMemoryMB * 2 ** 20);
  const features = hostFeatures();
  if (module !== undefined) {
    if (!(module instanceof WebAssembly.Module)) throw new HeedError('init: module must be a WebAssembly.Module');
    if (backend === 'js') throw new HeedError("init: a module was given but backend 'js' asked for");
    return new Context(await wasmBackend(module, backend), features, cap);
  }
  if (backend === 'js') return new Context(jsBackend(), features, cap);
  if (backend === 'wasm' && !features.simd) {
    throw new HeedError("init: backend 'wasm' needs WebAssembly SIMD, which this host does not support (use 'wasm-scalar')");
  }
  const name = backend ?? (features.simd ? 'wasm' : 'wasm-scalar');
  return new Context(await wasmBackend(await compiledModule(name), name), features, cap);
}
