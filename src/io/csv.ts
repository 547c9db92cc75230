// The CSV reader behind `heed train` / `heed eval`: an incremental RFC 4180 parser, a streaming
// file reader with strict UTF-8 decoding, and the labeled-column layer (header + `label` and
// `sequence` columns, renamable with --label-col / --text-col). Every failure is a one-line
// HeedError `${source}:${line}: problem` (the header is line 1), or `${source}: problem` when no line
// applies.
//
// The parser is linear in the input: it never concatenates per character. It jumps from one special
// character (`,` `"` CR LF) to the next with indexOf (caching each next position per chunk, so every
// chunk is scanned at most once per special character) and slices the ranges in between; a field
// that spans chunks is kept as a list of slices joined once when it ends.
import { open } from 'node:fs/promises';
import { HeedError } from '../errors.js';

export interface CsvRecord { fields: string[]; line: number }

/** Bytes read from a file at a time by readCsvFile. */
export const CSV_CHUNK_BYTES = 64 * 1024;

/** The longest record heed reads: 64 Mi characters as written (UTF-16 code units, quotes
 *  included). A record's fields are held in memory until it ends, so this bounds what one line (or
 *  a quoted field that never closes) can take, whatever the size of the file: a longer record is a
 *  HeedError naming its line. */
export const MAX_RECORD_CHARS = 64 * 2 ** 20;
/** The most fields in one record (a line of a million commas is not a data row). */
export const MAX_RECORD_FIELDS = 65_536;

export interface CsvParserOptions {
  /** Default MAX_RECORD_CHARS. */
  maxRecordChars?: number;
  /** Default MAX_RECORD_FIELDS. */
  maxFields?: number;
  /** The field separator, one character other than a quote or a line end (default ','). */
  delimiter?: string;
}

/** The delimiter a user names: 'tab' (or a tab), or one character that is not a quote or a line end. */
export function checkDelimiter(d: string | undefined, what = 'delimiter'): string {
  if (d === undefined) return ',';
  const c = d === 'tab' || d === '\\t' ? '\t' : d;
  if (c.length !== 1 || c === '"' || c === '\r' || c === '\n') {
    throw new HeedError(`${what} must be one character other than a quote or a line end (or 'tab'), got ${JSON.stringify(d)}`);
  }
  return c;
}

const CR = 13, LF = 10, QUOTE = 34;

const TSV_HINT = 'the header is separated by tabs, not commas: for a TSV file pass --delimiter tab';

const enum State {
  /** Between records: line ends here are record terminators or blank lines, skipped. */
  RecordStart,
  /** At the first character of a field (after a comma or at the start of a record). */
  FieldStart,
  Unquoted,
  Quoted,
  /** Just after a quote inside a quoted field: a second quote, a delimiter or a line end must follow. */
  QuotedQuote,
}

/** Text from the file in an error message: a JSON string literal, so control characters are
 *  escaped, with the Unicode line and paragraph separators (and NEL) escaped too: one line. */
const q = (s: string): string => JSON.stringify(s).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
/** Shows one character in an error message (quoted, control characters escaped, one line). */
const showChar = q;

/**
 * Incremental RFC 4180 parser: feed text chunks, get complete records. Handles quoted fields, ""
 * escapes, embedded commas and newlines (a quoted field spanning lines keeps counting lines), CRLF,
 * LF and lone CR line ends, a UTF-8 BOM at the start, a final line without newline, blank lines
 * (skipped entirely — a line with no characters; but a line with just spaces is a one-field record).
 * Chunk boundaries may fall anywhere, even between the two halves of a surrogate pair.
 */
export class CsvParser {
  private state = State.RecordStart;
  private started = false;
  private finished = false;
  /** The 1-based line of the next character to be read. */
  private lineNo = 1;
  /** Whether the last character of the previous chunk was a CR (a following LF ends no new line). */
  private prevCR = false;
  private recordLine = 1;
  private quoteLine = 1;
  private fields: string[] = [];
  /** Pieces of the current field when it spans chunks or contains "" escapes. */
  private parts: string[] = [];
  /** Characters of earlier chunks (after a stripped BOM), and where the current record began. */
  private consumed = 0;
  private recordStart = 0;
  private readonly maxChars: number;
  private readonly maxFields: number;
  private readonly delimiter: string;
  private readonly delimiterCode: number;
  /** Set when the first record (the header) is one comma-less field holding tabs: a TSV read as
   *  CSV, which later errors mention, since "stray quote" alone would not tell the user why. */
  private tabHeader = false;
  private records = 0;

  constructor(readonly source: string, options: CsvParserOptions = {}) {
    this.maxChars = options.maxRecordChars ?? MAX_RECORD_CHARS;
    this.maxFields = options.maxFields ?? MAX_RECORD_FIELDS;
    this.delimiter = checkDelimiter(options.delimiter);
    this.delimiterCode = this.delimiter.charCodeAt(0);
  }

  /** Whether the header looked tab-separated while the delimiter is not a tab. */
  get looksTabSeparated(): boolean { return this.tabHeader; }

  private endRecord(out: CsvRecord[]): void {
    if (this.records++ === 0 && this.delimiter !== '\t' && this.fields.length === 1 && this.fields[0].includes('\t')) this.tabHeader = true;
    out.push({ fields: this.fields, line: this.recordLine });
    this.fields = [];
  }

  /** The 1-based line of the next character the parser will read (after everything pushed so far). */
  get line(): number { return this.lineNo; }

  private fail(line: number, problem: string): never {
    throw new HeedError(`${this.source}:${line}: ${problem}${this.tabHeader ? `; ${TSV_HINT}` : ''}`);
  }

  /** The record has run past maxChars characters: checked at every position the parser jumps to,
   *  so the error (and its line) is the same however the input is chunked. */
  private tooLong(): never {
    const open = this.state === State.Quoted ? `; the quote opened on line ${this.quoteLine} may never close` : '';
    this.fail(this.recordLine, `record longer than ${this.maxChars.toLocaleString('en')} characters, the most heed reads in one CSV record${open}`);
  }

  private addField(v: string): void {
    if (this.fields.length >= this.maxFields) {
      this.fail(this.recordLine, `more than ${this.maxFields.toLocaleString('en')} fields in one record, the most heed reads`);
    }
    this.fields.push(v);
  }

  private takeField(last: string): string {
    if (this.parts.length === 0) return last;
    this.parts.push(last);
    const v = this.parts.join('');
    this.parts.length = 0;
    return v;
  }

  push(chunk: string): CsvRecord[] {
    if (this.finished) throw new HeedError(`${this.source}: CsvParser.push() called after end()`);
    if (!this.started) {
      if (chunk.length === 0) return [];
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    const t = chunk, n = t.length;
    const out: CsvRecord[] = [];
    // Cached next positions of each special character at or after some index; -1: none left in
    // this chunk; -2: not searched yet. They only move forward, so each is found in one pass.
    let pComma = -2, pQuote = -2, pCR = -2, pLF = -2;
    const prevCR = this.prevCR;
    const lfEndsLine = (k: number): boolean => !(k > 0 ? t.charCodeAt(k - 1) === CR : prevCR);
    /** Line ends in t[from, to): every CR, and every LF not preceded by a CR. */
    const countBreaks = (from: number, to: number): number => {
      let c = 0;
      if (pCR !== -1 && pCR < from) pCR = t.indexOf('\r', from);
      while (pCR !== -1 && pCR < to) { c++; pCR = t.indexOf('\r', pCR + 1); }
      if (pLF !== -1 && pLF < from) pLF = t.indexOf('\n', from);
      while (pLF !== -1 && pLF < to) { if (lfEndsLine(pLF)) c++; pLF = t.indexOf('\n', pLF + 1); }
      return c;
    };
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case State.RecordStart: {
          const c = t.charCodeAt(i);
          if (c === CR) { this.lineNo++; i++; }
          else if (c === LF) { if (lfEndsLine(i)) this.lineNo++; i++; }
          else { this.recordLine = this.lineNo; this.recordStart = this.consumed + i; this.state = State.FieldStart; }
          break;
        }
        case State.FieldStart:
          if (t.charCodeAt(i) === QUOTE) { this.quoteLine = this.lineNo; this.state = State.Quoted; i++; }
          else this.state = State.Unquoted;
          break;
        case State.Unquoted: {
          if (pComma !== -1 && pComma < i) pComma = t.indexOf(this.delimiter, i);
          if (pQuote !== -1 && pQuote < i) pQuote = t.indexOf('"', i);
          if (pCR !== -1 && pCR < i) pCR = t.indexOf('\r', i);
          if (pLF !== -1 && pLF < i) pLF = t.indexOf('\n', i);
          let j = n;
          if (pComma !== -1 && pComma < j) j = pComma;
          if (pQuote !== -1 && pQuote < j) j = pQuote;
          if (pCR !== -1 && pCR < j) j = pCR;
          if (pLF !== -1 && pLF < j) j = pLF;
          if (this.consumed + j - this.recordStart > this.maxChars) this.tooLong();
          if (j === n) { this.parts.push(t.slice(i)); i = n; break; }
          const c = t.charCodeAt(j);
          if (c === QUOTE) {
            this.fail(this.lineNo, 'stray quote in an unquoted field (RFC 4180: a field containing quotes must be enclosed in quotes, with each inner quote doubled)');
          }
          this.addField(this.takeField(t.slice(i, j)));
          if (c === this.delimiterCode) { this.state = State.FieldStart; i = j + 1; }
          else { this.endRecord(out); this.state = State.RecordStart; i = j; }
          break;
        }
        case State.Quoted: {
          if (pQuote !== -1 && pQuote < i) pQuote = t.indexOf('"', i);
          const j = pQuote === -1 ? n : pQuote;
          if (this.consumed + j - this.recordStart > this.maxChars) this.tooLong();
          this.lineNo += countBreaks(i, j);
          this.parts.push(t.slice(i, j));
          if (j < n) this.state = State.QuotedQuote;
          i = j === n ? n : j + 1;
          break;
        }
        case State.QuotedQuote: {
          const c = t.charCodeAt(i);
          if (c === QUOTE) { this.parts.push('"'); this.state = State.Quoted; i++; }
          else if (c === this.delimiterCode) { this.addField(this.takeField('')); this.state = State.FieldStart; i++; }
          else if (c === CR || c === LF) {
            this.addField(this.takeField(''));
            this.endRecord(out);
            this.state = State.RecordStart;
          } else {
            this.fail(this.lineNo, `unexpected character ${showChar(t[i])} after the closing quote of a quoted field (expected ${this.delimiter === ',' ? 'a comma' : `the delimiter ${showChar(this.delimiter)}`} or the end of the line; write a quote inside a quoted field as "")`);
          }
          break;
        }
      }
    }
    if (n > 0) this.prevCR = t.charCodeAt(n - 1) === CR;
    this.consumed += n;
    return out;
  }

  end(): CsvRecord[] {
    if (this.finished) return [];
    this.finished = true;
    switch (this.state) {
      case State.RecordStart: return [];
      case State.Quoted:
        this.fail(this.quoteLine, 'unterminated quoted field: the quote opened on this line is never closed'); // never returns
      case State.FieldStart: // after a trailing comma: one more empty field
      case State.Unquoted:
      case State.QuotedQuote: {
        this.addField(this.takeField(''));
        const out: CsvRecord[] = [];
        this.endRecord(out);
        this.state = State.RecordStart;
        return out;
      }
    }
  }
}

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

export interface LabeledTexts { header: string[]; labels: string[]; texts: string[]; lines: number[] }

export interface LabeledCsvOptions {
  labelCol?: string; textCol?: string;
  /** The field separator (default ','; 'tab' or '\t' for TSV). */
  delimiter?: string;
}

/** Finds a header column by name: exact match after trimming, else a unique case-insensitive one. */
function findColumn(header: string[], name: string, source: string, line: number, flag: string): number {
  const names = header.map((h) => h.trim());
  const want = name.trim();
  const pick = (hits: number[]): number => {
    if (hits.length > 1) {
      throw new HeedError(`${source}:${line}: the header has ${hits.length} columns named ${q(want)} (columns ${hits.map((h) => h + 1).join(', ')}); rename them or choose one with ${flag}`);
    }
    return hits.length === 1 ? hits[0] : -1;
  };
  const exact = pick(names.flatMap((h, k) => (h === want ? [k] : [])));
  if (exact >= 0) return exact;
  const lower = want.toLowerCase();
  return pick(names.flatMap((h, k) => (h.toLowerCase() === lower ? [k] : [])));
}

/** Collects labeled rows record by record (shared by the file and string readers). A subclass
 *  may keep the rows its own way by overriding `row` (the CLI's trainer packs them). */
export class LabeledCollector {
  private header: string[] | null = null;
  private labelIdx = -1;
  private textIdx = -1;
  readonly labels: string[] = [];
  readonly texts: string[] = [];
  readonly lines: number[] = [];
  protected rows = 0;

  constructor(private readonly source: string, private readonly options: LabeledCsvOptions) {}

  add(rec: CsvRecord): void {
    const { source } = this;
    if (this.header === null) {
      const labelCol = this.options.labelCol ?? 'label', textCol = this.options.textCol ?? 'sequence';
      const header = rec.fields;
      const li = findColumn(header, labelCol, source, rec.line, '--label-col');
      const ti = findColumn(header, textCol, source, rec.line, '--text-col');
      if (li < 0 || ti < 0) {
        const missing = [li < 0 ? labelCol : null, ti < 0 ? textCol : null].filter((c): c is string => c !== null);
        const what = missing.length === 1 ? `no column ${q(missing[0])}` : `no columns ${missing.map(q).join(' and ')}`;
        const found = header.slice(0, 20).map((h) => q(h.length > 40 ? `${h.slice(0, 40)}…` : h)).join(', ') +
          (header.length > 20 ? ` and ${header.length - 20} more` : '');
        const tabs = header.length === 1 && header[0].includes('\t') && checkDelimiter(this.options.delimiter) !== '\t';
        throw new HeedError(`${source}:${rec.line}: the header has ${what} (columns found: ${found}); ${tabs ? TSV_HINT : 'name the label and text columns with --label-col / --text-col'}`);
      }
      if (li === ti) {
        throw new HeedError(`${source}:${rec.line}: the label column and the text column are the same column ${q(header[li])}; choose different ones with --label-col / --text-col`);
      }
      this.header = header;
      this.labelIdx = li;
      this.textIdx = ti;
      return;
    }
    const want = this.header.length, got = rec.fields.length;
    if (got !== want) {
      const more = got > want;
      throw new HeedError(`${source}:${rec.line}: too ${more ? 'many' : 'few'} fields: expected ${want} fields (as in the header), got ${got}${more ? ' (a field containing a comma must be enclosed in double quotes)' : ''}`);
    }
    this.rows++;
    this.row(rec.fields[this.labelIdx], rec.fields[this.textIdx], rec.line);
  }

  protected row(label: string, text: string, line: number): void {
    this.labels.push(label);
    this.texts.push(text);
    this.lines.push(line);
  }

  finish(): LabeledTexts {
    if (this.header === null) {
      const labelCol = this.options.labelCol ?? 'label', textCol = this.options.textCol ?? 'sequence';
      throw new HeedError(`${this.source}: empty file (expected a header row with columns ${q(labelCol)} and ${q(textCol)})`);
    }
    if (this.rows === 0) throw new HeedError(`${this.source}: no data rows (the file has a header but no rows after it)`);
    return { header: this.header, labels: this.labels, texts: this.texts, lines: this.lines };
  }
}

/**
 * Reads a labeled CSV: header row with columns named labelCol (default 'label') and textCol (default
 * 'sequence'), matched exactly after trimming surrounding whitespace of header names (case-sensitive
 * first, then case-insensitive if no exact match). Other columns are ignored; every row must have as
 * many fields as the header. Labels and texts are returned as-is (an empty one is allowed).
 */
export async function readLabeledCsv(path: string, options: LabeledCsvOptions = {}, c = new LabeledCollector(path, options)): Promise<LabeledTexts> {
  for await (const rec of readCsvFile(path, { delimiter: options.delimiter })) c.add(rec);
  return c.finish();
}

/** The same from a string already in memory (browsers, tests); `source` names it in errors. */
export function parseLabeledCsv(text: string, source: string, options: LabeledCsvOptions = {}): LabeledTexts {
  const c = new LabeledCollector(source, options);
  const p = new CsvParser(source, { delimiter: options.delimiter });
  for (const rec of p.push(text)) c.add(rec);
  for (const rec of p.end()) c.add(rec);
  return c.finish();
}
