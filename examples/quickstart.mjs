// The README's main job: train on the bundled example data, evaluate on rows the model never
// saw, save the model, and explain one prediction. Runs heed's CLI in this process.
//   npm run example
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../dist/cli/main.js';
import { indexLabels, stratifiedSplit } from '../dist/data/dataset.js';
import { readLabeledCsv } from '../dist/io/csv.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(process.cwd(), 'heed-example');
mkdirSync(out, { recursive: true });
const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: out };
const step = (s) => process.stdout.write(`\n\x1b[1m== ${s}\x1b[0m\n`);

// Hold out 20% of the example data as a test set the training never sees.
const data = await readLabeledCsv(join(here, 'fortunes5.csv'));
const { ids } = indexLabels(data.labels);
const { train, val: test } = stratifiedSplit(ids, 0.2, 2024);
const q = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const csv = (idx) => 'label,sequence\n' + Array.from(idx, (i) => `${q(data.labels[i])},${q(data.texts[i])}`).join('\n') + '\n';
writeFileSync(join(out, 'train.csv'), csv(train));
writeFileSync(join(out, 'test.csv'), csv(test));
console.log(`examples/fortunes5.csv: ${data.texts.length} fortunes in 5 topics → heed-example/train.csv (${train.length}) and test.csv (${test.length})`);

const heed = async (...args) => {
  process.stdout.write(`\x1b[2m$ heed ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\x1b[0m\n`);
  const code = await run(args, io);
  if (code !== 0) process.exit(code);
};
step('train');
await heed('train', 'train.csv', '--out', 'model.safetensors');
step('evaluate on the held-out test set');
await heed('eval', 'model.safetensors', 'test.csv');
step('explain one test example');
const example = data.texts[test.find((i) => data.labels[i] === 'computers' && data.texts[i].length < 120) ?? test[0]];
await heed('explain', 'model.safetensors', example, '--html', 'explain.html');
step('done');
console.log(`model: heed-example/model.safetensors   heat map: heed-example/explain.html
try:   npx heed predict heed-example/model.safetensors "my code compiles but the tests fail"`);
