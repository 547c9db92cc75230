// Reading a CSV file: strict UTF-8 with chunk boundaries anywhere in the bytes, the line of an
// invalid byte, and file-system errors as one-line HeedErrors.
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CSV_CHUNK_BYTES, findInvalidUtf8, readCsvFile } from '../../src/io/csv-file.js';
import { readLabeledCsv } from '../../src/io/csv.js';
import { rng } from '../util.js';
import { parse, asyncErrorOf, expectMessage, collect, tmpFile, useTmpDir } from './csv-util.js';

const tmpDir = useTmpDir();

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
    const path = join(tmpDir(), 'nope.csv');
    expectMessage(await asyncErrorOf(readLabeledCsv(path)), `${path}: no such file`);
    expect((await asyncErrorOf(collect(path))).message).toBe(`${path}: no such file`);
  });
  it('a directory', async () => {
    const sub = join(tmpDir(), 'adir');
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
