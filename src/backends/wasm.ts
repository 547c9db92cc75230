import { instantiate } from '@assemblyscript/loader';
import { HeedError } from '../errors.js';
import { DTYPE_ARRAY, DTYPE_BYTES, DTYPES, elementShorthands, type AnyBuf, type Backend, type BackendName, type DType, type DTypeArrays } from './backend.js';
import { checkAligned, checkBytes, checkView } from './bytes.js';
import { KERNEL_NAMES, type Kernels } from './kernels.js';

// Feature probes: the smallest modules that use each feature. SIMD and relaxed SIMD are probed with
// the real binaries where they are at hand (inlined), else with the smallest module using one
// instruction of the feature (i8x16.popcnt, from the final SIMD spec; i8x16.relaxed_swizzle). A host
// can accept one relaxed instruction and not another, so where the relaxed build comes from a file,
// compiling it is the final probe (initWith falls back to 'wasm' when that fails).
const SIMD_PROBE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11];
const RELAXED_SIMD_PROBE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 15, 1, 13, 0, 65, 1,
  253, 15, 65, 2, 253, 15, 253, 128, 2, 11];
const THREADS_PROBE = [0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65,
  0, 254, 16, 2, 0, 26, 11];

export interface Features { simd: boolean; relaxedSimd: boolean; threads: boolean }

export type WasmBuild = 'wasm-relaxed' | 'wasm' | 'wasm-scalar';

/** Where the three builds come from: base64 inlined in the code (heed: wasm-inline.ts) or the .wasm
 *  files beside it, read or fetched (heed/infer: wasm-files.ts). */
export interface WasmSource {
  /** The SIMD build's bytes when the source holds them already (the best SIMD probe), else null. */
  simdBytes(): Uint8Array<ArrayBuffer> | null;
  /** The relaxed-SIMD build's bytes when the source holds them already, else null. */
  relaxedBytes(): Uint8Array<ArrayBuffer> | null;
  /** Compiles a build (a HeedError when it cannot be had). */
  compile(name: WasmBuild): Promise<WebAssembly.Module>;
}

let features: Features | undefined;

/** What the host offers; probed once per process. */
export function hostFeatures(source?: WasmSource): Features {
  if (!features) {
    features = {
      simd: WebAssembly.validate(source?.simdBytes() ?? new Uint8Array(SIMD_PROBE)),
      relaxedSimd: WebAssembly.validate(source?.relaxedBytes() ?? new Uint8Array(RELAXED_SIMD_PROBE)),
      threads: typeof SharedArrayBuffer !== 'undefined' && WebAssembly.validate(new Uint8Array(THREADS_PROBE)),
    };
  }
  return features;
}

// One compiled Module per build per process, whichever source compiled it; every init()
// instantiates its own.
const modules = new Map<WasmBuild, Promise<WebAssembly.Module>>();

export function compiledModule(name: WasmBuild, source: WasmSource): Promise<WebAssembly.Module> {
  let m = modules.get(name);
  if (!m) {
    m = source.compile(name);
    modules.set(name, m);
    m.catch(() => modules.delete(name));
  }
  return m;
}

interface RawExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  free(ptr: number): void;
  fill_zero(ptr: number, bytes: number): void;
  copy_bytes(dst: number, src: number, bytes: number): void;
  simd_build(): number;
}

/** Turns an AssemblyScript abort or a wasm trap into a HeedError naming the kernel. */
function asHeedError(e: unknown, what: string): HeedError {
  if (e instanceof HeedError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (/out of memory|memory access out of bounds|unreachable|Maximum call stack|could not allocate/i.test(msg) && !msg.startsWith('abort')) {
    return new HeedError(`${what}: WebAssembly trap (${msg}); most likely linear memory is exhausted`, { cause: e });
  }
  return new HeedError(`${what}: ${msg}`, { cause: e });
}

/** Instantiates a wasm backend from a compiled module (ours, or one the platform compiled). */
export async function wasmBackend(module: WebAssembly.Module, expected?: BackendName): Promise<Backend> {
  let raw: RawExports & Record<string, unknown>;
  try {
    raw = (await instantiate(module, {})).exports as unknown as RawExports & Record<string, unknown>;
  } catch (e) {
    throw new HeedError(`could not instantiate the heed WebAssembly module: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  for (const name of [...KERNEL_NAMES, 'alloc', 'free', 'simd_build']) {
    if (typeof raw[name] !== 'function') throw new HeedError(`the WebAssembly module is not heed's: it has no export '${name}'`);
  }
  const build = raw.simd_build();
  const name: BackendName = build === 2 ? 'wasm-relaxed' : build === 1 ? 'wasm' : 'wasm-scalar';
  if (expected && expected !== name) {
    throw new HeedError(`backend '${expected}' was asked for but the module given is the '${name}' build`);
  }
  const memory = raw.memory;
  // Views are re-created whenever memory.grow has replaced the buffer: a stale view reads zeros.
  let buffer: ArrayBuffer | null = null;
  let f32: Float32Array = new Float32Array(0);
  const typed = {} as { [D in DType]: DTypeArrays[D] };
  const views = () => {
    if (memory.buffer !== buffer) {
      buffer = memory.buffer as ArrayBuffer;
      for (const d of DTYPES) (typed as Record<DType, unknown>)[d] = new DTYPE_ARRAY[d](buffer);
      f32 = typed.f32;
    }
  };
  const as = <D extends DType>(dtype: D): DTypeArrays[D] => { views(); return typed[dtype]; };
  const k = {} as Record<string, (...a: number[]) => number>;
  for (const kn of KERNEL_NAMES) {
    const fn = raw[kn] as (...a: number[]) => number;
    k[kn] = (...a: number[]) => {
      try { return fn(...a); } catch (e) { throw asHeedError(e, kn); }
    };
  }
  // Pointers are byte addresses, and the allocator (TLSF) starts every block on 16 bytes, so a
  // pointer of any dtype is an element index times that dtype's size.
  const byteLevel = {
    allocBytes: <D extends DType>(bytes: number, dtype: D): number => {
      checkBytes('allocBytes', bytes, dtype);
      let p: number;
      try { p = raw.alloc(bytes); } catch (e) {
        throw new HeedError(`out of memory: could not allocate ${bytes} bytes of linear memory (${memory.buffer.byteLength} in use)`, { cause: e });
      }
      raw.fill_zero(p, bytes);
      return p;
    },
    view: <D extends DType>(p: AnyBuf, byteOffset: number, bytes: number, dtype: D): number => {
      checkView(byteOffset, bytes, dtype);
      return (p as number) + byteOffset;
    },
    writeAs: <D extends DType>(p: AnyBuf, dtype: D, data: ArrayLike<number>, offset = 0) => {
      checkAligned('writeAs', p as number, dtype);
      as(dtype).set(data, (p as number) / DTYPE_BYTES[dtype] + offset);
    },
    readAs: <D extends DType>(p: AnyBuf, dtype: D, n: number, offset = 0) => {
      checkAligned('readAs', p as number, dtype);
      const s = (p as number) / DTYPE_BYTES[dtype] + offset;
      return as(dtype).slice(s, s + n) as DTypeArrays[D];
    },
    zeroBytes: (p: AnyBuf, bytes: number) => raw.fill_zero(p as number, bytes),
    copyBytes: (d: AnyBuf, s: AnyBuf, bytes: number) => raw.copy_bytes(d as number, s as number, bytes),
  };
  return {
    name,
    k: k as unknown as Kernels<number, number>,
    ...byteLevel,
    ...elementShorthands(byteLevel),
    free: (p) => raw.free(p as number),
    // The f32 paths the models run every step stay direct.
    write: (p, data, offset = 0) => { views(); f32.set(data, ((p as number) >>> 2) + offset); },
    read: (p, n, offset = 0) => { views(); const s = ((p as number) >>> 2) + offset; return f32.slice(s, s + n); },
    readInto: (p, dst, offset = 0) => { views(); const s = ((p as number) >>> 2) + offset; dst.set(f32.subarray(s, s + dst.length)); },
    sub: (p, offset) => (p as number) + offset * 4,
    subInt: (p, offset) => (p as number) + offset * 4,
    reservedBytes: () => memory.buffer.byteLength,
  } satisfies Backend;
}
