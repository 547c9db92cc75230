// heed/infer from CommonJS (package.json's "require" condition for "heed/infer"): the ESM bundle
// through require(esm) where Node has it (>= 20.19 / 22.12), else an error saying what to write
// instead. See cjs.cts.
type HeedInfer = typeof import('./infer.js', { with: { 'resolution-mode': 'import' } });

let heed: HeedInfer;
try {
  heed = require('./bundle/infer.js') as HeedInfer;
} catch (e) {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') {
    throw new Error("heed/infer is an ES module and this Node.js cannot require() it (Node >= 20.19 or 22.12 can): " +
      "use `import { init } from 'heed/infer'`, or from CommonJS `const { init } = await import('heed/infer')`", { cause: e });
  }
  throw e;
}
export = heed;
