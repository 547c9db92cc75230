// The learning figure of `heed train --task lm`: validation loss (nats per predicted token: each
// character of a line and its end marker) of heed's causal LM against smoothed character n-gram
// models of the same lines, the same split (heed's: seeded, --val-split 0.2) and the same tokens.
// The n-gram models are interpolated (Jelinek–Mercer: each order's estimate mixed with the next
// lower one's, down to a uniform over the vocabulary) with add-k at each order; the order, k and
// λ reported are the best on the validation lines themselves, a baseline given every advantage.
// With `--torch PYTHON` (a Python with torch, e.g. /opt/hfenv/bin/python) it also trains the same
// architecture in PyTorch (bench/lm_torch.py) on the same split for the same fixed number of epochs
// (`--fixed-epochs E`, default 7: what early stopping chose here), and heed for those epochs too
// (--patience 0 --no-refit), three seeds each (a seed picks the split, the initialisation and the
// batch order), and prints both validation losses.
// Run after `npm run build`:
//   node bench/lm-ngram.mjs [corpus.txt] [--torch PYTHON] [--fixed-epochs E] [heed train flags…]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusLines, lineExamples } from '../dist/data/corpus.js';
import { stratifiedSplit } from '../dist/data/dataset.js';
import { Tokenizer } from '../dist/data/tokenizer.js';

const args = process.argv.slice(2);
const file = args[0] && !args[0].startsWith('--') ? args.shift() : new URL('../examples/lm/places.txt', import.meta.url).pathname;
const option = (name, dflt) => {
  const i = args.indexOf(name);
  return i < 0 ? dflt : args.splice(i, 2)[1];
};
const python = option('--torch', null), fixedEpochs = Number(option('--fixed-epochs', 7));
const flags = args;
const lines = corpusLines(readFileSync(file), file);
const tokenizer = Tokenizer.build(lines, { type: 'char' });
const split = stratifiedSplit(new Int32Array(lines.length), 0.2, 0);
const seqs = (rows) => Array.from(rows, (i) => [0, ...tokenizer.encode(lines[i]), 0]);
const train = seqs(split.train), val = seqs(split.val), V = tokenizer.vocabSize;

function ngramLoss(order, k, lambda) {
  // counts[n]: context key (n-1 ids) → Map(next id → count), and the context totals.
  const counts = Array.from({ length: order + 1 }, () => new Map());
  for (const s of train) {
    for (let t = 1; t < s.length; t++) {
      for (let n = 1; n <= order; n++) {
        if (t - (n - 1) < 0) break;
        const key = s.slice(t - n + 1, t).join(',');
        let m = counts[n].get(key);
        if (!m) counts[n].set(key, (m = { total: 0, next: new Map() }));
        m.total++;
        m.next.set(s[t], (m.next.get(s[t]) ?? 0) + 1);
      }
    }
  }
  let nats = 0, n = 0;
  for (const s of val) {
    for (let t = 1; t < s.length; t++) {
      let p = 1 / V;
      for (let o = 1; o <= order && t - (o - 1) >= 0; o++) {
        const m = counts[o].get(s.slice(t - o + 1, t).join(','));
        if (!m) break;
        const est = ((m.next.get(s[t]) ?? 0) + k) / (m.total + k * V);
        p = lambda * est + (1 - lambda) * p;
      }
      nats -= Math.log(p);
      n++;
    }
  }
  return nats / n;
}

let best = null;
for (let order = 1; order <= 6; order++) {
  for (const k of [0.01, 0.05, 0.1, 0.3, 1]) {
    for (const lambda of [0.5, 0.7, 0.8, 0.9, 0.95, 1]) {
      const loss = ngramLoss(order, k, lambda);
      if (!best || loss < best.loss) best = { order, k, lambda, loss };
    }
  }
}
const dir = mkdtempSync(join(tmpdir(), 'heed-lm-'));
try {
  const out = join(dir, 'lm.safetensors');
  const start = performance.now();
  const said = execFileSync(process.execPath, [new URL('../dist/cli/main.js', import.meta.url).pathname, 'train', file, '--task', 'lm', '--out', out, '--quiet', ...flags], { encoding: 'utf8' });
  const seconds = (performance.now() - start) / 1000;
  const heed = Number(/validation loss ([\d.]+) nats\/token/.exec(said)?.[1]);
  console.log(`${file}: ${lines.length} lines, validation ${split.val.length}, char vocabulary ${V}`);
  console.log(`best smoothed char n-gram: order ${best.order}, k ${best.k}, λ ${best.lambda}: ${best.loss.toFixed(4)} nats/token`);
  console.log(`heed train --task lm ${flags.join(' ')}: ${heed.toFixed(4)} nats/token (${seconds.toFixed(1)} s, train + refit)`);
  console.log(`heed − n-gram: ${(heed - best.loss).toFixed(4)} nats/token`);
  if (python) {
    // Line mode's examples exactly as heed builds them (src/data/corpus.ts), and the model heed builds.
    const maxLen = Math.min(256, Math.max(...lines.map((l) => tokenizer.encode(l).length + 1)));
    const rows = (idx) => {
      const d = lineExamples(tokenizer, lines, idx, maxLen).data, out = { inputs: [], targets: [] };
      for (let i = 0; i + 1 < d.offsets.length; i++) {
        out.inputs.push(Array.from(d.tokens.subarray(d.offsets[i], d.offsets[i + 1])));
        out.targets.push(Array.from(d.targets.labels.subarray(d.offsets[i], d.offsets[i + 1])));
      }
      return out;
    };
    const base = { vocabSize: V, maxLen, dModel: 64, heads: 4, layers: 2, ffDim: 256, lr: 3e-3, weightDecay: 0.1, batchSize: 32, epochs: fixedEpochs };
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const torch = [], ours = [];
    for (const seed of [0, 1, 2]) {
      const json = join(dir, 'data.json');
      // heed's --seed picks the split too: PyTorch gets the same one.
      const seeded = stratifiedSplit(new Int32Array(lines.length), 0.2, seed);
      writeFileSync(json, JSON.stringify({ ...base, seed, train: rows(seeded.train), val: rows(seeded.val) }));
      torch.push(JSON.parse(execFileSync(python, [new URL('./lm_torch.py', import.meta.url).pathname, json], { encoding: 'utf8' })).valLoss);
      const said = execFileSync(process.execPath, [new URL('../dist/cli/main.js', import.meta.url).pathname, 'train', file, '--task', 'lm', '--out', join(dir, 'f.safetensors'), '--quiet',
        '--epochs', String(fixedEpochs), '--patience', '0', '--no-refit', '--seed', String(seed)], { encoding: 'utf8' });
      ours.push(Number(/validation loss ([\d.]+) nats\/token/.exec(said)?.[1]));
    }
    const show = (xs) => `${mean(xs).toFixed(4)} (seeds 0–2: ${xs.map((x) => x.toFixed(4)).join(', ')})`;
    console.log(`${fixedEpochs} epochs, no early stopping: heed ${show(ours)}; PyTorch ${show(torch)}; heed/PyTorch ${(mean(ours) / mean(torch)).toFixed(3)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
