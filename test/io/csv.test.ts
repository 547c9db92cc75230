// The CSV reader: RFC 4180 edge cases, line numbers, chunk boundaries anywhere (in the text and in
// the file's bytes), strict UTF-8, and one-line HeedErrors of the form `file:line: problem`.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeedError } from '../../src/errors.js';
import {
  CSV_CHUNK_BYTES, CsvParser, type CsvRecord, findInvalidUtf8, parseLabeledCsv, readCsvFile, readLabeledCsv,
} from '../../src/io/csv.js';
import { rng } from '../util.js';

/** Parses `text` fed in chunks of `size` UTF-16 code units (all at once when size is 0). */
function parse(text: string, size = 0, source = 'src'): CsvRecord[] {
  const p = new CsvParser(source);
  const out: CsvRecord[] = [];
  if (size === 0) out.push(...p.push(text));
  else for (let i = 0; i < text.length; i += size) out.push(...p.push(text.slice(i, i + size)));
  out.push(...p.end());
  return out;
}
const fieldsOf = (text: string) => parse(text).map((r) => r.fields);

/** The HeedError `fn` throws (fails the test when it throws nothing or something else). */
function errorOf(fn: () => unknown): HeedError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HeedError);
    return e as HeedError;
  }
  throw new Error('expected a HeedError, nothing was thrown');
}
async function asyncErrorOf(p: Promise<unknown>): Promise<HeedError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HeedError);
    return e as HeedError;
  }
  throw new Error('expected a HeedError, nothing was thrown');
}
/** Asserts a one-line message starting with `prefix` and containing every key word. */
function expectMessage(e: HeedError, prefix: string, ...words: string[]): void {
  expect(e.message.startsWith(prefix), `"${e.message}" should start with "${prefix}"`).toBe(true);
  expect(e.message).not.toMatch(/[\r\n]/);
  for (const w of words) expect(e.message).toContain(w);
}

async function collect(path: string): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of readCsvFile(path)) out.push(r);
  return out;
}

let dir = '';
let nFile = 0;
/** Writes a temp file (string as UTF-8, or raw bytes) and returns its path. */
function tmpFile(content: string | Uint8Array, name = `f${nFile++}.csv`): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'heed-csv-')); });
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe('CsvParser: RFC 4180', () => {
  it('splits simple records and numbers their lines', () => {
    expect(parse('a,b,c\n1,2,3\n')).toEqual([
      { fields: ['a', 'b', 'c'], line: 1 },
      { fields: ['1', '2', '3'], line: 2 },
    ]);
  });

  it('quoted fields hold commas, newlines and doubled quotes', () => {
    expect(fieldsOf('"a,b","line1\nline2","say ""hi""",""""\n')).toEqual([['a,b', 'line1\nline2', 'say "hi"', '"']]);
    expect(fieldsOf('"",x,""\n')).toEqual([['', 'x', '']]);
    expect(fieldsOf('"a\r\nb","c\rd"\n')).toEqual([['a\r\nb', 'c\rd']]); // line ends inside quotes are kept as-is
  });

  it('empty fields', () => {
    expect(fieldsOf(',,\n,\n')).toEqual([['', '', ''], ['', '']]);
    expect(fieldsOf('a,')).toEqual([['a', '']]);
  });

  it('CRLF, LF and lone CR line ends, mixed', () => {
    expect(parse('a,b\r\nc,d\r\n')).toEqual([{ fields: ['a', 'b'], line: 1 }, { fields: ['c', 'd'], line: 2 }]);
    expect(parse('a\rb\rc')).toEqual([{ fields: ['a'], line: 1 }, { fields: ['b'], line: 2 }, { fields: ['c'], line: 3 }]);
    expect(parse('a\r\nb\nc\rd')).toEqual([
      { fields: ['a'], line: 1 }, { fields: ['b'], line: 2 }, { fields: ['c'], line: 3 }, { fields: ['d'], line: 4 },
    ]);
  });

  it('strips a UTF-8 BOM at the start only', () => {
    expect(parse('\uFEFFlabel,sequence\nx,y\n').map((r) => r.fields)).toEqual([['label', 'sequence'], ['x', 'y']]);
    expect(fieldsOf('a,\uFEFFb\n')).toEqual([['a', '\uFEFFb']]);
    // the BOM alone in the first chunk, after empty chunks
    const p = new CsvParser('src');
    expect([...p.push(''), ...p.push('\uFEFF'), ...p.push('\uFEFFx'), ...p.end()]).toEqual([{ fields: ['\uFEFFx'], line: 1 }]);
  });

  it('a final line without newline', () => {
    expect(fieldsOf('a,b\nc,d')).toEqual([['a', 'b'], ['c', 'd']]);
    expect(fieldsOf('a,"q"')).toEqual([['a', 'q']]);
    expect(fieldsOf('a,"multi\nline"')).toEqual([['a', 'multi\nline']]);
  });

  it('skips blank lines but keeps counting; a line of spaces is a one-field record', () => {
    expect(parse('\n\na\n\n\r\n\rb\n   \n\n')).toEqual([
      { fields: ['a'], line: 3 }, { fields: ['b'], line: 7 }, { fields: ['   '], line: 8 },
    ]);
    expect(parse('')).toEqual([]);
    expect(parse('\r\n\n\r')).toEqual([]);
    expect(parse('\uFEFF')).toEqual([]);
  });

  it('preserves leading and trailing spaces of unquoted fields', () => {
    expect(fieldsOf(' a , b \n')).toEqual([[' a ', ' b ']]);
  });

  it('unicode: surrogate pairs, CJK, combining marks', () => {
    expect(fieldsOf('😀,"日本\n語",e\u0301\n€,"🎉,🎉"')).toEqual([['😀', '日本\n語', 'e\u0301'], ['€', '🎉,🎉']]);
  });

  it('numbers the lines of records after multi-line quoted fields', () => {
    const text = 'h1,h2\n"a\nb\r\nc\rd",x\nnext,1\r\n"",""\n\n"two\n\nblank","x\n"\nlast,2';
    expect(parse(text)).toEqual([
      { fields: ['h1', 'h2'], line: 1 },
      { fields: ['a\nb\r\nc\rd', 'x'], line: 2 },
      { fields: ['next', '1'], line: 6 },
      { fields: ['', ''], line: 7 },
      { fields: ['two\n\nblank', 'x\n'], line: 9 },
      { fields: ['last', '2'], line: 13 },
    ]);
  });

  it('end() is idempotent and push() after end() is an error', () => {
    const p = new CsvParser('src');
    p.push('a');
    expect(p.end()).toEqual([{ fields: ['a'], line: 1 }]);
    expect(p.end()).toEqual([]);
    expectMessage(errorOf(() => p.push('b')), 'src: ', 'after end()');
  });
});

describe('CsvParser: malformed input', () => {
  it('an unterminated quoted field names the line where the quote opened', () => {
    expectMessage(errorOf(() => parse('a,b\nc,"open\nmore\nstuff', 0, 'data.csv')), 'data.csv:2: ', 'unterminated quoted field');
    // the second field opens its quote on line 2, after a closed multi-line field
    expectMessage(errorOf(() => parse('h\n"ok\nfine","bad\nzzz\n', 0, 'data.csv')), 'data.csv:3: ', 'unterminated');
    expectMessage(errorOf(() => parse('"', 0, 'd.csv')), 'd.csv:1: ', 'unterminated');
  });

  it('a stray quote inside an unquoted field', () => {
    expectMessage(errorOf(() => parse('a,b\nab"c,d\n', 0, 'data.csv')), 'data.csv:2: ', 'stray quote', 'unquoted field', 'RFC 4180');
    expectMessage(errorOf(() => parse('x,"a\nb"\nc,d"\n', 0, 'data.csv')), 'data.csv:3: ', 'stray quote');
  });

  it('characters after a closing quote other than a delimiter or line end', () => {
    expectMessage(errorOf(() => parse('a\n"ab"c\n', 0, 'data.csv')), 'data.csv:2: ', 'unexpected character "c"', 'after the closing quote', '""');
    expectMessage(errorOf(() => parse('x,"a\nb"z\n', 0, 'data.csv')), 'data.csv:2: ', '"z"');
    expectMessage(errorOf(() => parse('"ab" ,c\n', 0, 'data.csv')), 'data.csv:1: ', 'unexpected character " "');
    expectMessage(errorOf(() => parse('"ab"\t', 0, 'data.csv')), 'data.csv:1: ', '"\\t"');
  });

  it('a single huge unterminated quote ends in an error quickly', () => {
    const big = 'label,sequence\nx,"' + 'abc,def\n'.repeat(2_000_000); // 16 MB, 2M lines
    const t0 = performance.now();
    expectMessage(errorOf(() => parse(big, 1 << 16, 'big.csv')), 'big.csv:2: ', 'unterminated');
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('is linear: a million short quoted fields in one chunk', () => {
    const text = '"ab",c,"d""e"\n'.repeat(1_000_000);
    const t0 = performance.now();
    const p = new CsvParser('src');
    let n = p.push(text).length;
    n += p.end().length;
    expect(n).toBe(1_000_000);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

/** A char-by-char reference parser (slow, obviously correct) for comparison. */
function reference(input: string): { records: CsvRecord[] } | { error: string } {
  const t = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const records: CsvRecord[] = [];
  let line = 1, state = 'rs', field = '', fields: string[] = [], recLine = 0, quoteLine = 0;
  const endRecord = () => { fields.push(field); field = ''; records.push({ fields, line: recLine }); fields = []; state = 'rs'; };
  for (let k = 0; k < t.length;) {
    const c = t[k];
    const br = c === '\r' || (c === '\n' && t[k - 1] !== '\r');
    let consume = true;
    if (state === 'rs') {
      if (c !== '\r' && c !== '\n') { recLine = line; state = 'fs'; consume = false; }
    } else if (state === 'fs') {
      if (c === '"') { quoteLine = line; state = 'q'; } else { state = 'u'; consume = false; }
    } else if (state === 'u') {
      if (c === '"') return { error: `${line}: stray` };
      if (c === ',') { fields.push(field); field = ''; state = 'fs'; } else if (c === '\r' || c === '\n') { endRecord(); consume = false; } else field += c;
    } else if (state === 'q') {
      if (c === '"') state = 'qq'; else field += c;
    } else if (state === 'qq') {
      if (c === '"') { field += '"'; state = 'q'; } else if (c === ',') { fields.push(field); field = ''; state = 'fs'; } else if (c === '\r' || c === '\n') { endRecord(); consume = false; } else return { error: `${line}: unexpected` };
    }
    if (consume) { if (br) line++; k++; }
  }
  if (state === 'q') return { error: `${quoteLine}: unterminated` };
  if (state !== 'rs') endRecord();
  return { records };
}
function outcome(text: string, size: number): { records: CsvRecord[] } | { error: string } {
  try {
    return { records: parse(text, size) };
  } catch (e) {
    expect(e).toBeInstanceOf(HeedError);
    const m = /^src:(\d+): (stray|unexpected|unterminated)/.exec((e as Error).message);
    expect(m, (e as Error).message).not.toBeNull();
    return { error: `${m![1]}: ${m![2]}` };
  }
}

describe('CsvParser: chunk boundaries anywhere', () => {
  const tricky = '\uFEFFlabel,sequence\r\n' +
    'pos,"a, b ""quoted""\r\nsecond line"\r\n' +
    '\r\n' +
    'neg,😀🎉 日本語\r' +
    '"x\ry",""\n' +
    '"",\n' +
    '   \n' +
    ',"""\n"""\n' +
    'last,"no newline 😀"';

  it('chunks of every size 1..7 give the same records as one chunk', () => {
    const whole = parse(tricky);
    expect(whole.length).toBe(8);
    expect(whole[1]).toEqual({ fields: ['pos', 'a, b "quoted"\r\nsecond line'], line: 2 });
    expect(whole[2]).toEqual({ fields: ['neg', '😀🎉 日本語'], line: 5 });
    expect(whole[7]).toEqual({ fields: ['last', 'no newline 😀'], line: 12 });
    for (let size = 1; size <= 7; size++) expect(parse(tricky, size), `chunk size ${size}`).toEqual(whole);
    expect(reference(tricky)).toEqual({ records: whole });
  });

  it('errors are the same whatever the chunking', () => {
    for (const bad of ['a,b\r\nc,"open\r\nmore', 'a\r\n"ab"c', 'x,"a\r\nb"\r\nc,d"e', '\r\n\r\nab"']) {
      const want = errorOf(() => parse(bad)).message;
      for (let size = 1; size <= 7; size++) expect(errorOf(() => parse(bad, size)).message, `chunk size ${size}`).toBe(want);
    }
  });

  it('random inputs: every chunking agrees with a char-by-char reference parser', () => {
    const u = rng(42);
    const alphabet = ['a', 'b', ' ', ',', ',', '"', '"', '""', '\r', '\n', '\r\n', '😀', '\uFEFF'];
    for (let trial = 0; trial < 400; trial++) {
      let text = u() < 0.2 ? '\uFEFF' : '';
      const len = Math.floor(u() * 30);
      for (let k = 0; k < len; k++) text += alphabet[Math.floor(u() * alphabet.length)];
      const want = reference(text);
      for (const size of [0, 1, 2, 3, 5]) expect(outcome(text, size), JSON.stringify(text)).toEqual(want);
    }
  });
});

describe('findInvalidUtf8', () => {
  it('agrees with a fatal TextDecoder on random bytes', () => {
    const u = rng(7);
    const pool = [0x41, 0x0a, 0x0d, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x8f, 0x90];
    for (let trial = 0; trial < 3000; trial++) {
      const b = Uint8Array.from({ length: Math.floor(u() * 8) }, () => pool[Math.floor(u() * pool.length)]);
      let ok = true;
      try { new TextDecoder('utf-8', { fatal: true }).decode(b); } catch { ok = false; }
      const at = findInvalidUtf8(b, true);
      expect(at === -1, Array.from(b, (x) => x.toString(16)).join(' ')).toBe(ok);
      if (at >= 0) expect(() => new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, at))).not.toThrow();
    }
  });
  it('a sequence cut off by the end is invalid only when final', () => {
    expect(findInvalidUtf8(Uint8Array.of(0x61, 0xe2, 0x82), false)).toBe(-1);
    expect(findInvalidUtf8(Uint8Array.of(0x61, 0xe2, 0x82), true)).toBe(1);
    expect(findInvalidUtf8(Uint8Array.of(0xed, 0xa0, 0x80), false)).toBe(0); // a UTF-16 surrogate
    expect(findInvalidUtf8(Uint8Array.of(0xc0, 0xaf), false)).toBe(0); // overlong
  });
});

const enc = new TextEncoder();
const bytesOf = (...parts: (string | number[])[]): Uint8Array => {
  const chunks = parts.map((p) => (typeof p === 'string' ? enc.encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
};
/** Builds a text record by record, padding with filler records so that the next text starts at a chosen byte. */
class Builder {
  text = '';
  bytes = 0;
  private n = 0;
  add(s: string): this { this.text += s; this.bytes += enc.encode(s).length; return this; }
  /** Adds filler lines ending exactly at byte `target` (each `f<n>,xxx…\n`). */
  padTo(target: number): this {
    while (target - this.bytes > 200) this.add(`f${this.n++},${'x'.repeat(150)}\n`);
    const head = `f${this.n++},`;
    const fill = target - this.bytes - head.length - 1;
    if (fill < 0) throw new Error('padTo: too close');
    return this.add(head + 'y'.repeat(fill) + '\n');
  }
}

describe('readCsvFile', () => {
  it('streams a file bigger than a chunk; boundaries inside characters, CRLF and quotes change nothing', async () => {
    const C = CSV_CHUNK_BYTES;
    expect(C).toBe(65536);
    const b = new Builder().add('\uFEFFlabel,sequence\n');
    b.padTo(C - 3).add('q😀,x\n'); // the emoji spans bytes C-2..C+1
    b.padTo(2 * C - 4).add('a,b\r\n'); // \r is the last byte of chunk 2, \n the first of chunk 3
    b.padTo(3 * C - 8).add('"he\nllo€€",y\r\n'); // inside a quoted multi-line field, € spans 3C-1..3C+1
    b.padTo(4 * C - 1).add('é,z\n'); // é spans 4C-1..4C
    b.padTo(5 * C - 1).add('"","ab\n""cd"""\n'); // the opening quote is the last byte of chunk 5
    for (let k = 0; k < 500; k++) b.add(`l${k},"ü ${k}, 🎉\n"\n`);
    const raw = enc.encode(b.text);
    expect(raw[C] & 0xc0).toBe(0x80); // chunk boundaries fall where intended
    expect([raw[2 * C - 1], raw[2 * C]]).toEqual([13, 10]);
    expect(raw[3 * C] & 0xc0).toBe(0x80);
    expect(raw[4 * C] & 0xc0).toBe(0x80);
    expect(raw[5 * C - 1]).toBe(34);
    const path = tmpFile(raw);
    const got = await collect(path);
    expect(got).toEqual(parse(b.text));
    expect(got.find((r) => r.fields[0] === 'q😀')).toBeDefined();
    expect(got.find((r) => r.fields[0] === 'é')).toBeDefined();
    expect(got.find((r) => r.fields[0] === 'he\nllo€€')).toBeDefined();
    expect(got[0].fields).toEqual(['label', 'sequence']);
    expect(got.at(-1)).toEqual({ fields: ['l499', 'ü 499, 🎉\n'], line: b.text.split('\n').length - 2 }); // it spans the last two lines
  });

  it('a 50 MB unterminated quote ends in an error naming its line, in reasonable time', async () => {
    const raw = new Uint8Array(50 * 1024 * 1024).fill(0x61); // 'a'
    raw.set(enc.encode('label,sequence\nx,y\nz,"'), 0);
    const path = tmpFile(raw);
    const t0 = performance.now();
    expectMessage(await asyncErrorOf(collect(path)), `${path}:3: `, 'unterminated quoted field');
    expect(performance.now() - t0).toBeLessThan(20_000);
    rmSync(path);
  });

  it('stops reading (and closes the file) when the caller stops early', async () => {
    const path = tmpFile('a\nb\nc\n');
    for await (const r of readCsvFile(path)) { expect(r.fields).toEqual(['a']); break; }
    rmSync(path); // would fail on some systems if still open; at least must not throw here
  });
});

describe('readCsvFile: invalid UTF-8 names the line of the bad byte', () => {
  const cases: [string, Uint8Array, number, string][] = [
    ['a stray 0xff', bytesOf('label,sequence\nA,ok\nB,bad', [0xff], '\n'), 3, 'invalid UTF-8 byte 0xff'],
    ['a bad continuation inside a CRLF multi-line quote', bytesOf('label,sequence\r\nA,"multi\r\nline ', [0xc3, 0x28], '"\r\n'), 3, 'invalid UTF-8 byte 0xc3'],
    ['lone CR line ends', bytesOf('h\rA\r\r', [0xfe], '\r'), 4, 'invalid UTF-8 byte 0xfe'],
    ['an encoded surrogate', bytesOf('h\nok\n', [0xed, 0xa0, 0x80], '\n'), 3, '0xed'],
    ['an overlong encoding', bytesOf([0xc0, 0xaf], ',x\n'), 1, '0xc0'],
    ['Latin-1 text', bytesOf('label,sequence\ncaf', [0xe9], ',x\n'), 2, '0xe9'],
    ['a character cut off by the end of the file', bytesOf('a\nb', [0xe2, 0x82]), 2, 'the file ends inside a UTF-8 character'],
  ];
  it.each(cases)('%s', async (_, raw, line, words) => {
    const path = tmpFile(raw);
    expectMessage(await asyncErrorOf(collect(path)), `${path}:${line}: `, words, 'UTF-8');
  });

  it('past the first chunk, and across chunk boundaries', async () => {
    const C = CSV_CHUNK_BYTES;
    const check = async (b: Builder, bad: number[], rest = '\n') => {
      const raw = bytesOf(b.text, bad, rest);
      const want = b.text.split(/\r\n|\r|\n/).length; // the line the bad byte is on
      const path = tmpFile(raw);
      expectMessage(await asyncErrorOf(collect(path)), `${path}:${want}: `, 'invalid UTF-8');
      return raw;
    };
    // well inside the second chunk
    await check(new Builder().add('label,sequence\n').padTo(C + 5000).add('x,abc'), [0xff]);
    // a lead byte ending chunk 1 whose continuation (first byte of chunk 2) is not one
    const raw = await check(new Builder().padTo(C - 1), [0xe2], '(,x\n');
    expect(raw[C - 1]).toBe(0xe2);
    // a CR ending chunk 1, a LF starting chunk 2, then a bad byte
    const b = new Builder().padTo(C - 2).add('a\r\n');
    expect(b.bytes).toBe(C + 1);
    await check(b, [0x80]);
    // a CR ending chunk 1 and the bad byte starting chunk 2 (the CR ended line 2)
    const b2 = new Builder().padTo(C - 2).add('a\r');
    await check(b2, [0xff], 'tail\r');
  });

  it('an earlier CSV error in the same chunk wins', async () => {
    const path = tmpFile(bytesOf('label,sequence\nA,a"b\nB,', [0xff], '\n'));
    expectMessage(await asyncErrorOf(collect(path)), `${path}:2: `, 'stray quote');
  });
});

describe('file errors', () => {
  it('a missing file', async () => {
    const path = join(dir, 'nope.csv');
    expectMessage(await asyncErrorOf(readLabeledCsv(path)), `${path}: no such file`);
    expect((await asyncErrorOf(collect(path))).message).toBe(`${path}: no such file`);
  });
  it('a directory', async () => {
    const sub = join(dir, 'adir');
    mkdirSync(sub);
    expect((await asyncErrorOf(readLabeledCsv(sub))).message).toBe(`${sub}: is a directory, not a file`);
  });
  it.skipIf(process.getuid?.() === 0)('an unreadable file', async () => {
    const path = tmpFile('label,sequence\nx,y\n');
    chmodSync(path, 0o000);
    expect((await asyncErrorOf(readLabeledCsv(path))).message).toBe(`${path}: permission denied`);
    chmodSync(path, 0o600);
  });
});

describe('labeled CSV', () => {
  it('reads labels, texts, header and the line of each row', () => {
    const r = parseLabeledCsv('label,sequence\npos,good movie\nneg,"bad, really\nbad"\n\nneu,"ok"\n', 'd.csv');
    expect(r).toEqual({
      header: ['label', 'sequence'],
      labels: ['pos', 'neg', 'neu'],
      texts: ['good movie', 'bad, really\nbad', 'ok'],
      lines: [2, 3, 6],
    });
  });

  it('columns in any order, extra columns ignored, header names trimmed', () => {
    const r = parseLabeledCsv('id, sequence ,extra,"label "\r\n1,hello,x,A\r\n2,"world",y,B', 'd.csv');
    expect(r.labels).toEqual(['A', 'B']);
    expect(r.texts).toEqual(['hello', 'world']);
    expect(r.header).toEqual(['id', ' sequence ', 'extra', 'label ']);
  });

  it('matches case-insensitively only when no column matches exactly', () => {
    expect(parseLabeledCsv('Label,SEQUENCE\nA,t\n', 'd.csv').labels).toEqual(['A']);
    const r = parseLabeledCsv('Label,label,sequence\nX,y,z\n', 'd.csv');
    expect(r.labels).toEqual(['y']);
    expectMessage(errorOf(() => parseLabeledCsv('Label,LABEL,sequence\nX,y,z\n', 'd.csv')), 'd.csv:1: ', '2 columns named "label"', '--label-col');
  });

  it('--label-col / --text-col rename the columns', () => {
    const r = parseLabeledCsv('text,y\nhello,1\nbye,0\n', 'd.csv', { labelCol: 'y', textCol: 'text' });
    expect(r).toMatchObject({ labels: ['1', '0'], texts: ['hello', 'bye'] });
    expectMessage(errorOf(() => parseLabeledCsv('a,b\n1,2\n', 'd.csv', { labelCol: 'a', textCol: 'A' })), 'd.csv:1: ', 'same column');
  });

  it('labels and texts are returned as-is; empty ones are allowed', () => {
    const r = parseLabeledCsv('label,sequence\n pos , some text \n,\n"",""\n', 'd.csv');
    expect(r.labels).toEqual([' pos ', '', '']);
    expect(r.texts).toEqual([' some text ', '', '']);
  });

  it('a header without the named column says which is missing and lists the columns found', () => {
    const e = errorOf(() => parseLabeledCsv('label,text\nA,b\n', 'data.csv'));
    expectMessage(e, 'data.csv:1: ', 'no column "sequence"', 'columns found: "label", "text"', '--label-col', '--text-col');
    expect(e.message).not.toContain('"label" and');
    const both = errorOf(() => parseLabeledCsv('\n\nid,text\n1,b\n', 'data.csv', { labelCol: 'y' }));
    expectMessage(both, 'data.csv:3: ', 'no columns "y" and "sequence"', '"id", "text"');
  });

  it('an empty file has no header', () => {
    for (const text of ['', '\n\n', '\uFEFF', '\r\n']) {
      expectMessage(errorOf(() => parseLabeledCsv(text, 'empty.csv')), 'empty.csv: empty file', '"label"', '"sequence"');
    }
  });

  it('a header but no data rows', () => {
    for (const text of ['label,sequence', 'label,sequence\n', 'label,sequence\r\n\r\n\n']) {
      expectMessage(errorOf(() => parseLabeledCsv(text, 'h.csv')), 'h.csv: no data rows');
    }
  });

  it('a row with too many or too few fields names its line', () => {
    const many = errorOf(() => parseLabeledCsv('label,sequence\nA,"x\ny"\nB,hello, world\n', 'data.csv'));
    expectMessage(many, 'data.csv:4: ', 'too many fields', 'expected 2 fields', 'got 3');
    const few = errorOf(() => parseLabeledCsv('id,label,sequence\n1,A,x\n\n2,B\n', 'data.csv'));
    expectMessage(few, 'data.csv:4: ', 'too few fields', 'expected 3 fields', 'got 2');
  });

  it('parse errors name the source', () => {
    expectMessage(errorOf(() => parseLabeledCsv('label,sequence\nA,"open\n', 'mem')), 'mem:2: ', 'unterminated');
  });

  it('readLabeledCsv reads a file the same way', async () => {
    const text = '\uFEFFsequence,label\r\n"a, b",1\r\n"multi\nline",0\r\nplain,1';
    const path = tmpFile(text);
    expect(await readLabeledCsv(path)).toEqual(parseLabeledCsv(text, path));
    expect((await readLabeledCsv(path)).lines).toEqual([2, 3, 5]);
    expectMessage(await asyncErrorOf(readLabeledCsv(tmpFile(''))), `${dir}`, 'empty file');
    const few = tmpFile('label,sequence\nA\n');
    expectMessage(await asyncErrorOf(readLabeledCsv(few)), `${few}:2: `, 'too few fields');
    const renamed = tmpFile('y,text\n1,t\n');
    expect(await readLabeledCsv(renamed, { labelCol: 'y', textCol: 'text' })).toMatchObject({ labels: ['1'], texts: ['t'] });
  });
});
