// Tuning the defaults without looking at a test split: for each dataset, the same outer 80/20 split
// as bench/accuracy.mjs, and inside its training 80% the split `heed train` makes (valSplit 0.2,
// seed 0); candidates are trained on the inner training part and scored on the inner validation
// part. The outer 20% is never read.
//
//   npm run build && node bench/tune.mjs CANDIDATES.json [data.csv ...] [--seed 0] [--lr X] [--epochs N]
//
// CANDIDATES.json: an array of SearchCandidate (src/train/search.ts), or omitted for the defaults.
import { readFileSync, readdirSync } from 'node:fs';
import { join, basename } from 'node:path';
import { indexLabels, stratifiedSplit } from '../dist/data/dataset.js';
import { readLabeledCsv } from '../dist/io/csv.js';
import { init, defaultCandidates, searchSettings } from '../dist/index.js';

const args = process.argv.slice(2);
const seedAt = args.indexOf('--seed');
const seed = seedAt >= 0 ? Number(args.splice(seedAt, 2)[1]) : 0;
const lrAt = args.indexOf('--lr');
const lr = lrAt >= 0 ? Number(args.splice(lrAt, 2)[1]) : undefined;
const epochsAt = args.indexOf('--epochs');
const epochs = epochsAt >= 0 ? Number(args.splice(epochsAt, 2)[1]) : undefined;
const candFile = args[0]?.endsWith('.json') ? args.shift() : null;
const candidates = candFile ? JSON.parse(readFileSync(candFile, 'utf8')) : defaultCandidates();
const root = new URL('..', import.meta.url).pathname;
const files = args.length ? args : readdirSync(join(root, 'bench/data')).filter((f) => f.endsWith('.csv')).sort().map((f) => join(root, 'bench/data', f));
const h = await init();
const summary = new Map();
for (const file of files) {
  const data = await readLabeledCsv(file);
  const { ids } = indexLabels(data.labels.map((l) => l.trim()));
  const outer = stratifiedSplit(ids, 0.2, 1000 + seed).train;
  const innerIds = Int32Array.from(outer, (i) => ids[i]);
  const inner = stratifiedSplit(innerIds, 0.2, seed);
  const res = await searchSettings(h, {
    texts: { length: data.texts.length, at: (i) => data.texts[i] }, labels: ids, classes: Math.max(...ids) + 1,
    train: Int32Array.from(inner.train, (k) => outer[k]), val: Int32Array.from(inner.val, (k) => outer[k]),
    candidates, budgetSeconds: 1e6, seed, lr, epochs,
    maxLenFor: (lengths, c) => { const s = Int32Array.from(lengths).sort(); return Math.min(c.tokenizer.type === 'ngram' && c.model === 'pooling' ? 4096 : 256, Math.max(16, s[Math.min(s.length - 1, Math.floor(0.95 * s.length))])); },
    onTrial: (t) => {
      console.log(`${basename(file)}\t${t.candidate.name}\t${(t.valAccuracy * 100).toFixed(1)}\t${t.bestEpoch}/${t.epochs}\t${t.seconds.toFixed(1)} s`);
      const s = summary.get(t.candidate.name) ?? []; s.push(t.valAccuracy); summary.set(t.candidate.name, s);
    },
  });
  res.fit.model.dispose();
}
console.log('\nmean inner-validation accuracy over', files.length, 'datasets');
for (const [name, accs] of summary) console.log(`${(accs.reduce((a, b) => a + b, 0) / accs.length * 100).toFixed(2)}\t${name}\t${accs.map((a) => (a * 100).toFixed(1)).join(' ')}`);
