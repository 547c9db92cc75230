// The relaxed-SIMD build on a host that has it: Node 22+ (the default vitest project), or Node 20
// with --experimental-wasm-relaxed-simd (vitest.config.ts runs this file in its 'relaxed' project
// there, and not in the default one). The op parity tests run on this build from test/ops/; the
// fallback where a host lacks it is in test/runtime.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../src/index.js';
import * as infer from '../src/infer.js';

const wasmFile = (name: string) => new Uint8Array(readFileSync(new URL(`../build/${name}.wasm`, import.meta.url)));

describe('wasm-relaxed on a host that validates it', () => {
  it('this host validates relaxed.wasm (else this project is misconfigured, not skipped)', () => {
    expect(WebAssembly.validate(wasmFile('relaxed'))).toBe(true);
  });
  it("init() picks it and says so; init({ backend: 'wasm' }) still gives the plain SIMD build", async () => {
    const h = await init();
    expect(h.backend).toBe('wasm-relaxed');
    expect(h.features).toMatchObject({ simd: true, relaxedSimd: true });
    expect((await init({ backend: 'wasm' })).backend).toBe('wasm');
    expect((await init({ backend: 'wasm-relaxed' })).backend).toBe('wasm-relaxed');
    expect((await init({ backend: 'wasm-scalar' })).backend).toBe('wasm-scalar');
  });
  it('heed/infer reads relaxed.wasm and picks it too', async () => {
    const c = await infer.init();
    expect(c.backend).toBe('wasm-relaxed');
    expect(c.features.relaxedSimd).toBe(true);
  });
  it('a precompiled relaxed module is identified as such, and never substituted', async () => {
    const module = new WebAssembly.Module(wasmFile('relaxed'));
    const h = await init({ module });
    expect(h.backend).toBe('wasm-relaxed');
    const c = h.ops.matmul(h.tensor([1, 2], [1, 2]), h.tensor([3, 4], [2, 1]));
    expect([...c.toArray()]).toEqual([11]);
    await expect(init({ module, backend: 'wasm' })).rejects.toThrow(HeedError);
    await expect(init({ module, backend: 'wasm' })).rejects.toThrow("backend 'wasm' was asked for but the module given is the 'wasm-relaxed' build");
    await expect(init({ module: new WebAssembly.Module(wasmFile('simd')), backend: 'wasm-relaxed' })).rejects.toThrow(
      "backend 'wasm-relaxed' was asked for but the module given is the 'wasm' build");
  });
  it('determinism per backend: the same seed and data give bit-identical weights, run after run', async () => {
    const train = async () => {
      const h = await init({ backend: 'wasm-relaxed' });
      const m = h.transformerClassifier({ vocabSize: 20, maxLen: 8, dModel: 16, heads: 2, ffDim: 32, layers: 1, classes: 3, seed: 5 });
      const opt = h.adamwOptimizer(m, { lr: 1e-2 });
      const tokens = Int32Array.from({ length: 4 * 8 }, (_, i) => 1 + ((i * 7) % 19)), labels = Int32Array.of(0, 1, 2, 1);
      const losses = [0, 1, 2].map(() => h.trainStep(m, opt, tokens, [4, 8], labels));
      return { losses, weights: Object.values(m.stateDict()).map((t) => Array.from(t.data)) };
    };
    const a = await train(), b = await train();
    expect(a.losses.every(Number.isFinite)).toBe(true);
    expect(b).toEqual(a);
  });
});
