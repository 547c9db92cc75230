// The example's model file: `heed train` on examples/fortunes5.csv (five topics of fortune-cookie
// texts), defaults and seed 0, written to examples/edge/model.safetensors (not committed: 1.2 MB).
// Deterministic: the same options on the same backend give a byte-identical file.
//   node examples/edge/make_model.mjs                        # the pooling model (default), ~2 s
//   node examples/edge/make_model.mjs --model transformer    # any other `heed train` flags pass through
//   node examples/edge/make_model.mjs --out /tmp/m.safetensors --epochs 3
// In your own project the same is `npx heed train your.csv --out model.safetensors`.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../dist/cli/main.js';

const here = dirname(fileURLToPath(import.meta.url));
export const DATA = join(here, '..', 'fortunes5.csv');
export const MODEL = join(here, 'model.safetensors');

/** Trains on examples/fortunes5.csv with `heed train` flags `args` (--out defaults to MODEL);
 *  resolves to the model file's path. `quiet` silences the progress output. */
export async function makeModel(args = [], { quiet = true } = {}) {
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? resolve(args[outAt + 1]) : MODEL;
  const rest = outAt >= 0 ? args.filter((_, i) => i !== outAt && i !== outAt + 1) : args;
  let log = '';
  const sink = { write: (s) => { log += s; } };
  const io = { stdout: quiet ? sink : process.stdout, stderr: quiet ? sink : process.stderr, cwd: process.cwd() };
  const code = await run(['train', DATA, '--out', out, ...(quiet ? ['--quiet'] : []), ...rest], io);
  if (code !== 0) throw new Error(`heed train exited with ${code}: ${log.trim()}`);
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await makeModel(process.argv.slice(2), { quiet: false });
  console.log(`model file: ${out}`);
}
