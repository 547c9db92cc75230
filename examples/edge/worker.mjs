// Cloudflare Workers entry (wrangler.toml's main): the platform's imports, handed to the handler.
// wrangler compiles `*.wasm` imports to a WebAssembly.Module (the CompiledWasm rule) and gives
// `*.safetensors` imports as an ArrayBuffer (the Data rule in wrangler.toml); both are part of the
// uploaded worker, so nothing is fetched or compiled from bytes at run time.
import wasm from 'heed/wasm/simd.wasm';
import model from './model.safetensors';
import { createHandler } from './handler.mjs';

export default createHandler({ module: wasm, modelBytes: model });
