// heed's CLI defaults against the bag-of-n-grams logistic regression baseline on held-out data:
// for each seed, a stratified 80/20 split of <data.csv> into train.csv / test.csv; then
// `heed train train.csv` + `heed eval model test.csv --json`, and `baseline.mjs train.csv --test test.csv`.
// Usage: npm run build && node bench/accuracy.mjs <data.csv> [--seeds 0,1,2] [-- extra heed train flags]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexLabels, stratifiedSplit } from '../dist/data/dataset.js';
import { readLabeledCsv } from '../dist/io/csv.js';

const args = process.argv.slice(2);
const dd = args.indexOf('--');
const extra = dd >= 0 ? args.slice(dd + 1) : [];
const own = dd >= 0 ? args.slice(0, dd) : args;
const file = own[0];
const si = own.indexOf('--seeds');
const seeds = si >= 0 ? own[si + 1].split(',').map(Number) : [0, 1, 2];
if (!file) { console.error('usage: node bench/accuracy.mjs <data.csv> [--seeds 0,1,2] [-- heed train flags]'); process.exit(2); }

const root = new URL('..', import.meta.url).pathname;
const data = await readLabeledCsv(file);
const { ids } = indexLabels(data.labels.map((l) => l.trim()));
const q = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const csv = (idx) => 'label,sequence\n' + Array.from(idx, (i) => `${q(data.labels[i])},${q(data.texts[i])}`).join('\n') + '\n';
const rows = [];
for (const seed of seeds) {
  const dir = mkdtempSync(join(tmpdir(), 'heed-acc-'));
  try {
    const { train, val: test } = stratifiedSplit(ids, 0.2, 1000 + seed);
    writeFileSync(join(dir, 'train.csv'), csv(train));
    writeFileSync(join(dir, 'test.csv'), csv(test));
    const t0 = performance.now();
    execFileSync('node', [join(root, 'dist/cli/main.js'), 'train', 'train.csv', '--quiet', '--seed', String(seed), ...extra], { cwd: dir });
    const seconds = (performance.now() - t0) / 1000;
    const heed = JSON.parse(execFileSync('node', [join(root, 'dist/cli/main.js'), 'eval', 'model.safetensors', 'test.csv', '--json'], { cwd: dir }).toString());
    const lr = JSON.parse(execFileSync('node', [join(root, 'bench/baseline.mjs'), 'train.csv', '--test', 'test.csv', '--json', '--seed', String(seed)], { cwd: dir }).toString());
    rows.push({ seed, heed: heed.accuracy, baseline: lr.accuracy, n: heed.n, seconds });
    console.log(`seed ${seed}: heed ${(heed.accuracy * 100).toFixed(1)}%  baseline ${(lr.accuracy * 100).toFixed(1)}%  (n=${heed.n}, heed train ${seconds.toFixed(1)} s)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const mean = (k) => rows.reduce((a, r) => a + r[k], 0) / rows.length;
console.log(`mean: heed ${(mean('heed') * 100).toFixed(1)}%  baseline ${(mean('baseline') * 100).toFixed(1)}%  (heed flags: ${extra.join(' ') || 'defaults'})`);
