// An incremental RFC 4180 parser: text chunks in, complete records out, with line numbers. Every
// failure is a one-line HeedError `${source}:${line}: problem` (the header is line 1).
//
// The parser is linear in the input: it never concatenates per character. It jumps from one special
// character (`,` `"` CR LF) to the next with indexOf (caching each next position per chunk, so every
// chunk is scanned at most once per special character) and slices the ranges in between; a field
// that spans chunks is kept as a list of slices joined once when it ends.
import { HeedError } from '../errors.js';

export interface CsvRecord { fields: string[]; line: number }

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

export const TSV_HINT = 'the header is separated by tabs, not commas: for a TSV file pass --delimiter tab';

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
export const showText = (s: string): string => JSON.stringify(s).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
/** Shows one character in an error message (quoted, control characters escaped, one line). */
const showChar = showText;

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
