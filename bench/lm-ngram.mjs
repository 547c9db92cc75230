// The learning figure of `heed train --task lm`: validation loss (nats per predicted token: each
// character of a line and its end marker) of heed's causal LM against smoothed character n-gram
// models of the same lines, the same split (heed's: seeded, --val-split 0.2) and the same tokens.
// The n-gram models are interpolated (Jelinek–Mercer: each order's estimate mixed with the next
// lower one's, down to a uniform over the vocabulary) with add-k at each order; the order, k and
// λ reported are the best on the validation lines themselves, a baseline given every advantage.
// Run after `npm run build`:  node bench/lm-ngram.mjs [corpus.txt] [heed train flags…]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corpusLines, lineExamples } from '../dist/data/corpus.js';
import { stratifiedSplit } from '../dist/data/dataset.js';
import { Tokenizer } from '../dist/data/tokenizer.js';

const file = process.argv[2] ?? new URL('../examples/lm/places.txt', import.meta.url).pathname;
const flags = process.argv.slice(3);
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
} finally {
  rmSync(dir, { recursive: true, force: true });
}
