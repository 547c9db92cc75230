// init() for both entries: option checks, backend choice, the compiled module cache. heed's init
// builds a full Context from the inlined wasm, heed/infer's an InferenceContext from the .wasm
// files; everything else is the same. The js backend (the JS oracle of every kernel) is imported
// only when asked for.
import type { Backend, BackendName } from './backends/backend.js';
import { compiledModule, hostFeatures, wasmBackend, type Features, type WasmSource } from './backends/wasm.js';
import { HeedError } from './errors.js';

export interface InitOptions {
  /** 'wasm-relaxed' (SIMD with fused multiply-add), 'wasm' (SIMD), 'wasm-scalar' or 'js'. Without
   *  it: 'wasm-relaxed' where the host validates that build, else 'wasm' where it validates SIMD,
   *  else 'wasm-scalar'. A backend asked for by name is that backend or a HeedError. */
  backend?: BackendName;
  /** A WebAssembly.Module the platform compiled from heed's relaxed.wasm, simd.wasm or scalar.wasm
   *  (edge runtimes that forbid compiling from bytes). */
  module?: WebAssembly.Module;
  /** A cap, in MiB (2^20 bytes), on the memory heed allocates in this context: tensors, model
   *  parameters and gradients, optimizer state, activation arenas and scratch. A request that would
   *  go over it throws a HeedError naming the request and the cap, allocates nothing, and leaves the
   *  context usable. Without it the only bound is the backend's (4 GiB of wasm32 linear memory).
   *  The WebAssembly memory itself can be larger than the bytes allocated by the allocator's
   *  overhead and growth step. */
  maxMemoryMB?: number;
}

const BACKENDS: readonly BackendName[] = ['wasm-relaxed', 'wasm', 'wasm-scalar', 'js'];

/** @internal validates `options`, makes the backend they ask for (a wasm build from `source` unless
 *  a module is given) and hands it to `make`. */
export async function initWith<C>(options: InitOptions, source: WasmSource, make: (be: Backend, features: Features, maxMemoryBytes?: number) => C): Promise<C> {
  if (options === null || typeof options !== 'object') throw new HeedError(`init: options must be an object, got ${String(options)}`);
  const { backend, module, maxMemoryMB } = options;
  if (backend !== undefined && !BACKENDS.includes(backend)) {
    throw new HeedError(`init: unknown backend '${String(backend)}' (expected one of ${BACKENDS.join(', ')})`);
  }
  if (maxMemoryMB !== undefined && (typeof maxMemoryMB !== 'number' || !Number.isFinite(maxMemoryMB) || maxMemoryMB <= 0)) {
    throw new HeedError(`init: maxMemoryMB must be a positive number of MiB, got ${typeof maxMemoryMB === 'string' ? JSON.stringify(maxMemoryMB) : String(maxMemoryMB)}`);
  }
  const cap = maxMemoryMB === undefined ? undefined : Math.floor(maxMemoryMB * 2 ** 20);
  const features = hostFeatures(source);
  if (module !== undefined) {
    if (!(module instanceof WebAssembly.Module)) throw new HeedError('init: module must be a WebAssembly.Module');
    if (backend === 'js') throw new HeedError("init: a module was given but backend 'js' asked for");
    return make(await wasmBackend(module, backend), features, cap);
  }
  if (backend === 'js') return make((await import('./backends/js.js')).jsBackend(), features, cap);
  if (backend === 'wasm' && !features.simd) {
    throw new HeedError("init: backend 'wasm' needs WebAssembly SIMD, which this host does not support (use 'wasm-scalar')");
  }
  if (backend === 'wasm-relaxed' && !features.relaxedSimd) {
    throw new HeedError("init: backend 'wasm-relaxed' needs WebAssembly relaxed SIMD, which this host does not support " +
      "(Node 20 has it behind --experimental-wasm-relaxed-simd; use 'wasm')");
  }
  if (backend === undefined && features.relaxedSimd) {
    try {
      return make(await wasmBackend(await compiledModule('wasm-relaxed', source), 'wasm-relaxed'), features, cap);
    } catch (e) {
      // Only where the relaxed build came from a file was the probe one instruction, not the build:
      // a host that refuses the build itself gets the SIMD one. Anything else is a real failure.
      if (!(e instanceof HeedError && e.cause instanceof WebAssembly.CompileError) || source.relaxedBytes()) throw e;
      features.relaxedSimd = false;
    }
  }
  const name = backend ?? (features.simd ? 'wasm' : 'wasm-scalar');
  return make(await wasmBackend(await compiledModule(name, source), name), features, cap);
}
