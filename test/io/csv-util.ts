// Shared by the CSV tests (csv-parser, csv-file, csv): chunked parsing, error capture, temp files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { HeedError } from '../../src/errors.js';
import { readCsvFile } from '../../src/io/csv-file.js';
import { CsvParser, type CsvRecord } from '../../src/io/csv-parser.js';

/** Parses `text` fed in chunks of `size` UTF-16 code units (all at once when size is 0). */
export function parse(text: string, size = 0, source = 'src'): CsvRecord[] {
  const p = new CsvParser(source);
  const out: CsvRecord[] = [];
  if (size === 0) out.push(...p.push(text));
  else for (let i = 0; i < text.length; i += size) out.push(...p.push(text.slice(i, i + size)));
  out.push(...p.end());
  return out;
}
export const fieldsOf = (text: string) => parse(text).map((r) => r.fields);

/** The HeedError `fn` throws (fails the test when it throws nothing or something else). */
export function errorOf(fn: () => unknown): HeedError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HeedError);
    return e as HeedError;
  }
  throw new Error('expected a HeedError, nothing was thrown');
}
export async function asyncErrorOf(p: Promise<unknown>): Promise<HeedError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(HeedError);
    return e as HeedError;
  }
  throw new Error('expected a HeedError, nothing was thrown');
}
/** Asserts a one-line message starting with `prefix` and containing every key word. */
export function expectMessage(e: HeedError, prefix: string, ...words: string[]): void {
  expect(e.message.startsWith(prefix), `"${e.message}" should start with "${prefix}"`).toBe(true);
  expect(e.message).not.toMatch(/[\r\n]/);
  for (const w of words) expect(e.message).toContain(w);
}

export async function collect(path: string): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of readCsvFile(path)) out.push(r);
  return out;
}

let dir = '';
let nFile = 0;
/** Writes a temp file (string as UTF-8, or raw bytes) and returns its path. Files live in a
 *  directory made once per test file (useTmpDir). */
export function tmpFile(content: string | Uint8Array, name = `f${nFile++}.csv`): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}
/** The temp directory of the calling test file, made before its tests and removed after them. */
export function useTmpDir(): () => string {
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'heed-csv-')); });
  afterAll(() => { rmSync(dir, { recursive: true, force: true }); });
  return () => dir;
}
