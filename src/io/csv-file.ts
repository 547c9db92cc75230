// Reading a CSV file: 64 KiB chunks, strict incremental UTF-8 decoding (an invalid byte is an error
// naming its line), file-system errors as one-line HeedErrors `${path}: problem`; the records come
// from csv-parser.ts.
import { open } from 'node:fs/promises';
import { HeedError } from '../errors.js';
import { CsvParser, type CsvParserOptions, type CsvRecord } from './csv-parser.js';

/** Bytes read from a file at a time by readCsvFile. */
export const CSV_CHUNK_BYTES = 64 * 1024;

/**
 * Index of the first byte of the first invalid UTF-8 sequence in `b`, or -1. A sequence cut off by
 * the end of `b` counts as invalid only when `final` (no more bytes follow).
 */
export function findInvalidUtf8(b: Uint8Array, final: boolean): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) { i++; continue; }
    let len: number, lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) { len = 3; if (c === 0xe0) lo = 0xa0; else if (c === 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; if (c === 0xf0) lo = 0x90; else if (c === 0xf4) hi = 0x8f; }
    else return i;
    for (let k = 1; k < len; k++) {
      if (i + k >= n) return final ? i : -1;
      const d = b[i + k];
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
    i += len;
  }
  return -1;
}

/** Length of an incomplete UTF-8 sequence at the end of `b` (valid UTF-8 up to there), 0..3. */
function incompleteTail(b: Uint8Array): number {
  const n = b.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const c = b[n - k];
    if ((c & 0xc0) === 0x80) continue; // continuation byte: look further back
    const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return len > k ? k : 0;
  }
  return 0;
}

function fileError(path: string, e: unknown): HeedError {
  const code = (e as { code?: unknown } | null)?.code;
  const problem =
    code === 'ENOENT' ? 'no such file' :
    code === 'EISDIR' ? 'is a directory, not a file' :
    code === 'EACCES' || code === 'EPERM' ? 'permission denied' :
    `cannot read the file (${typeof code === 'string' ? code : e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  return new HeedError(`${path}: ${problem}`, { cause: e });
}

/**
 * Reads a CSV file in 64 KiB chunks, decoding UTF-8 strictly and incrementally, and yields its
 * records. Holds no more than a chunk plus the current record besides what the caller keeps; a
 * record longer than MAX_RECORD_CHARS (64 Mi characters) or with more than MAX_RECORD_FIELDS fields
 * is an error naming its line, so even a multi-gigabyte line is read in bounded memory.
 * Invalid UTF-8 is an error naming the line of the first invalid byte.
 */
export async function* readCsvFile(path: string, options: CsvParserOptions = {}): AsyncGenerator<CsvRecord> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fileError(path, e);
  }
  try {
    const parser = new CsvParser(path, options);
    // ignoreBOM: pass a leading BOM through so that the parser (the one place that knows) strips it.
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const buf = new Uint8Array(CSV_CHUNK_BYTES);
    /** Bytes of an incomplete character at the end of the previous chunk, held by the decoder. */
    let carry: Uint8Array = new Uint8Array(0);
    for (;;) {
      let got: number;
      try {
        got = (await fh.read(buf, 0, buf.length, null)).bytesRead;
      } catch (e) {
        throw fileError(path, e);
      }
      const bytes = buf.subarray(0, got);
      let text: string;
      try {
        text = got === 0 ? decoder.decode() : decoder.decode(bytes, { stream: true });
      } catch {
        // Locate the invalid byte: parse the valid text before it (which may itself hold an
        // earlier error), then report the line the parser has reached.
        const all = concat(carry, bytes);
        let at = findInvalidUtf8(all, got === 0);
        if (at < 0) at = 0;
        yield* parser.push(new TextDecoder('utf-8', { ignoreBOM: true }).decode(all.subarray(0, at)));
        const hex = at < all.length ? `0x${all[at].toString(16).padStart(2, '0')}` : '';
        const problem = got === 0 ? `the file ends inside a UTF-8 character (byte ${hex})` : `invalid UTF-8 byte ${hex}`;
        throw new HeedError(`${path}:${parser.line}: ${problem} (the file must be UTF-8 encoded)`);
      }
      if (got === 0) {
        yield* parser.push(text);
        yield* parser.end();
        return;
      }
      // An incomplete sequence is at most 3 bytes; in a shorter read it may begin in the old carry.
      const seen = got >= 3 ? bytes : concat(carry, bytes);
      carry = seen.slice(seen.length - incompleteTail(seen));
      yield* parser.push(text);
    }
  } finally {
    await fh.close();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const all = new Uint8Array(a.length + b.length);
  all.set(a, 0);
  all.set(b, a.length);
  return all;
}
