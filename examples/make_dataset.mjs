#!/usr/bin/env node
// Builds examples/fortunes5.csv, a five-class topic-classification data set, from the fortune
// cookie files of Debian's `fortunes` package (BSD licence; see examples/LICENSE-fortunes.txt).
//
//   apt-get install fortunes          # Debian package `fortunes`, version 1:1.99.1-7.3 (bookworm)
//   node examples/make_dataset.mjs    # writes examples/fortunes5.csv
//
// Options: --dir DIR (where the fortune files are; default /usr/share/games/fortunes),
//          --out FILE (default examples/fortunes5.csv next to this script), --check (compare with
//          the existing output instead of writing it; exits 1 when they differ).
//
// The output is deterministic: it depends on nothing but the input files.
//
// Steps, per category file (entries are separated by lines holding only '%'):
//   1. Doubly encoded UTF-8 (mojibake such as `â\u0080\u0099` for `’`) is repaired.
//      Terminal overstrike is resolved as a terminal would print it: a backspace moves the cursor
//      one character left and the next character overwrites, so `_\bX` (underlined X) becomes `X`
//      and `'\be` (an accented e) becomes `é`. Other control characters (e.g. BEL) are removed.
//   2. Whitespace (newlines, tabs, runs of spaces) collapses to one space; the text is trimmed and
//      NFC-normalised. Attributions ("-- Author, Title") are kept.
//   3. Entries with fewer than 3 words or more than 400 characters are dropped.
//   4. A text that occurs more than once — within one category or in several — is kept once, and
//      only if every occurrence has the same label; texts filed under two of the chosen categories
//      are dropped.
// Rows are interleaved round-robin over the categories (in the order below), each category's rows
// in file order, so that any prefix of the file holds every class.
// CSV: header `label,sequence`, RFC 4180 quoting, UTF-8, LF line ends.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

/** Category file name -> label. */
const CATEGORIES = [
  ['computers', 'computers'],
  ['politics', 'politics'],
  ['science', 'science'],
  ['men-women', 'men_women'],
  ['work', 'work'],
];
const MIN_WORDS = 3;
const MAX_CHARS = 400;

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const dir = opt('--dir', '/usr/share/games/fortunes');
const out = opt('--out', join(here, 'fortunes5.csv'));
const check = args.includes('--check');

const ACCENTS = { "'": '\u0301', '`': '\u0300', '^': '\u0302', '"': '\u0308', '~': '\u0303' };

/** Resolves backspace overstrike the way a terminal prints it. */
function overstrike(s) {
  if (!s.includes('\b')) return s;
  const buf = [];
  let pos = 0;
  for (const c of s) {
    if (c === '\b') { pos = Math.max(0, pos - 1); continue; }
    if (c === '\n') { buf.push(c); pos = buf.length; continue; }
    if (pos < buf.length) {
      const prev = buf[pos];
      buf[pos] = ACCENTS[prev] && /\p{L}/u.test(c) ? (c + ACCENTS[prev]).normalize('NFC') : c;
    } else {
      buf.push(c);
    }
    pos++;
  }
  return buf.join('');
}

/** Repairs UTF-8 that was decoded as Latin-1 and encoded again (a few entries of `computers`). */
function fixDoubleUtf8(s) {
  if (!/[\u00c2-\u00f4][\u0080-\u00bf]/.test(s) || /[^\u0000-\u00ff]/.test(s)) return s;
  const fixed = Buffer.from(s, 'latin1').toString('utf8');
  return fixed.includes('\ufffd') ? s : fixed;
}

function clean(entry) {
  return overstrike(fixDoubleUtf8(entry))
    .replace(/[\u0000-\u0008\u000e-\u001f\u007f]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .normalize('NFC');
}

function readEntries(file) {
  let text;
  try {
    text = readFileSync(join(dir, file), 'utf8');
  } catch (e) {
    console.error(`cannot read ${join(dir, file)}: ${e.message}\ninstall it with: apt-get install fortunes`);
    process.exit(2);
  }
  return text
    .split(/^%$/m)
    .map(clean)
    .filter((t) => t.split(' ').length >= MIN_WORDS && t.length <= MAX_CHARS);
}

function csvField(s) {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// Read, then resolve duplicates.
const perLabel = CATEGORIES.map(([file, label]) => ({ label, texts: readEntries(file) }));
const labelsOf = new Map(); // text -> Set of labels
for (const { label, texts } of perLabel) {
  for (const t of texts) {
    if (!labelsOf.has(t)) labelsOf.set(t, new Set());
    labelsOf.get(t).add(label);
  }
}
let crossDropped = 0, dupDropped = 0;
for (const c of perLabel) {
  const seen = new Set();
  c.texts = c.texts.filter((t) => {
    if (labelsOf.get(t).size > 1) { crossDropped++; return false; }
    if (seen.has(t)) { dupDropped++; return false; }
    seen.add(t);
    return true;
  });
}

// Interleave round-robin.
const lines = ['label,sequence'];
const maxLen = Math.max(...perLabel.map((c) => c.texts.length));
for (let k = 0; k < maxLen; k++) {
  for (const c of perLabel) {
    if (k < c.texts.length) lines.push(`${csvField(c.label)},${csvField(c.texts[k])}`);
  }
}
const csv = lines.join('\n') + '\n';

let version = 'unknown';
try {
  version = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'fortunes'], { encoding: 'utf8' });
} catch { /* not a Debian system, or the files came from elsewhere */ }

console.error(`source: ${dir} (Debian package fortunes ${version})`);
for (const c of perLabel) console.error(`  ${c.label.padEnd(10)} ${c.texts.length}`);
console.error(`  dropped: ${crossDropped} filed under several categories, ${dupDropped} repeated`);
console.error(`  rows: ${lines.length - 1}, bytes: ${Buffer.byteLength(csv)}`);

if (check) {
  let old = '';
  try { old = readFileSync(out, 'utf8'); } catch { /* missing */ }
  if (old !== csv) { console.error(`${out} differs from what the generator makes`); process.exit(1); }
  console.error(`${out} is up to date`);
} else {
  writeFileSync(out, csv);
  console.error(`wrote ${out}`);
}
