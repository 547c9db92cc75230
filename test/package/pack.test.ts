// The package as users get it: `npm pack` (scripts skipped: the build is already there, and a
// rebuild would pull dist/ from under the other tests), installed into an empty project, then:
// an ES module script trains with heed on a worker (found inside the installed package), saves the
// model and predicts with heed/infer from the file, and from a module compiled from
// heed/wasm/simd.wasm; a CommonJS script require()s heed and heed/infer (or, on a Node without
// require(esm), gets an error telling it to use import); and `npx heed --help` runs the bin.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, requireBuild, run } from './util.js';

const TIMEOUT = 180_000;
// The build init() picks here (and in a child process of this Node): the relaxed-SIMD one where
// the host validates it (Node 22+), else SIMD.
const DEFAULT_WASM = WebAssembly.validate(readFileSync(join(ROOT, 'build/relaxed.wasm'))) ? 'wasm-relaxed' : 'wasm';
// Whether this Node can require() an ES module: true from 20.19 / 22.12, undefined before.
const requireEsm = (process.features as { require_module?: boolean }).require_module;
let tmp = '', app = '', tarball = '';

// A child npm must not inherit the npm_* settings of the `npm test` running vitest.
const env = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const npm = (args: string[], cwd: string) => run('npm', args, { cwd, env: env(), timeoutMs: TIMEOUT });

/** Every file under dir, relative, with / separators. */
function walk(dir: string, base = ''): string[] {
  return readdirSync(join(dir, base)).flatMap((n) => {
    const rel = base ? `${base}/${n}` : n;
    return statSync(join(dir, rel)).isDirectory() ? walk(dir, rel) : [rel];
  });
}

beforeAll(async () => {
  requireBuild();
  tmp = mkdtempSync(join(tmpdir(), 'heed-pack-'));
  const packed = await npm(['pack', '--ignore-scripts', '--pack-destination', tmp], ROOT);
  expect(packed.code, packed.stderr).toBe(0);
  tarball = join(tmp, packed.stdout.trim().split('\n').at(-1)!);
  expect(existsSync(tarball), tarball).toBe(true);
  app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'heed-pack-test', private: true, type: 'module' }));
  const installed = await npm(['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], app);
  expect(installed.code, installed.stderr).toBe(0);
  cpSync(join(ROOT, 'test/package/app'), app, { recursive: true });
}, TIMEOUT);

afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

describe('npm pack → npm install into an empty project', () => {
  it('the package holds what it needs at run time and nothing else', async () => {
    const pkgDir = join(app, 'node_modules/heed');
    const files = walk(pkgDir);
    const allowed = [/^dist\//, /^build\/(relaxed|simd|scalar)\.wasm$/, /^README\.md$/, /^package\.json$/,
      /^examples\/(fortunes5\.csv|README\.md|LICENSE-fortunes\.txt)$/, /^docs\/api\/[\w/]+\.md$/];
    expect(files.filter((f) => !allowed.some((re) => re.test(f)))).toEqual([]);
    // The API reference the README links to travels with it.
    for (const f of ['docs/api/README.md', 'docs/api/heed.md', 'docs/api/heed/infer.md']) expect(files).toContain(f);
    const pkg = (await import(join(pkgDir, 'package.json'), { with: { type: 'json' } })).default as {
      exports: Record<string, string | Record<string, string>>; bin: Record<string, string>; dependencies: Record<string, string>;
    };
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
    for (const t of [...targets, ...Object.values(pkg.bin)]) expect(existsSync(join(pkgDir, t)), t).toBe(true);
    expect(Object.keys(pkg.dependencies ?? {})).toEqual(['@assemblyscript/loader', 'tinybench']); // tinybench: heed bench
  });

  it('ESM: trains with heed on a worker, predicts with heed/infer from the saved file and from a precompiled module, steps data-parallel', async () => {
    const r = await run(process.execPath, ['train-and-predict.mjs'], { cwd: app, timeoutMs: TIMEOUT });
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    const inPackage = (u: string) => u.replace(/^file:\/\//, '').startsWith(join(app, 'node_modules/heed/'));
    expect(o.resolved.heed).toMatch(/\/node_modules\/heed\/dist\/bundle\/heed\.js$/);
    expect(o.resolved.infer).toMatch(/\/node_modules\/heed\/dist\/bundle\/infer\.js$/);
    expect(o.resolved.worker).toMatch(/\/node_modules\/heed\/dist\/bundle\/worker\.js$/);
    expect(Object.values(o.resolved as Record<string, string>).every(inPackage)).toBe(true);
    expect(o.backend).toBe(DEFAULT_WASM);
    expect(o.epochs).toBe(8);
    expect(o.steps).toBe(40); // onStep crossed from the worker: 80 rows / 16 × 8 epochs
    expect(o.accuracy).toBe(1);
    expect(o.predictions).toEqual(['pos', 'neg']);
    expect(o.edge).toBe('pos');
    expect(o.explanation).toEqual({ label: 'pos', pieces: ['the', 'day', 'was', 'great'] });
    expect(o.error).toEqual({ heed: true, message: 'predict: texts must be an array of strings, got a string (wrap it in [ ])' });
    expect(existsSync(join(app, 'model.safetensors'))).toBe(true);
    expect(o.dataParallel).toEqual({ threads: 2, finiteLoss: true, step: 1 });
  }, TIMEOUT);

  it.runIf(requireEsm)('CommonJS: require(\'heed\') and require(\'heed/infer\') work where Node has require(esm)', async () => {
    // Node >= 20.19 / 22.12 loads an ES module without top-level await through require().
    const r = await run(process.execPath, ['require.cjs'], { cwd: app, timeoutMs: TIMEOUT });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ backend: DEFAULT_WASM, infer: DEFAULT_WASM, fit: 'function', loadClassifier: 'function' });
  }, TIMEOUT);

  it('CommonJS: without require(esm), require(\'heed\') throws an error that says to use import', async () => {
    const flags = requireEsm === undefined ? [] : ['--no-experimental-require-module'];
    const r = await run(process.execPath, [...flags, 'require.cjs'], { cwd: app, timeoutMs: TIMEOUT });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Error: heed is an ES module and this Node.js cannot require() it (Node >= 20.19 or 22.12 can): " +
      "use `import { init } from 'heed'`, or from CommonJS `const { init } = await import('heed')`");
  }, TIMEOUT);

  it('TypeScript: a strict NodeNext project type-checks against the installed declarations', async () => {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, lib: ['ES2022', 'DOM'], types: [],
    }, files: ['consumer.ts'] }));
    writeFileSync(join(app, 'consumer.ts'), `
      import { init, HeedError, Tokenizer, type Context, type FitOptions } from 'heed';
      import * as infer from 'heed/infer';
      import type { Classifier, Prediction, Explanation, InferenceContext } from 'heed/infer';
      const h: Context = await init({ backend: 'wasm' });
      const options: FitOptions = { data: { sequences: [[1, 2]], labels: [0] }, modelOptions: { kind: 'pooling', vocabSize: 4 } };
      const run = h.fit(options);
      const i: InferenceContext = await infer.init({ maxMemoryMB: 64 });
      const c: Classifier = infer.loadClassifier(i, new Uint8Array());
      const p: Prediction[] = c.predict(['x']);
      const e: Explanation = c.explain('x');
      const t: Tokenizer = c.tokenizer;
      // @ts-expect-error heed/infer's context has no fit
      i.fit(options);
      void [run, p, e, t, HeedError];
    `);
    const tsc = await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', app], { cwd: app, timeoutMs: TIMEOUT });
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  }, TIMEOUT);

  it('the bin: npx heed --help exits 0 with the usage, --version names the version, predict runs on the installed files', async () => {
    const help = await run('npx', ['--no-install', 'heed', '--help'], { cwd: app, env: env(), timeoutMs: TIMEOUT });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^heed — attention models/);
    expect(help.stdout).toContain('heed train <data.csv>');
    const benchHelp = await run('npx', ['--no-install', 'heed', 'bench', '--help'], { cwd: app, env: env(), timeoutMs: TIMEOUT });
    expect(benchHelp.code, benchHelp.stderr).toBe(0); // loads the bench runner (tinybench) from the installed dependencies
    const version = await run('npx', ['--no-install', 'heed', '--version'], { cwd: app, env: env(), timeoutMs: TIMEOUT });
    expect(version.stdout.trim()).toMatch(/^heed \d+\.\d+\.\d+/);
    // predict runs on heed/infer's init, which reads the installed build/*.wasm (the model file is the ESM test's).
    const predicted = await run('npx', ['--no-install', 'heed', 'predict', 'model.safetensors', 'the day was awful and sad'], { cwd: app, env: env(), timeoutMs: TIMEOUT });
    expect(predicted.code, predicted.stderr).toBe(0);
    expect(predicted.stdout).toMatch(/^neg\t[01]\.\d{4}\tthe day was awful and sad\n$/);
  }, TIMEOUT);
});
