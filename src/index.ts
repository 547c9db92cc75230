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
}

const BACKENDS: readonly BackendName[] = ['wasm', 'wasm-scalar', 'js'];

/** Creates a heed context: one backend with its own memory and tensors. */
export async function init(options: InitOptions = {}): Promise<Context> {
  if (options === null || typeof options !== 'object') throw new HeedError(`init: options must be an object, got ${String(options)}`);
  const { backend, module } = options;
  if (backend !== undefined && !BACKENDS.includes(backend)) {
    throw new HeedError(`init: unknown backend '${String(backend)}' (expected one of ${BACKENDS.join(', ')})`);
  }
  const features = hostFeatures();
  if (module !== undefined) {
    if (!(module instanceof WebAssembly.Module)) throw new HeedError('init: module must be a WebAssembly.Module');
    if (backend === 'js') throw new HeedError("init: a module was given but backend 'js' asked for");
    return new Context(await wasmBackend(module, backend), features);
  }
  if (backend === 'js') return new Context(jsBackend(), features);
  if (backend === 'wasm' && !features.simd) {
    throw new HeedError("init: backend 'wasm' needs WebAssembly SIMD, which this host does not support (use 'wasm-scalar')");
  }
  const name = backend ?? (features.simd ? 'wasm' : 'wasm-scalar');
  return new Context(await wasmBackend(await compiledModule(name), name), features);
}
