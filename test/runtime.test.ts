import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { HeedError, init } from '../src/index.js';
import { BUNDLE, ROOT, requireBuild, run } from './package/util.js';

const wasmFile = (name: string) => new Uint8Array(readFileSync(new URL(`../build/${name}.wasm`, import.meta.url)));

describe('init', () => {
  it('picks relaxed SIMD, else SIMD, by default where the host validates it, and reports the host features', async () => {
    const h = await init();
    expect(h.features.simd).toBe(true); // Node 20 has WebAssembly SIMD
    expect(h.features.relaxedSimd).toBe(WebAssembly.validate(wasmFile('relaxed'))); // Node 22+; Node 20 behind a flag
    expect(h.backend).toBe(h.features.relaxedSimd ? 'wasm-relaxed' : 'wasm');
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
    await expect(init2({ backend: 'wasm-relaxed' })).rejects.toThrow('needs WebAssembly relaxed SIMD');
    vi.doUnmock('../src/backends/wasm.js');
  });
});

describe('init on a host that refuses the relaxed-SIMD build', () => {
  const relaxed = wasmFile('relaxed');
  const isRelaxedBuild = (b: BufferSource) => {
    const u = ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
    return u.length === relaxed.length && u.every((x, i) => x === relaxed[i]);
  };
  // A fresh copy of the modules each time: the feature probe and the compiled modules are cached per process.
  async function fresh<T>(entry: string, stub: () => void): Promise<T> {
    vi.resetModules();
    stub();
    return (await import(entry)) as T;
  }

  it("heed: the probe is relaxed.wasm itself; where it does not validate, init() falls back to 'wasm' and says so", async () => {
    const validate = WebAssembly.validate;
    try {
      const m = await fresh<typeof import('../src/index.js')>('../src/index.js', () => {
        vi.spyOn(WebAssembly, 'validate').mockImplementation((b) => !isRelaxedBuild(b) && validate(b));
      });
      const h = await m.init();
      expect(h.backend).toBe('wasm');
      expect(h.features).toMatchObject({ simd: true, relaxedSimd: false });
      await expect(m.init({ backend: 'wasm-relaxed' })).rejects.toThrow(m.HeedError);
      await expect(m.init({ backend: 'wasm-relaxed' })).rejects.toThrow(
        "init: backend 'wasm-relaxed' needs WebAssembly relaxed SIMD, which this host does not support (Node 20 has it behind --experimental-wasm-relaxed-simd; use 'wasm')");
    } finally { vi.restoreAllMocks(); }
  });

  it("heed/infer: one relaxed instruction validates but the build does not compile → 'wasm', relaxedSimd false", async () => {
    const compile = WebAssembly.compile;
    try {
      const m = await fresh<typeof import('../src/infer.js')>('../src/infer.js', () => {
        vi.spyOn(WebAssembly, 'validate').mockImplementation(() => true);
        vi.spyOn(WebAssembly, 'compile').mockImplementation(async (b) => {
          if (isRelaxedBuild(b)) throw new WebAssembly.CompileError('relaxed opcode not available');
          return compile(b);
        });
      });
      const h = await m.init();
      expect(h.backend).toBe('wasm');
      expect(h.features.relaxedSimd).toBe(false);
      expect((await m.init()).backend).toBe('wasm');          // decided once
    } finally { vi.restoreAllMocks(); }
  });

  it('heed/infer: a relaxed.wasm that cannot be read is an error, not a silent fallback', async () => {
    try {
      const m = await fresh<typeof import('../src/infer.js')>('../src/infer.js', () => {
        vi.spyOn(WebAssembly, 'validate').mockImplementation(() => true);
        vi.spyOn(WebAssembly, 'compile').mockImplementation(async () => { throw new TypeError('read failed'); });
      });
      await expect(m.init()).rejects.toThrow(/could not load heed's WebAssembly from .*relaxed\.wasm: read failed/);
    } finally { vi.restoreAllMocks(); }
  });

  it('a real host: this Node without flags (Node 20 refuses relaxed SIMD, 22+ has it) picks accordingly', async () => {
    requireBuild();
    const script = `
      const heed = await import(${JSON.stringify(join(BUNDLE, 'heed.js'))});
      const infer = await import(${JSON.stringify(join(BUNDLE, 'infer.js'))});
      const h = await heed.init(), i = await infer.init();
      let named = 'ok';
      try { await heed.init({ backend: 'wasm-relaxed' }); } catch (e) { named = e.message; }
      const plain = (await heed.init({ backend: 'wasm' })).backend;
      process.stdout.write(JSON.stringify({ backend: h.backend, infer: i.backend, relaxedSimd: h.features.relaxedSimd, named, plain }));
    `;
    const r = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    const has = Number(process.versions.node.split('.')[0]) >= 22;
    expect(JSON.parse(r.stdout)).toEqual(has
      ? { backend: 'wasm-relaxed', infer: 'wasm-relaxed', relaxedSimd: true, named: 'ok', plain: 'wasm' }
      : { backend: 'wasm', infer: 'wasm', relaxedSimd: false, plain: 'wasm',
          named: "init: backend 'wasm-relaxed' needs WebAssembly relaxed SIMD, which this host does not support (Node 20 has it behind --experimental-wasm-relaxed-simd; use 'wasm')" });
  });
});
