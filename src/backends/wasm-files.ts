// heed/infer's wasm source: the .wasm files beside the code, not inlined (base64 would make the
// edge entry twice as large, and edge runtimes cannot compile bytes anyway: they pass
// init({ module })). Node reads the file; everything else fetches it, compiling while it streams
// where the server sends application/wasm. The URLs are literal `new URL('…', import.meta.url)`
// expressions, the form bundlers (rollup here, webpack, Vite) recognise as assets: from src/ and
// dist/ they point at build/*.wasm, and rollup.config.mjs points the bundle's at its own copies.
import { HeedError } from '../errors.js';
import type { WasmBuild, WasmSource } from './wasm.js';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** The file a build is in. */
const fileOf = (name: WasmBuild) => (name === 'wasm' ? 'simd' : name === 'wasm-relaxed' ? 'relaxed' : 'scalar');

/** The file's URL, made only when needed: some runtimes have no usable import.meta.url. */
function urlOf(name: WasmBuild): URL {
  try {
    return name === 'wasm' ? new URL('../../build/simd.wasm', import.meta.url)
      : name === 'wasm-relaxed' ? new URL('../../build/relaxed.wasm', import.meta.url)
      : new URL('../../build/scalar.wasm', import.meta.url);
  } catch (e) {
    throw new HeedError(`init: cannot locate heed's ${fileOf(name)}.wasm here (${e instanceof Error ? e.message : String(e)}); ` +
      `import heed/wasm/${fileOf(name)}.wasm as a WebAssembly.Module and pass init({ module })`, { cause: e });
  }
}

async function compileFrom(url: URL): Promise<WebAssembly.Module> {
  if (isNode && url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return WebAssembly.compile(await readFile(url));
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  if (typeof WebAssembly.compileStreaming === 'function' && /^application\/wasm\b/i.test(res.headers.get('content-type') ?? '')) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

export const wasmFiles: WasmSource = {
  simdBytes: () => null,
  relaxedBytes: () => null,
  async compile(name: WasmBuild) {
    const url = urlOf(name);
    try {
      return await compileFrom(url);
    } catch (e) {
      throw new HeedError(`init: could not load heed's WebAssembly from ${url.href}: ${e instanceof Error ? e.message : String(e)} ` +
        `(where files cannot be read or fetched, pass init({ module }) with a module compiled from heed/wasm/${fileOf(name)}.wasm)`, { cause: e });
    }
  },
};
