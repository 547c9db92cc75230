// CSV and text input under attack: fuzzed bytes and strings through readLabeledCsv and
// parseLabeledCsv, control characters, a 1 GiB line read in bounded memory, a 100k-token sequence,
// and empty labels. Each ends in a one-line HeedError or a sane result.
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import { parseLabeledCsv, readLabeledCsv, type LabeledTexts } from '../../src/io/csv.js';
import { CsvParser, MAX_RECORD_CHARS, MAX_RECORD_FIELDS, type CsvRecord } from '../../src/io/csv-parser.js';
import { indexLabels } from '../../src/data/dataset.js';
import { Tokenizer } from '../../src/data/tokenizer.js';
import { FUZZ_SEED, Gen, ONLY_CASE, fuzzCases } from './fuzz-util.js';

let dir = '';
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'heed-csv-fuzz-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

const PIECES = ['label', 'sequence', 'a', 'bb', 'pos', 'neg', ' ', '\t', ',', ',', ',', '"', '"', '""', '\r', '\n', '\n', '\r\n',
  '\u0000', '\u0001', '\u0008', '\u000b', '\u000c', '\u001b', '\u007f', '\u0085', '\u00a0', '\u2028', '\u2029', '\ufeff', '\ufffd',
  'é', 'e\u0301', '😀', '👩‍👩‍👧', '日本', '\ud800', '\udc00'];

/** A random CSV-ish text: sometimes a valid labeled file, then mutated piece by piece. */
function fuzzText(g: Gen): string {
  let text = '';
  if (g.chance(0.6)) {
    text = g.pick(['label,sequence\n', 'sequence,label\r\n', 'label,sequence,extra\n', '\ufefflabel,sequence\n', 'Label , Sequence\n']);
    const rows = g.int(6);
    for (let r = 0; r < rows; r++) {
      const field = () => Array.from({ length: g.int(4) }, () => g.pick(PIECES)).join('');
      const quoted = (s: string) => `"${s.replaceAll('"', '""')}"`;
      text += [field(), field()].map((f) => (g.chance(0.5) ? quoted(f) : f.replace(/[",\r\n]/g, ''))).join(',') + g.pick(['\n', '\r\n', '\r', '']);
    }
    const edits = g.int(4);
    for (let e = 0; e < edits; e++) {
      const i = g.int(text.length + 1), op = g.int(3);
      text = op === 0 ? text.slice(0, i) + g.pick(PIECES) + text.slice(i) : op === 1 ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + g.pick(PIECES) + text.slice(i + 1);
    }
  } else {
    const n = g.int(40);
    for (let k = 0; k < n; k++) text += g.pick(PIECES);
  }
  return text;
}

/** Raw bytes: the UTF-8 of a fuzz text with byte-level damage, or plain random bytes. */
function fuzzBytes(g: Gen): Uint8Array {
  if (g.chance(0.15)) return g.bytes(g.int(64));
  const b = Array.from(new TextEncoder().encode(fuzzText(g)));
  const edits = g.chance(0.5) ? 0 : g.range(1, 3);
  for (let e = 0; e < edits; e++) {
    const i = g.int(b.length + 1), v = g.pick([0xff, 0xfe, 0xc0, 0xc1, 0x80, 0xbf, 0xe2, 0xed, 0xf0, 0xf4, 0xf5, g.int(256)]);
    if (g.chance(0.5)) b.splice(i, 0, v); else if (i < b.length) b[i] ^= 1 << g.int(8);
  }
  if (g.chance(0.1)) b.length = g.int(b.length + 1);
  return Uint8Array.from(b);
}

/** What a reader gave: its result, or its HeedError's message with the source name replaced. */
type Outcome = { ok: LabeledTexts } | { error: string };

function checkOutcome(tag: string, source: string, run: () => LabeledTexts): Outcome {
  let r: LabeledTexts;
  try {
    r = run();
  } catch (e) {
    if (!(e instanceof HeedError)) throw new Error(`${tag}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    if (/[\r\n\u2028\u2029]/.test(e.message)) throw new Error(`${tag}: message is not one line: ${JSON.stringify(e.message)}`);
    if (!e.message.startsWith(`${source}:`)) throw new Error(`${tag}: message does not name the source: ${JSON.stringify(e.message)}`);
    if (e.message.length > 2000) throw new Error(`${tag}: message is ${e.message.length} characters long`);
    return { error: e.message.slice(source.length) };
  }
  return { ok: sane(tag, r) };
}

function sane(tag: string, r: LabeledTexts): LabeledTexts {
  const fail = (why: string) => { throw new Error(`${tag}: insane result (${why}): ${JSON.stringify(r).slice(0, 300)}`); };
  if (!Array.isArray(r.header) || !r.header.every((h) => typeof h === 'string')) fail('header');
  const n = r.labels.length;
  if (n === 0 || r.texts.length !== n || r.lines.length !== n) fail('lengths');
  if (!r.labels.every((l) => typeof l === 'string') || !r.texts.every((t) => typeof t === 'string')) fail('types');
  for (let i = 0; i < n; i++) if (!Number.isInteger(r.lines[i]) || r.lines[i] < 2 || (i > 0 && r.lines[i] <= r.lines[i - 1])) fail('line numbers');
  return r;
}

const SRC = 'fuzz.csv';

describe('CSV fuzz', () => {
  const CASES = fuzzCases(1500), FILE_CASES = Math.ceil(CASES / 4);

  it(`${CASES} fuzzed strings through parseLabeledCsv: a one-line HeedError or a sane result; chunking changes nothing`, () => {
    const failures: string[] = [];
    let ok = 0;
    for (let i = 0; i < CASES; i++) {
      if (ONLY_CASE !== undefined && i !== ONLY_CASE) continue;
      const g = new Gen(FUZZ_SEED + 31 * i);
      const text = fuzzText(g);
      const tag = `HEED_FUZZ_SEED=${FUZZ_SEED} HEED_FUZZ_CASE=${i} ${JSON.stringify(text).slice(0, 200)}`;
      try {
        const whole = checkOutcome(tag, SRC, () => parseLabeledCsv(text, SRC));
        if ('ok' in whole) ok++;
        // The same text fed to the parser in small chunks gives the same records or the same error.
        const size = g.range(1, 7);
        const chunked = (): CsvRecord[] | string => {
          const p = new CsvParser(SRC), out: CsvRecord[] = [];
          try {
            for (let k = 0; k < text.length; k += size) out.push(...p.push(text.slice(k, k + size)));
            out.push(...p.end());
            return out;
          } catch (e) { return (e as Error).message; }
        };
        const one = (): CsvRecord[] | string => {
          const p = new CsvParser(SRC);
          try { return [...p.push(text), ...p.end()]; } catch (e) { return (e as Error).message; }
        };
        expect(chunked(), `${tag} chunk size ${size}`).toEqual(one());
      } catch (e) {
        failures.push((e as Error).message.slice(0, 600));
      }
    }
    console.log(`CSV string fuzz: ${CASES} cases, ${ok} parsed`);
    expect(failures.slice(0, 10)).toEqual([]);
    if (ONLY_CASE === undefined) expect(ok).toBeGreaterThan(CASES / 20);
  });

  it(`${FILE_CASES} fuzzed files through readLabeledCsv: a one-line HeedError or the same result as the string parser`, async () => {
    const failures: string[] = [];
    let ok = 0, badUtf8 = 0;
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    for (let i = 0; i < FILE_CASES; i++) {
      if (ONLY_CASE !== undefined && i !== ONLY_CASE) continue;
      const g = new Gen(FUZZ_SEED + 97 * i + 1);
      const bytes = fuzzBytes(g);
      const path = join(dir, `f${i % 8}.csv`);
      writeFileSync(path, bytes);
      const tag = `HEED_FUZZ_SEED=${FUZZ_SEED} HEED_FUZZ_CASE=${i} bytes ${Buffer.from(bytes).toString('hex').slice(0, 200)}`;
      try {
        let got: Outcome;
        try {
          got = { ok: sane(tag, await readLabeledCsv(path)) };
        } catch (e) {
          got = checkOutcome(tag, path, () => { throw e; });
        }
        if ('ok' in got) ok++;
        let text: string | null = null;
        try { text = strict.decode(bytes); } catch { badUtf8++; }
        if (text === null) {
          // Invalid UTF-8 is an error naming a line (unless a CSV error comes first).
          if ('ok' in got) throw new Error(`${tag}: invalid UTF-8 was accepted`);
        } else {
          const want = checkOutcome(tag, SRC, () => parseLabeledCsv(text, SRC));
          expect(got, tag).toEqual(want);
        }
      } catch (e) {
        failures.push((e as Error).message.slice(0, 600));
      }
    }
    console.log(`CSV file fuzz: ${FILE_CASES} files, ${ok} parsed, ${badUtf8} with invalid UTF-8`);
    expect(failures.slice(0, 10)).toEqual([]);
  });

  it('control characters are ordinary characters: kept in fields, tokenized, one-line errors', () => {
    const ctl = '\u0000\u0001\u0007\u0008\u000b\u000c\u001b\u007f\u0085\u2028\u2029\ufeff';
    const r = parseLabeledCsv(`label,sequence\npos,"a${ctl}b"\nne\u0000g,x\u001by\n`, SRC);
    expect(r.labels).toEqual(['pos', 'ne\u0000g']);
    expect(r.texts).toEqual([`a${ctl}b`, 'x\u001by']);
    const tok = Tokenizer.build(r.texts, { type: 'word', minFreq: 1 });
    for (const t of r.texts) expect(tok.encode(t).every((id) => id > 0 && id < tok.vocabSize)).toBe(true);
    const ch = Tokenizer.build(r.texts, { type: 'char' });
    for (const t of r.texts) expect(ch.encode(t).every((id) => id > 0 && id < ch.vocabSize)).toBe(true);
    // An error right after control characters still reads as one line.
    for (const bad of ['label,sequence\npos,"a\u0000"\u001b\n', 'label,sequence\n\u2028"x"\u2029,y\n', 'lab\u0000el,seq\nx,y\n']) {
      const e = (() => { try { parseLabeledCsv(bad, SRC); } catch (err) { return err as Error; } return null; })();
      expect(e).toBeInstanceOf(HeedError);
      expect(e!.message).not.toMatch(/[\r\n\u2028\u2029\u0000\u001b]/);
    }
  });

  it('a header of 60,000 columns without label or sequence: the error stays short', () => {
    const header = Array.from({ length: 60_000 }, (_, i) => `c${i}`).join(',');
    let e: Error | null = null;
    try { parseLabeledCsv(`${header}\n${'x,'.repeat(59_999)}x\n`, SRC); } catch (err) { e = err as Error; }
    expect(e).toBeInstanceOf(HeedError);
    expect(e!.message).toMatch(/^fuzz\.csv:1: the header has no columns "label" and "sequence"/);
    expect(e!.message.length).toBeLessThan(1000);
  });
});

describe('CSV record limits', () => {
  const records = (text: string, size: number, opts: { maxRecordChars?: number; maxFields?: number }): CsvRecord[] | string => {
    const p = new CsvParser(SRC, opts), out: CsvRecord[] = [];
    try {
      for (let k = 0; k < text.length; k += size) out.push(...p.push(text.slice(k, k + size)));
      out.push(...p.end());
      return out;
    } catch (e) {
      expect(e).toBeInstanceOf(HeedError);
      return (e as Error).message;
    }
  };

  it('a record over the character limit is an error naming its line, whatever the chunking; at the limit it is fine', () => {
    const limit = 10;
    const cases: [string, RegExp | number][] = [
      ['a,b\n0123456789\n', 2],                                   // exactly 10: fine
      ['a,b\n01234,6789\n', 2],
      ['a,b\n01234567890\n', /^fuzz\.csv:2: record longer than 10 characters/],
      ['a,b\n\n\n0123,56789,\n', /^fuzz\.csv:4: record longer than 10/],
      ['a,b\n"0123456789\n', /^fuzz\.csv:2: record longer than 10 characters.*the quote opened on line 2 may never close/],
      ['a,b\n"01""2345"\n', 2],                                   // 10 characters as written, quotes included
      ['a,b\n"01""234567"\n', /^fuzz\.csv:2: record longer than 10/], // 11 before the closing quote
      ['a,b\n0123456789"\n', /^fuzz\.csv:2: stray quote/],        // the stray quote is within the limit: that error wins
      ['a,b\n0123456789x"\n', /^fuzz\.csv:2: record longer than 10/], // past the limit first
    ];
    for (const [text, want] of cases) {
      const whole = records(text, text.length, { maxRecordChars: limit });
      if (typeof want === 'number') expect(whole, JSON.stringify(text)).toHaveLength(want);
      else expect(whole, JSON.stringify(text)).toMatch(want);
      for (let size = 1; size <= 7; size++) expect(records(text, size, { maxRecordChars: limit }), `${JSON.stringify(text)} / ${size}`).toEqual(whole);
    }
  });

  it('a record with too many fields is an error naming its line', () => {
    expect(records('a,b,c\nx,y,z\n', 3, { maxFields: 3 })).toHaveLength(2);
    expect(records('a,b,c\nw,x,y,z\n', 3, { maxFields: 3 })).toMatch(/^fuzz\.csv:2: more than 3 fields in one record/);
    expect(records('a,b\n"x","y","z"\n', 2, { maxFields: 2 })).toMatch(/^fuzz\.csv:2: more than 2 fields/);
    expect(MAX_RECORD_FIELDS).toBe(65_536);
    expect(MAX_RECORD_CHARS).toBe(64 * 2 ** 20);
  });

  // The "1 GB line claim": a 1 GiB file whose second line never ends (a sparse file of NUL
  // bytes after "x,", so it costs no disk). The reader must stop at the 64 Mi-character record limit
  // with an error naming line 2, holding far less than the file in memory.
  it.each([
    ['an unquoted field', 'x,', /:2: record longer than 67,108,864 characters, the most heed reads in one CSV record$/],
    ['a quoted field that never closes', 'x,"', /:2: record longer than 67,108,864 characters.*the quote opened on line 2 may never close/],
  ])('a 1 GiB line (%s) ends in a HeedError at the record limit, in bounded memory', async (_, start, msg) => {
    const path = join(dir, 'huge.csv');
    const fd = openSync(path, 'w');
    writeSync(fd, `label,sequence\n${start}`);
    ftruncateSync(fd, 2 ** 30);
    closeSync(fd);
    (globalThis as { gc?: () => void }).gc?.();
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
    const t0 = performance.now();
    let err: unknown;
    try { await readLabeledCsv(path); } catch (e) { err = e; }
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    const seconds = (performance.now() - t0) / 1000, grew = (peak - rss0) / 2 ** 20;
    console.log(`1 GiB line (${start}): ${seconds.toFixed(2)} s, peak RSS growth ${grew.toFixed(0)} MiB`);
    rmSync(path);
    expect(err).toBeInstanceOf(HeedError);
    expect((err as Error).message).toMatch(msg);
    expect((err as Error).message.startsWith(`${path}:2:`)).toBe(true);
    // One record is held (at most 64 Mi one-byte characters, plus chunk strings): far below 1 GiB.
    expect(grew).toBeLessThan(400);
    expect(seconds).toBeLessThan(15);
  });
});

describe('text input', () => {
  const words = ['the', 'cat', 'dog', 'sat', 'ran', 'on', 'a', 'mat', 'fast', 'slowly'];
  const text = Array.from({ length: 100_000 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(' ');

  it('a 100k-token sequence: the tokenizer and a pooling model take it (wasm and js agree); a transformer rejects T > maxLen', async () => {
    const tok = Tokenizer.build([text], { type: 'word', minFreq: 1 });
    const ids = tok.encode(text);
    expect(ids.length).toBe(100_000);
    const logits: Float32Array[] = [];
    for (const backend of ['wasm', 'js'] as const) {
      const h = await init({ backend });
      const m = h.attentionPoolingClassifier({ vocabSize: tok.vocabSize, dModel: 16, classes: 3, seed: 5 });
      const t0 = performance.now();
      const out = m.forward(ids, [1, ids.length]);
      const y = out.toArray();
      expect(y.every(Number.isFinite)).toBe(true);
      logits.push(y);
      // and it trains on it
      const opt = h.adamwOptimizer(m, { lr: 1e-3 });
      expect(Number.isFinite(h.trainStep(m, opt, ids, [1, ids.length], Int32Array.of(2)))).toBe(true);
      console.log(`${backend}: pooling forward + train step on T = 100,000 in ${(performance.now() - t0).toFixed(0)} ms`);
      out.dispose(); opt.dispose(); m.dispose();

      const tr = h.transformerClassifier({ vocabSize: tok.vocabSize, maxLen: 128, dModel: 8, heads: 2, ffDim: 16, layers: 1 });
      expect(() => tr.forward(ids, [1, ids.length])).toThrow(HeedError);
      expect(() => tr.forward(ids, [1, ids.length])).toThrow('sequence length T = 100000 exceeds maxLen 128');
      const cut = tok.encode(text, 128);
      expect(cut.length).toBe(128);
      expect(tr.forward(cut, [1, 128]).toArray().every(Number.isFinite)).toBe(true);
      tr.dispose();
    }
    for (let c = 0; c < 3; c++) expect(logits[0][c]).toBeCloseTo(logits[1][c], 3);
  });

  it('a 100k-character sequence through the char tokenizer', () => {
    const chars = 'abcdéfghi😀'.repeat(10_000); // 100k characters (110k UTF-16 units)
    const tok = Tokenizer.build([chars], { type: 'char' });
    const ids = tok.encode(chars);
    expect(ids.length).toBe(100_000);
    expect(ids.every((id) => id >= 1 && id < tok.vocabSize)).toBe(true);
  });

  it('labels that are empty strings: a clear error naming the row (and its line)', () => {
    const r = parseLabeledCsv('label,sequence\npos,a b\n,c d\n"",e\nneg,f\n', SRC);
    expect(r.labels).toEqual(['pos', '', '', 'neg']); // the reader returns them as they are…
    let e: Error | null = null;
    try { indexLabels(r.labels); } catch (err) { e = err as Error; }
    expect(e).toBeInstanceOf(HeedError);                // …and indexing them names the first empty one
    expect(e!.message).toBe('indexLabels: the label of row 1 is an empty string');
    expect(r.lines[1]).toBe(3);                         // row 1 is line 3 of the file (the header is line 1)
  });

  it('an empty text pools to zeros: finite logits, no NaN', async () => {
    const r = parseLabeledCsv('label,sequence\npos,\nneg,""\n', SRC);
    expect(r.texts).toEqual(['', '']);
    const h = await init({ backend: 'wasm' });
    const tok = Tokenizer.build(['a b'], { minFreq: 1 });
    const ids = tok.encode(r.texts[0]);
    expect(ids.length).toBe(0);
    const m = h.attentionPoolingClassifier({ vocabSize: tok.vocabSize, dModel: 4 });
    const padded = new Int32Array(4); // one all-padding row
    expect(m.forward(padded, [1, 4]).toArray().every(Number.isFinite)).toBe(true);
    const t = h.transformerClassifier({ vocabSize: tok.vocabSize, maxLen: 4, dModel: 4, heads: 1 });
    expect(t.forward(padded, [1, 4]).toArray().every(Number.isFinite)).toBe(true);
  });
});
