// ESM bundles of the tsc output (dist/*.js) for Node and browsers, in dist/bundle/:
//   heed.js    the full library (package entry ".")
//   infer.js   inference only ("./infer"): no optimizer, training loop, worker, CSV or checkpoint code
//   worker.js  the training worker ("./worker"), which heed.js's fit() starts
// One build with three inputs, so the code they share lives once, in dist/bundle/chunks/: a
// program importing both heed and heed/infer gets one HeedError, one Tensor class and one wasm
// module cache. The js backend (the kernels' JS oracle) is a chunk of its own, loaded only by
// init({ backend: 'js' }). @assemblyscript/loader is bundled in, so the files need no resolver
// (a browser can import them as they are); node:* modules stay external and are only reached
// through dynamic imports behind environment checks.
//
// Minified with terser (class and function names kept, so stack traces, error names and
// constructor.name read as in the source): heed/infer is an edge entry, where every kilobyte is
// cold-start time, and its budget (test/package/size.test.ts) counts the gzipped bundle.
import { readFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import terser from '@rollup/plugin-terser';

const root = dirname(fileURLToPath(import.meta.url));
const dist = (p) => resolve(root, 'dist', p);

/** Resolves the one bare import in dist/ (@assemblyscript/loader) to its ESM file, so it is bundled. */
const resolveLoader = {
  name: 'heed-resolve-loader',
  resolveId(id) {
    if (id === '@assemblyscript/loader') return fileURLToPath(import.meta.resolve('@assemblyscript/loader'));
    if (id.startsWith('node:')) return { id, external: true };
    return null;
  },
};

/** fit() and the data-parallel trainer start workers with new URL('../worker/worker.js',
 *  import.meta.url) in dist/worker/spawn.js, which is right for the tsc layout. In the bundles the
 *  code lands in some chunk, so the URL is rewritten to the worker entry chunk as emitted, relative
 *  to wherever spawnWorker() ends up (rollup's import.meta.ROLLUP_FILE_URL_OBJ_). */
const workerUrl = {
  name: 'heed-worker-url',
  transform(code, id) {
    if (id !== dist('worker/spawn.js')) return null;
    const pattern = "new URL('../worker/worker.js', import.meta.url)";
    if (!code.includes(pattern)) this.error(`${id}: the worker URL pattern ${pattern} is gone; update rollup.config.mjs`);
    const ref = this.emitFile({ type: 'chunk', id: dist('worker/worker.js'), name: 'worker' });
    return { code: code.replace(pattern, `import.meta.ROLLUP_FILE_URL_OBJ_${ref}`), map: null };
  },
};

/** heed/infer reads its wasm from new URL('../../build/<build>.wasm', import.meta.url) (tsc layout:
 *  dist/backends/wasm-files.js → build/). The bundle gets its own copies in dist/bundle/assets/ and
 *  URLs relative to the chunk that holds the code, so dist/bundle/ works wherever it is served
 *  from, and a consumer's bundler sees the same new URL(…, import.meta.url) asset pattern. */
const wasmAssets = {
  name: 'heed-wasm-assets',
  transform(code, id) {
    if (id !== dist('backends/wasm-files.js')) return null;
    for (const build of ['relaxed', 'simd', 'scalar']) {
      const pattern = `new URL('../../build/${build}.wasm', import.meta.url)`;
      if (!code.includes(pattern)) this.error(`${id}: the wasm URL pattern ${pattern} is gone; update rollup.config.mjs`);
      const ref = this.emitFile({ type: 'asset', name: `${build}.wasm`, source: readFileSync(resolve(root, 'build', `${build}.wasm`)) });
      code = code.replace(pattern, `import.meta.ROLLUP_FILE_URL_OBJ_${ref}`);
    }
    return { code, map: null };
  },
};

/** Chunks named for what they hold (the hash keeps a changed file from being served stale). */
function chunkFileNames(chunk) {
  const name = chunk.moduleIds.includes(dist('inference-context.js')) ? 'core'
    : chunk.moduleIds.includes(dist('context.js')) ? 'train'
    : chunk.moduleIds.includes(dist('backends/wasm-binary.js')) ? 'wasm-inline'
    : chunk.moduleIds.includes(dist('backends/js.js')) ? 'js-backend'
    : chunk.name;
  return `chunks/${name}-[hash].js`;
}

/** Old hashed chunks would otherwise pile up in dist/bundle/chunks and end up in the package. */
const clean = {
  name: 'heed-clean',
  buildStart() { rmSync(dist('bundle'), { recursive: true, force: true }); },
};

export default {
  input: { heed: dist('index.js'), infer: dist('infer.js'), worker: dist('worker/worker.js') },
  plugins: [clean, resolveLoader, workerUrl, wasmAssets,
    terser({ module: true, keep_classnames: true, keep_fnames: true, format: { comments: false } })],
  output: {
    dir: dist('bundle'),
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames,
    assetFileNames: 'assets/[name]-[hash][extname]',
    generatedCode: 'es2015',
  },
  // The package is "sideEffects": false apart from the worker entry: let rollup drop unused
  // top-level code the same way a consumer's bundler would.
  treeshake: { moduleSideEffects: (id) => id === dist('worker/worker.js') },
  onwarn(warning) {
    // The one cycle, context → train/fit → worker/run → index → context, is crossed only at call
    // time (run.ts calls init() when a worker starts), never while modules evaluate.
    const cycle = ['context.js', 'train/fit.js', 'worker/run.js', 'index.js'];
    if (warning.code === 'CIRCULAR_DEPENDENCY' && warning.ids?.length === 5 && cycle.every((f) => warning.ids.includes(dist(f)))) return;
    // Anything else (an unresolved import, a new cycle) fails the build rather than ship a surprise.
    throw new Error(`rollup: ${warning.message}`);
  },
};
