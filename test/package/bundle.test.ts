// The built entries: heed/infer reaches no training code (neither in the tsc output's import graph
// nor in the bundle's text), the bundles are self-contained ES modules a browser can load (only
// relative static imports; node:* only behind import() in guarded code), the worker URL and the
// wasm asset URLs point at files that exist, and the bundles run where there is no `process`
// (a browser-like host), the inference entry from a precompiled module as edge runtimes do.
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, ROOT, closure, requireBuild, run, specifiers } from './util.js';

beforeAll(requireBuild);

const rel = (f: string) => relative(join(ROOT, 'dist'), f);
// The build init() picks here (and in a child process of this Node): the relaxed-SIMD one where
// the host validates it (Node 22+), else SIMD.
const DEFAULT_WASM = WebAssembly.validate(readFileSync(join(ROOT, 'build/relaxed.wasm'))) ? 'wasm-relaxed' : 'wasm';


describe('heed/infer imports no training code', () => {
  // The training side, in the tsc layout (what the CLI and dist/ users load).
  const FORBIDDEN = [/^nn\/optim\.js$/, /^nn\/train\.js$/, /^train\//, /^worker\//, /^io\/csv\.js$/, /^io\/checkpoint\.js$/,
    /^context\.js$/, /^index\.js$/, /^ops\/index\.js$/, /^ops\/adamw\.js$/, /^backends\/wasm-binary\.js$/];

  it('dist/infer.js: no forbidden module in its import graph, import() targets included', () => {
    const files = closure(join(ROOT, 'dist/infer.js'), true).map(rel);
    expect(files).toContain('classifier/classifier.js');
    expect(files.filter((f) => FORBIDDEN.some((re) => re.test(f)))).toEqual([]);
  });

  it('dist/bundle/infer.js: none of the training code\'s strings in what it loads', () => {
    const files = closure(join(BUNDLE, 'infer.js'));
    const text = files.map((f) => readFileSync(f, 'utf8')).join('\n');
    expect(text).toContain('loadClassifier');
    for (const s of ['trainStep', 'AdamwOptimizer', 'adamw(', 'clipNorm', 'trainLoop', 'serveTraining', 'worker_threads',
      'readLabeledCsv', 'encodeCheckpoint', 'crossEntropy', 'fit: ']) {
      expect(text.includes(s), `${s} in ${files.map((f) => relative(BUNDLE, f)).join(', ')}`).toBe(false);
    }
    // No inlined wasm (base64 of "\0asm"): heed/infer loads the .wasm files.
    expect(text).not.toMatch(/AGFzbQ/);
    // The only import() of a relative file is the js backend, loaded by init({ backend: 'js' }).
    const lazy = files.flatMap((f) => specifiers(readFileSync(f, 'utf8')).dynamic.filter((d) => d.startsWith('.')));
    expect(lazy.map((d) => basename(d))).toEqual([expect.stringMatching(/^js-backend-[\w-]+\.js$/)]);
  });

  it('the full bundle still has it all', () => {
    const text = closure(join(BUNDLE, 'heed.js')).map((f) => readFileSync(f, 'utf8')).join('\n');
    for (const s of ['trainStep', 'AdamwOptimizer', 'trainLoop', 'AGFzbQ']) expect(text, s).toContain(s);
  });
});

describe('the bundles are self-contained ES modules', () => {
  it.each(['heed.js', 'infer.js', 'worker.js'])('%s: only relative static imports; node:* only through import()', (entry) => {
    for (const f of closure(join(BUNDLE, entry))) {
      const code = readFileSync(f, 'utf8');
      const s = specifiers(code);
      expect(s.bareStatic, relative(BUNDLE, f)).toEqual([]);
      expect(s.dynamic.filter((d) => !d.startsWith('.') && !d.startsWith('node:')), relative(BUNDLE, f)).toEqual([]);
      expect(code, relative(BUNDLE, f)).not.toMatch(/\brequire\(/);
    }
  });

  it('fit() starts the bundled worker: its URL, relative to the chunk holding fit, is dist/bundle/worker.js', () => {
    const hits = closure(join(BUNDLE, 'heed.js')).flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/new URL\(\s*['"]([^'"]*worker\.js)['"]\s*,\s*import\.meta\.url\s*\)/g)].map((m) => resolve(dirname(f), m[1])));
    expect(hits).toEqual([join(BUNDLE, 'worker.js')]);
  });

  it('heed/infer\'s wasm URLs point at copies of build/relaxed.wasm, build/simd.wasm and build/scalar.wasm', () => {
    const found: Record<string, string> = {};
    for (const f of closure(join(BUNDLE, 'infer.js'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/new URL\(\s*['"]([^'"]*\/(relaxed|simd|scalar)-[\w-]+\.wasm)['"]\s*,\s*import\.meta\.url\s*\)/g)) found[m[2]] = resolve(dirname(f), m[1]);
    }
    expect(Object.keys(found).sort()).toEqual(['relaxed', 'scalar', 'simd']);
    for (const [b, f] of Object.entries(found)) expect(readFileSync(f).equals(readFileSync(join(ROOT, `build/${b}.wasm`))), b).toBe(true);
  });
});

describe('the bundles on a host without Node\'s process (browser-like)', () => {
  it('heed trains a step from the inlined wasm; heed/infer predicts from a precompiled module', async () => {
    const script = `
      const { readFileSync } = await import('node:fs');
      const simd = readFileSync(${JSON.stringify(join(ROOT, 'build/simd.wasm'))});
      const out = process.stdout;
      delete globalThis.process;
      if (typeof process !== 'undefined') throw new Error('process is still there');
      const heed = await import(${JSON.stringify(join(BUNDLE, 'infer.js'))}).then(async (infer) => {
        // heed/infer first, so that nothing has compiled a module yet: without module or files it must say what to do.
        let failed = '';
        try { await infer.init(); } catch (e) { failed = e.message; }
        return { infer, failed, full: await import(${JSON.stringify(join(BUNDLE, 'heed.js'))}) };
      });
      const h = await heed.full.init();
      const tok = heed.full.Tokenizer.build(['good day', 'bad day'], { minFreq: 1 });
      const m = h.attentionPoolingClassifier({ vocabSize: tok.toJSON().vocab.length, dModel: 4, seed: 1 });
      const loss = h.trainStep(m, h.adamwOptimizer(m, { lr: 0.1 }), Int32Array.from([2, 3, 4, 3]), [2, 2], Int32Array.from([1, 0]));
      const bytes = h.saveModel(m, { tokenizer: tok.toJSON(), labels: ['neg', 'pos'] });
      const i = await heed.infer.init({ module: await WebAssembly.compile(simd) });
      const p = heed.infer.loadClassifier(i, bytes).predict(['good day']);
      out.write(JSON.stringify({ backend: h.backend, inferBackend: i.backend, loss, p, failed: heed.failed }));
    `;
    const r = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT });
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.backend).toBe(DEFAULT_WASM);
    expect(o.inferBackend).toBe('wasm');
    expect(Number.isFinite(o.loss)).toBe(true);
    expect(o.p[0].label).toMatch(/^(neg|pos)$/);
    expect(o.failed).toMatch(new RegExp(`could not load heed's WebAssembly from file:.*${DEFAULT_WASM === 'wasm' ? 'simd' : 'relaxed'}-[\\w-]+\\.wasm: .*pass init\\(\\{ module \\}\\)`));
  });
});
