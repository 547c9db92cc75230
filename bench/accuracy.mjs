// Learning quality: heed's CLI defaults against TF-IDF + logistic regression on held-out data.
// For each dataset and seed: a stratified 80/20 split into train.csv / test.csv; `heed train
// train.csv` (no flags but --seed) then `heed eval model test.csv --json`, against
// bench/baseline_sklearn.py train.csv test.csv (word 1-2 and char 1-4 gram TF-IDF + logistic
// regression, C chosen by cross-validation on train.csv; Debian's python3-sklearn).
//
//   npm run build && node bench/accuracy.mjs [data.csv ...] [--seeds 0,1,2] [--write table.md] [--no-baseline] [--heed DIR] [-- heed train flags]
//
// --write writes the table and how it was made (to paste into bench/ACCURACY.md); --heed runs the
// CLI of another build (a copy of dist/, e.g. with a change to try) instead of this one's.
// Without files it runs every CSV in bench/data/ (bench/data/README.md: what they are, where from).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { basename, join } from 'node:path';
import { indexLabels, stratifiedSplit } from '../dist/data/dataset.js';
import { readLabeledCsv } from '../dist/io/csv.js';

const args = process.argv.slice(2);
const dd = args.indexOf('--');
const extra = dd >= 0 ? args.slice(dd + 1) : [];
const own = dd >= 0 ? args.slice(0, dd) : args;
const opt = (name) => { const i = own.indexOf(name); if (i < 0) return undefined; const v = own[i + 1]; own.splice(i, 2); return v; };
const seeds = (opt('--seeds') ?? '0').split(',').map(Number);
const write = opt('--write');
const noBaseline = own.includes('--no-baseline') && own.splice(own.indexOf('--no-baseline'), 1);
const root = new URL('..', import.meta.url).pathname;
const cli = join(opt('--heed') ?? join(root, 'dist'), 'cli/main.js');
const dataDir = join(root, 'bench/data');
const files = own.length ? own : readdirSync(dataDir).filter((f) => f.endsWith('.csv')).sort().map((f) => join(dataDir, f));

const q = (s) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
const pct = (x) => (x * 100).toFixed(1);
const results = [];
for (const file of files) {
  const data = await readLabeledCsv(file);
  const { ids, classes } = indexLabels(data.labels.map((l) => l.trim()));
  const csv = (idx) => 'label,sequence\n' + Array.from(idx, (i) => `${q(data.labels[i])},${q(data.texts[i])}`).join('\n') + '\n';
  for (const seed of seeds) {
    const dir = mkdtempSync(join(tmpdir(), 'heed-acc-'));
    try {
      const { train, val: test } = stratifiedSplit(ids, 0.2, 1000 + seed);
      writeFileSync(join(dir, 'train.csv'), csv(train));
      writeFileSync(join(dir, 'test.csv'), csv(test));
      const t0 = performance.now();
      const log = execFileSync('node', [cli, 'train', 'train.csv', '--seed', String(seed), ...extra], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      const heedSeconds = (performance.now() - t0) / 1000;
      const heed = JSON.parse(execFileSync('node', [cli, 'eval', 'model.safetensors', 'test.csv', '--json'], { cwd: dir }).toString());
      const lr = noBaseline ? { word12: { accuracy: NaN, seconds: NaN }, char14: { accuracy: NaN, seconds: NaN }, best: NaN } : JSON.parse(execFileSync('/usr/bin/python3', [join(root, 'bench/baseline_sklearn.py'), 'train.csv', 'test.csv', '--json'], { cwd: dir }).toString());
      const r = { data: basename(file), rows: data.texts.length, classes: classes.length, seed, heed: heed.accuracy, heedSeconds,
        word: lr.word12.accuracy, wordSeconds: lr.word12.seconds, char: lr.char14.accuracy, charSeconds: lr.char14.seconds, best: lr.best, n: heed.n,
        saved: log.toString().trim().split('\n').pop() };
      results.push(r);
      console.log(`${r.data} seed ${seed}: heed ${pct(r.heed)}% (${heedSeconds.toFixed(1)} s)  LR word ${pct(r.word)}%  char ${pct(r.char)}%  (n=${r.n})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

const byData = [...new Set(results.map((r) => r.data))].map((d) => {
  const rs = results.filter((r) => r.data === d), m = (k) => rs.reduce((a, r) => a + r[k], 0) / rs.length;
  return { data: d, rows: rs[0].rows, classes: rs[0].classes, heed: m('heed'), heedSeconds: m('heedSeconds'), word: m('word'), wordSeconds: m('wordSeconds'),
    char: m('char'), charSeconds: m('charSeconds'), best: m('best') };
});
const lines = ['| dataset | rows | classes | heed, defaults | s | LR word 1-2 | s | LR char 1-4 | s | heed − best LR |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
for (const r of byData) {
  lines.push(`| ${r.data} | ${r.rows} | ${r.classes} | ${pct(r.heed)} | ${r.heedSeconds.toFixed(1)} | ${pct(r.word)} | ${r.wordSeconds.toFixed(1)} | ${pct(r.char)} | ${r.charSeconds.toFixed(1)} | ${((r.heed - Math.max(r.word, r.char)) * 100).toFixed(1)} |`);
}
const mean = (k) => byData.reduce((a, r) => a + r[k], 0) / byData.length;
lines.push(`| **mean** | | | ${pct(mean('heed'))} | | ${pct(mean('word'))} | | ${pct(mean('char'))} | | ${((mean('heed') - byData.reduce((a, r) => a + Math.max(r.word, r.char), 0) / byData.length) * 100).toFixed(1)} |`);
const table = lines.join('\n');
console.log('\n' + table);
if (write) {
  const cmd = `node bench/accuracy.mjs --seeds ${seeds.join(',')}${extra.length ? ` -- ${extra.join(' ')}` : ''}`;
  writeFileSync(write, `${table}\n\nTest accuracy (%) on a stratified held-out 20% per seed (seeds ${seeds.join(', ')}; mean over seeds), from \`npm run build && ${cmd} --write ${write}\`
on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${new Date().toISOString().slice(0, 10)}. "s": wall seconds to train (heed: \`heed train\`, search and
refit included; LR: feature extraction, the 3-fold choice of C over 4 values, and the final fit).\n`);
}
