// The three backends expose exactly the same kernel set, and the scalar binary holds no SIMD.
import { readFileSync } from 'node:fs';
import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import { KERNEL_NAMES, RUNTIME_EXPORTS } from '../src/backends/kernels.js';
import * as ref from '../src/ref/index.js';

const wasmFile = (name: string) => new Uint8Array(readFileSync(new URL(`../build/${name}.wasm`, import.meta.url)));
// Read with binaryen, not WebAssembly.Module: Node 20 compiles relaxed.wasm only behind a flag.
function exportNames(bytes: Uint8Array<ArrayBuffer>): string[] {
  const m = binaryen.readBinary(bytes);
  try {
    return Array.from({ length: m.getNumExports() }, (_, i) => binaryen.getExportInfo(m.getExportByIndex(i)).name);
  } finally { m.dispose(); }
}

describe('kernel parity', () => {
  const listed = [...KERNEL_NAMES].sort();
  it('the js reference exports exactly the kernels of the ABI', () => {
    expect(Object.keys(ref).sort()).toEqual(listed);
  });
  it.each(['relaxed', 'simd', 'scalar'])('the %s binary exports exactly the kernels of the ABI plus the runtime', (name) => {
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

describe('the three builds', () => {
  // Disassemble with binaryen (the optimizer asc itself uses) and look for any SIMD type or
  // instruction: v128, or a lane-typed op such as f32x4.add / i32x4.shuffle / v128.load32_splat.
  const SIMD = /\bv128\b|\b[if](8|16|32|64)x(2|4|8|16)\./;
  function disassemble(bytes: Uint8Array<ArrayBuffer>): string {
    const m = binaryen.readBinary(bytes);
    try { return m.emitText(); } finally { m.dispose(); }
  }
  it('scalar.wasm contains no SIMD type or instruction', () => {
    const text = disassemble(wasmFile('scalar'));
    expect(text).toContain('(func'); // a real disassembly, not an empty string
    expect(text.match(SIMD)?.[0]).toBeUndefined();
  });
  it('simd.wasm does: the f32x4 paths are really compiled in, and no relaxed-SIMD instruction', () => {
    const text = disassemble(wasmFile('simd'));
    expect(text).toMatch(SIMD);
    expect(text).toContain('f32x4.mul');
    expect(text.match(/\brelaxed_\w+/)?.[0]).toBeUndefined();
  });
  it('relaxed.wasm fuses its multiply-adds: f32x4.relaxed_madd in the GEMM tile, exp4, GELU, layer norm', () => {
    const text = disassemble(wasmFile('relaxed'));
    expect(text).toMatch(SIMD);
    expect((text.match(/f32x4\.relaxed_madd/g) ?? []).length).toBeGreaterThan(20);
  });
});
