#!/usr/bin/env node
// A baseline for heed to beat: bag of word 1-2-grams (TF-IDF) + multinomial logistic regression,
// in plain JavaScript with no dependencies.
//
//   node bench/baseline.mjs <data.csv> [--val-split 0.2] [--seed 0] [--label-col label]
//                           [--text-col sequence] [--l2 X] [--json] [--test test.csv]
//   --test: train on every row of <data.csv> and score on test.csv instead of a split.
//
// THE SPLIT (seeded, stratified; the same rows as heed's stratifiedSplit in src/data/dataset.ts):
//   1. Classes are the distinct values of the label column, trimmed of surrounding whitespace, and
//      sorted by JavaScript's default string order (UTF-16 code units, i.e. `labels.sort()`) —
//      except that when every label is a decimal number they sort numerically ("2" before "10";
//      equal values in code-unit order), as heed does.
//   2. One Rng(seed) is made (xoshiro128** seeded through splitmix32, exactly as src/nn/rng.ts;
//      copied below: constructor, nextU32, uniform, int, shuffle).
//   3. For each class in sorted order, the indices of its data rows (0-based, header and blank lines
//      excluded, in file order) are collected and shuffled in place with rng.shuffle (Fisher–Yates
//      from the end: for i = n-1 down to 1, j = rng.int(i + 1), swap a[i] and a[j]); the same rng
//      carries on from one class to the next.
//   4. The first k = Math.round(valFraction * count) shuffled indices of each class go to
//      validation, the rest to training. (Edge cases, as in heed: k is clamped to [1, count - 1]
//      for a class of >= 2 rows, and is 0 for a class of one row.)
//
// THE MODEL:
//   - Text is lowercased (String#toLowerCase) and tokenised with
//     /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu; features are the tokens (unigrams)
//     and adjacent token pairs (bigrams).
//   - The vocabulary comes from the training split only: n-grams occurring at least twice there.
//   - Weights: sublinear TF (1 + ln tf) times smooth IDF (ln((1 + N) / (1 + df)) + 1), each row
//     L2-normalised.
//   - Multinomial logistic regression (weights and biases), mean cross-entropy + l2/2·|W|² (biases
//     not regularised), full-batch Adam (lr 0.05, β 0.9/0.999, 300 steps, zero init).
//   - Unless --l2 is given, l2 is chosen from {1e-4, 1e-3, 1e-2} by accuracy on a held-out 10% of
//     the training split (split the same stratified way with Rng(seed + 1), vocabulary rebuilt from
//     the remaining 90%); ties go to the larger l2. The final model is then trained on the whole
//     training split and scored on validation.

import { readFileSync } from 'node:fs';

// ---------------------------------------------------------------------------------------------
// Arguments

function usage(msg) {
  if (msg) console.error(`baseline: ${msg}`);
  console.error('usage: node bench/baseline.mjs <data.csv> [--val-split 0.2] [--seed 0] ' +
    '[--label-col label] [--text-col sequence] [--l2 X] [--json]');
  process.exit(2);
}

const opts = { valSplit: 0.2, seed: 0, labelCol: 'label', textCol: 'sequence', l2: null, json: false };
let file = null;
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    const num = (s) => {
      const x = Number(s);
      if (!Number.isFinite(x)) usage(`${a}: not a number: ${s}`);
      return x;
    };
    if (a === '--val-split') opts.valSplit = num(val());
    else if (a === '--seed') opts.seed = num(val());
    else if (a === '--label-col') opts.labelCol = val();
    else if (a === '--text-col') opts.textCol = val();
    else if (a === '--l2') opts.l2 = num(val());
    else if (a === '--json') opts.json = true;
    else if (a === '--test') opts.test = val();
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (file === null) file = a;
    else usage(`unexpected argument ${a}`);
  }
  if (file === null) usage('no data file');
  if (!(opts.valSplit > 0 && opts.valSplit < 1)) usage('--val-split must be in (0, 1)');
}

// ---------------------------------------------------------------------------------------------
// RFC 4180 CSV: fields separated by commas, records by CRLF or LF; a quoted field may hold commas,
// line breaks and doubled quotes. A leading BOM is skipped.

function parseCsv(text) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows = [];
  let row = [], field = '', i = 0, quoted = false;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      field += c; i++; continue;
    }
    if (c === '"' && field === '') { quoted = true; i++; continue; }
    if (c === ',') { row.push(field); field = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') i++;
    if (c === '\n' || c === '\r') { row.push(field); rows.push(row); row = []; field = ''; i++; continue; }
    field += c; i++;
  }
  if (quoted) throw new Error('unterminated quoted field at end of file');
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Rng: xoshiro128** seeded through splitmix32, copied from src/nn/rng.ts.

class Rng {
  #s = new Uint32Array(4);

  constructor(seed) {
    let x = (Math.trunc(seed) >>> 0) ^ 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  nextU32() {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  uniform() {
    return this.nextU32() / 4294967296;
  }

  int(n) {
    return Math.floor(this.uniform() * n);
  }

  shuffle(a) {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]; a[i] = a[j]; a[j] = t;
    }
  }
}

function rotl(x, k) {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Seeded stratified split of `indices` (row numbers) whose class ids are y[index]; classes are
 * visited in id order (ids follow the sorted label order). Returns { train, val } index arrays.
 */
function stratifiedSplit(indices, y, numClasses, fraction, seed) {
  const byClass = Array.from({ length: numClasses }, () => []);
  for (const i of indices) byClass[y[i]].push(i);
  const rng = new Rng(seed);
  const train = [], val = [];
  for (const rows of byClass) {
    rng.shuffle(rows);
    const k = rows.length >= 2 ? Math.min(rows.length - 1, Math.max(1, Math.round(fraction * rows.length))) : 0;
    for (let j = 0; j < rows.length; j++) (j < k ? val : train).push(rows[j]);
  }
  return { train, val };
}

// ---------------------------------------------------------------------------------------------
// Features

const TOKEN = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu;

function ngrams(text) {
  const toks = text.toLowerCase().match(TOKEN) ?? [];
  const out = toks.slice();
  for (let i = 0; i + 1 < toks.length; i++) out.push(toks[i] + ' ' + toks[i + 1]);
  return out;
}

/** Vocabulary (n-gram -> column) and IDF from the given rows: n-grams seen >= 2 times. */
function buildVocab(grams, rows) {
  const count = new Map();
  for (const r of rows) for (const g of grams[r]) count.set(g, (count.get(g) ?? 0) + 1);
  const vocab = new Map();
  for (const [g, c] of count) if (c >= 2) vocab.set(g, vocab.size);
  const df = new Float64Array(vocab.size);
  for (const r of rows) {
    for (const g of new Set(grams[r])) {
      const j = vocab.get(g);
      if (j !== undefined) df[j]++;
    }
  }
  const idf = new Float64Array(vocab.size);
  for (let j = 0; j < idf.length; j++) idf[j] = Math.log((1 + rows.length) / (1 + df[j])) + 1;
  return { vocab, idf };
}

/** Sparse TF-IDF rows (CSR), L2-normalised. */
function vectorise(grams, rows, { vocab, idf }) {
  const ptr = new Int32Array(rows.length + 1);
  const cols = [], vals = [];
  for (let k = 0; k < rows.length; k++) {
    const tf = new Map();
    for (const g of grams[rows[k]]) {
      const j = vocab.get(g);
      if (j !== undefined) tf.set(j, (tf.get(j) ?? 0) + 1);
    }
    const js = [...tf.keys()].sort((a, b) => a - b);
    let norm = 0;
    const start = vals.length;
    for (const j of js) {
      const v = (1 + Math.log(tf.get(j))) * idf[j];
      cols.push(j); vals.push(v); norm += v * v;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let t = start; t < vals.length; t++) vals[t] /= norm;
    ptr[k + 1] = vals.length;
  }
  return { ptr, cols: Int32Array.from(cols), vals: Float64Array.from(vals), n: rows.length };
}

// ---------------------------------------------------------------------------------------------
// Multinomial logistic regression, full-batch Adam

const STEPS = 300, LR = 0.05, B1 = 0.9, B2 = 0.999, EPS = 1e-8;

function train(X, labels, numFeatures, C, l2) {
  const P = numFeatures * C + C; // weights [numFeatures][C], then biases [C]
  const w = new Float64Array(P), g = new Float64Array(P);
  const m = new Float64Array(P), v = new Float64Array(P);
  const logits = new Float64Array(C);
  const bOff = numFeatures * C;
  for (let step = 1; step <= STEPS; step++) {
    g.fill(0);
    for (let k = 0; k < X.n; k++) {
      const a = X.ptr[k], b = X.ptr[k + 1];
      for (let c = 0; c < C; c++) logits[c] = w[bOff + c];
      for (let t = a; t < b; t++) {
        const base = X.cols[t] * C, x = X.vals[t];
        for (let c = 0; c < C; c++) logits[c] += w[base + c] * x;
      }
      let mx = -Infinity;
      for (let c = 0; c < C; c++) if (logits[c] > mx) mx = logits[c];
      let z = 0;
      for (let c = 0; c < C; c++) { logits[c] = Math.exp(logits[c] - mx); z += logits[c]; }
      for (let c = 0; c < C; c++) logits[c] = (logits[c] / z - (c === labels[k] ? 1 : 0)) / X.n;
      for (let c = 0; c < C; c++) g[bOff + c] += logits[c];
      for (let t = a; t < b; t++) {
        const base = X.cols[t] * C, x = X.vals[t];
        for (let c = 0; c < C; c++) g[base + c] += logits[c] * x;
      }
    }
    for (let p = 0; p < bOff; p++) g[p] += l2 * w[p];
    const c1 = 1 - B1 ** step, c2 = 1 - B2 ** step;
    for (let p = 0; p < P; p++) {
      m[p] = B1 * m[p] + (1 - B1) * g[p];
      v[p] = B2 * v[p] + (1 - B2) * g[p] * g[p];
      w[p] -= (LR * (m[p] / c1)) / (Math.sqrt(v[p] / c2) + EPS);
    }
  }
  return { w, C, bOff };
}

function accuracy({ w, C, bOff }, X, labels) {
  let right = 0;
  const logits = new Float64Array(C);
  for (let k = 0; k < X.n; k++) {
    for (let c = 0; c < C; c++) logits[c] = w[bOff + c];
    for (let t = X.ptr[k]; t < X.ptr[k + 1]; t++) {
      const base = X.cols[t] * C, x = X.vals[t];
      for (let c = 0; c < C; c++) logits[c] += w[base + c] * x;
    }
    let best = 0;
    for (let c = 1; c < C; c++) if (logits[c] > logits[best]) best = c;
    if (best === labels[k]) right++;
  }
  return X.n ? right / X.n : NaN;
}

function fitAndScore(grams, y, C, trainRows, evalRows, l2) {
  const feats = buildVocab(grams, trainRows);
  const Xtr = vectorise(grams, trainRows, feats), Xev = vectorise(grams, evalRows, feats);
  const model = train(Xtr, trainRows.map((r) => y[r]), feats.vocab.size, C, l2);
  return { acc: accuracy(model, Xev, evalRows.map((r) => y[r])), vocabSize: feats.vocab.size };
}

// ---------------------------------------------------------------------------------------------
// Main

const t0 = performance.now();
const table = parseCsv(readFileSync(file, 'utf8'));
if (table.length < 2) usage(`${file}: no data rows`);
const header = table[0];
const li = header.indexOf(opts.labelCol), ti = header.indexOf(opts.textCol);
if (li < 0) usage(`${file}: no column "${opts.labelCol}" in header ${JSON.stringify(header)}`);
if (ti < 0) usage(`${file}: no column "${opts.textCol}" in header ${JSON.stringify(header)}`);
const data = table.slice(1).filter((r) => !(r.length === 1 && r[0] === '')); // blank lines
data.forEach((r, k) => {
  if (r.length !== header.length) usage(`${file}: data row ${k + 1} has ${r.length} fields, header has ${header.length}`);
});

const labelOf = data.map((r) => r[li].trim());
const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const classes = [...new Set(labelOf)].sort();
if (classes.every((c) => NUMERIC.test(c))) {
  classes.sort((a, b) => {
    const d = Number(a) - Number(b); // NaN for Infinity - Infinity: falls back to code units
    return (d < 0 ? -1 : d > 0 ? 1 : 0) || (a < b ? -1 : a > b ? 1 : 0);
  });
}
const classId = new Map(classes.map((c, i) => [c, i]));
const y = Int32Array.from(labelOf, (l) => classId.get(l));
const counts = classes.map((_, c) => y.reduce((n, v) => n + (v === c ? 1 : 0), 0));
const C = classes.length;
if (C < 2) usage(`${file}: needs at least two classes`);

const all = data.map((_, i) => i);
let { train: trainRows, val: valRows } = stratifiedSplit(all, y, C, opts.valSplit, opts.seed);
let yAll = y;
const grams = data.map((r) => ngrams(r[ti]));
if (opts.test) {
  // --test FILE: train on every row of <data.csv>, score on FILE (same columns).
  const tt = parseCsv(readFileSync(opts.test, 'utf8'));
  const th = tt[0], tli = th.indexOf(opts.labelCol), tti = th.indexOf(opts.textCol);
  if (tli < 0 || tti < 0) usage(`${opts.test}: needs columns "${opts.labelCol}" and "${opts.textCol}"`);
  const rows = tt.slice(1).filter((r) => !(r.length === 1 && r[0] === ''));
  const ty = rows.map((r, k) => {
    const c = classId.get(r[tli].trim());
    if (c === undefined) usage(`${opts.test}: row ${k + 1} has label "${r[tli]}" not seen in ${file}`);
    return c;
  });
  trainRows = all;
  valRows = rows.map((_, k) => data.length + k);
  yAll = Int32Array.from([...y, ...ty]);
  for (const r of rows) grams.push(ngrams(r[tti]));
}

let l2 = opts.l2;
const tuning = [];
if (l2 === null) {
  const inner = stratifiedSplit(trainRows, yAll, C, 0.1, opts.seed + 1);
  let best = -1;
  for (const cand of [1e-4, 1e-3, 1e-2]) {
    const { acc } = fitAndScore(grams, yAll, C, inner.train, inner.val, cand);
    tuning.push({ l2: cand, accuracy: acc });
    if (acc >= best) { best = acc; l2 = cand; }
  }
}
const { acc, vocabSize } = fitAndScore(grams, yAll, C, trainRows, valRows, l2);
const seconds = (performance.now() - t0) / 1000;
const majority = Math.max(...classes.map((_, c) => valRows.filter((r) => yAll[r] === c).length)) / valRows.length;

if (opts.json) {
  console.log(JSON.stringify({
    accuracy: acc, n: valRows.length, classes,
    train: trainRows.length, vocab: vocabSize, l2, majority, seconds: Number(seconds.toFixed(2)),
  }));
} else {
  console.log(`data: ${file}: ${data.length} rows, ${C} classes`);
  for (let c = 0; c < C; c++) console.log(`  ${classes[c]}: ${counts[c]}`);
  console.log(`split: seed ${opts.seed}, val fraction ${opts.valSplit}: train ${trainRows.length}, val ${valRows.length}`);
  console.log(`vocabulary: ${vocabSize} 1-2-grams (min count 2, from the training split)`);
  if (tuning.length) {
    console.log(`l2 on a held-out 10% of train: ${tuning.map((t) => `${t.l2}: ${t.accuracy.toFixed(3)}`).join(', ')} -> ${l2}`);
  } else {
    console.log(`l2: ${l2}`);
  }
  console.log(`majority class on val: ${majority.toFixed(3)}`);
  console.log(`baseline (bag of 1-2-grams, logistic regression): val accuracy ${acc.toFixed(3)} (n=${valRows.length})`);
  console.log(`time: ${seconds.toFixed(1)} s`);
}
