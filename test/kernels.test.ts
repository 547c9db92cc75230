// The three backends expose exactly the same kernel set, and the scalar binary holds no SIMD.
import { readFileSync } from 'node:fs';
import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import { KERNEL_NAMES, RUNTIME_EXPORTS } from '../src/backends/kernels.js';
import * as ref from '../src/ref/index.js';

const wasmFile = (name: string) => new Uint8Array(readFileSync(new URL(`../build/${name}.wasm`, import.meta.url)));
const exportNames = (bytes: Uint8Array<ArrayBuffer>) => WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);

describe('kernel parity', () => {
  const listed = [...KERNEL_NAMES].sort();
  it('the js reference exports exactly the kernels of the ABI', () => {
    expect(Object.keys(ref).sort()).toEqual(listed);
  });
  it.each(['simd', 'scalar'])('the %s binary exports exactly the kernels of the ABI plus the runtime', (name) => {
    const names = exportNames(wasmFile(name));
    expect(names.filter((n) => !(RUNTIME_EXPORTS as readonly string[]).includes(n)).sort()).toEqual(listed);
    expect(names).toEqual(expect.arrayContaining([...RUNTIME_EXPORTS]));
  });
  it('kernels take the same number of arguments on wasm and js', () => {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(wasmFile('simd')), {
      env: { abort: () => { throw new Error('abort'); } },
    });
    for (const k of KERNEL_NAMES) {
      expect((inst.exports[k] as (...a: unknown[]) => unknown).length, k).toBe((ref as Record<string, (...a: unknown[]) => unknown>)[k].length);
    }
  });
});

describe('the two builds', () => {
  // binaryen (the optimizer asc uses) validates a module against an explicit feature set.
  function validWithoutSimd(bytes: Uint8Array<ArrayBuffer>): boolean {
    const m = binaryen.readBinary(bytes);
    try {
      m.setFeatures(binaryen.Features.All & ~binaryen.Features.SIMD128 & ~binaryen.Features.RelaxedSIMD);
      const log = console.error; // binaryen prints its validation report; keep the test output clean
      console.error = () => {};
      try { return m.validate() === 1; } finally { console.error = log; }
    } finally {
      m.dispose();
    }
  }
  it('scalar.wasm validates with SIMD disabled: it contains no SIMD instruction', () => {
    expect(validWithoutSimd(wasmFile('scalar'))).toBe(true);
  });
  it('simd.wasm does not: it really uses SIMD', () => {
    expect(validWithoutSimd(wasmFile('simd'))).toBe(false);
  });
});
