import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { HeedError, init } from '../src/index.js';

const wasmFile = (name: string) => new Uint8Array(readFileSync(new URL(`../build/${name}.wasm`, import.meta.url)));

describe('init', () => {
  it('picks SIMD by default where the host validates it, and reports the host features', async () => {
    const h = await init();
    expect(h.features.simd).toBe(true); // Node 20 has WebAssembly SIMD
    expect(h.backend).toBe('wasm');
    expect(typeof h.features.relaxedSimd).toBe('boolean');
    expect(typeof h.features.threads).toBe('boolean');
  });
  it.each(['wasm', 'wasm-scalar', 'js'] as const)('gives exactly the backend asked for: %s', async (backend) => {
    expect((await init({ backend })).backend).toBe(backend);
  });
  it('rejects an unknown backend by name', async () => {
    await expect(init({ backend: 'gpu' as never })).rejects.toThrow(HeedError);
    await expect(init({ backend: 'gpu' as never })).rejects.toThrow("unknown backend 'gpu'");
  });
  it('accepts a precompiled WebAssembly.Module and identifies which build it is', async () => {
    const simd = await init({ module: new WebAssembly.Module(wasmFile('simd')) });
    expect(simd.backend).toBe('wasm');
    const scalar = await init({ module: new WebAssembly.Module(wasmFile('scalar')) });
    expect(scalar.backend).toBe('wasm-scalar');
    const c = scalar.ops.matmul(scalar.tensor([1, 2], [1, 2]), scalar.tensor([3, 4], [2, 1]));
    expect([...c.toArray()]).toEqual([11]);
  });
  it('never substitutes: a module of the other build than the backend named is an error', async () => {
    await expect(init({ module: new WebAssembly.Module(wasmFile('scalar')), backend: 'wasm' })).rejects.toThrow(
      "backend 'wasm' was asked for but the module given is the 'wasm-scalar' build");
  });
  it("rejects a module that is not heed's", async () => {
    const empty = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    await expect(init({ module: empty })).rejects.toThrow(HeedError);
  });
  it('each init() owns its own memory', async () => {
    const a = await init({ backend: 'wasm' }), b = await init({ backend: 'wasm' });
    const ta = a.tensor([1, 2, 3], [3]);
    const before = b.memory().tensors;
    expect(a.memory().tensors).toBe(1);
    expect(before).toBe(0);
    ta.dispose();
  });
});

describe('init without SIMD on the host', () => {
  it("falls back to 'wasm-scalar' and says so; asking for 'wasm' by name is an error", async () => {
    vi.resetModules();
    vi.doMock('../src/backends/wasm.js', async (orig) => {
      const m = await orig<typeof import('../src/backends/wasm.js')>();
      return { ...m, hostFeatures: () => ({ simd: false, relaxedSimd: false, threads: false }) };
    });
    const { init: init2, HeedError: E } = await import('../src/index.js');
    const h = await init2();
    expect(h.backend).toBe('wasm-scalar');
    expect(h.features.simd).toBe(false);
    await expect(init2({ backend: 'wasm' })).rejects.toThrow(E);
    await expect(init2({ backend: 'wasm' })).rejects.toThrow('needs WebAssembly SIMD');
    vi.doUnmock('../src/backends/wasm.js');
  });
});
