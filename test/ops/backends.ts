// The wasm builds the parity tests compare with js. 'wasm-relaxed' joins wherever the host
// validates relaxed.wasm itself (Node 22+, current browsers). Node 20 validates it only behind
// --experimental-wasm-relaxed-simd, so there vitest.config.ts runs test/ops a second time in a
// 'relaxed' project with that flag and HEED_TEST_BACKENDS=wasm-relaxed (the plain builds are not
// compared twice); a host without it fails that project rather than skipping the build.
import { readFileSync } from 'node:fs';

export type WasmBackendName = 'wasm' | 'wasm-scalar' | 'wasm-relaxed';

/** Whether this process's host validates the relaxed-SIMD build. */
export const RELAXED_HERE = WebAssembly.validate(readFileSync(new URL('../../build/relaxed.wasm', import.meta.url)));

export const WASM_BACKENDS: readonly WasmBackendName[] = process.env.HEED_TEST_BACKENDS
  ? (process.env.HEED_TEST_BACKENDS.split(',') as WasmBackendName[])
  : RELAXED_HERE ? ['wasm', 'wasm-scalar', 'wasm-relaxed'] : ['wasm', 'wasm-scalar'];

/** js first, then the wasm builds. */
export const ALL_BACKENDS: readonly ('js' | WasmBackendName)[] = ['js', ...WASM_BACKENDS];
