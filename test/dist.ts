// Tests that need real workers run the built package (dist/), since a worker loads
// dist/worker/worker.js. importDist() loads it with the same types as src/.
import { existsSync } from 'node:fs';

export type Heed = typeof import('../src/index.js');

const dist = new URL('../dist/index.js', import.meta.url);

export async function importDist(): Promise<Heed> {
  if (!existsSync(dist)) throw new Error('dist/ is missing: run npm run build (npm test does it first)');
  return (await import(dist.href)) as Heed;
}
