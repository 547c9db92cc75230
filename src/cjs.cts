// heed from CommonJS (package.json's "require" condition for "heed"). heed is an ES module; Node
// ≥ 20.19 / 22.12 can require() one that has no top-level await, as heed's bundle has none, so
// this hands over the ESM bundle. An older Node refuses with ERR_REQUIRE_ESM: then the error says
// what to write instead.
type Heed = typeof import('./index.js', { with: { 'resolution-mode': 'import' } });

let heed: Heed;
try {
  heed = require('./bundle/heed.js') as Heed;
} catch (e) {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') {
    throw new Error("heed is an ES module and this Node.js cannot require() it (Node >= 20.19 or 22.12 can): " +
      "use `import { init } from 'heed'`, or from CommonJS `const { init } = await import('heed')`", { cause: e });
  }
  throw e;
}
export = heed;
