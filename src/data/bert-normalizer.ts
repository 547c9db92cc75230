// Hugging Face's BertNormalizer and BertPreTokenizer (tokenizers/src/normalizers/bert.rs and
// pre_tokenizers/bert.rs), with the character classes HF itself uses (bert-unicode.ts) rather than
// the runtime's \p{...}, which follow a newer Unicode and would disagree on a few hundred code points.
//
// Every normalized UTF-16 unit remembers the range of the original text it came from, as HF's
// NormalizedString alignments do, so token offsets point into the caller's string.
import { CJK, CLEAN_DROP, DECOMPOSED, NONSPACING_MARKS, PUNCTUATION, WHITESPACE } from './bert-unicode.js';

/** Sorted ranges as a flat [a0, b0, a1, b1, ...] (inclusive bounds). */
function unpack(packed: string): Int32Array {
  const parts = packed.split(','), out = new Int32Array(parts.length);
  let prev = 0;
  for (let i = 0; i < parts.length; i++) out[i] = prev = prev + parseInt(parts[i], 36);
  return out;
}

function inRanges(r: Int32Array, cp: number): boolean {
  let lo = 0, hi = (r.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < r[2 * mid]) hi = mid - 1;
    else if (cp > r[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

// Decoded on first use: importing the module costs nothing until a BERT tokenizer is built.
let tables: Record<'drop' | 'ws' | 'punct' | 'mn' | 'dec' | 'cjk', Int32Array> | undefined;
function table() {
  return tables ??= {
    drop: unpack(CLEAN_DROP), ws: unpack(WHITESPACE), punct: unpack(PUNCTUATION),
    mn: unpack(NONSPACING_MARKS), dec: unpack(DECOMPOSED), cjk: unpack(CJK),
  };
}

export const isBertWhitespace = (cp: number): boolean => cp === 32 || (cp >= 9 && cp <= 13) || (cp > 127 && inRanges(table().ws, cp));
export const isBertPunctuation = (cp: number): boolean => inRanges(table().punct, cp);

/** The settings of a `BertNormalizer` entry in tokenizer.json. */
export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  /** null: strip accents when lowercasing (HF's default). */
  stripAccents: boolean | null;
  lowercase: boolean;
}

/** A normalized stretch of text; `start[i]`, `end[i]`: the original range of its UTF-16 unit i. */
export interface Normalized {
  text: string;
  start: number[];
  end: number[];
}

/** HF's BertNormalizer: clean text, space out CJK ideographs, strip accents (NFD, drop Mn), lowercase.
 *  Each step maps one character to zero or more, so the four run per character; the result of a
 *  code point is cached. */
export class BertNormalizer {
  private readonly memo = new Map<number, string>();
  private readonly strip: boolean;

  constructor(readonly options: BertNormalizerOptions) {
    this.strip = options.stripAccents ?? options.lowercase;
  }

  /** What one original code point becomes. */
  map(cp: number): string {
    let out = this.memo.get(cp);
    if (out === undefined) {
      out = this.compute(cp);
      if (this.memo.size < 1 << 16) this.memo.set(cp, out);
    }
    return out;
  }

  private compute(cp: number): string {
    const t = table(), o = this.options;
    if (o.cleanText) {
      if (inRanges(t.drop, cp)) return '';
      if (isBertWhitespace(cp)) cp = 32;
    }
    const chars = o.handleChineseChars && inRanges(t.cjk, cp) ? [32, cp, 32] : [cp];
    let out = '';
    for (const c of chars) {
      let s = String.fromCodePoint(c);
      if (this.strip) {
        // NFD of a character HF decomposes is the same in every Unicode version since it was
        // assigned; characters HF does not know stay as they are, whatever the runtime thinks.
        if (inRanges(t.dec, c)) s = [...s.normalize('NFD')].filter((x) => !inRanges(t.mn, x.codePointAt(0)!)).join('');
        else if (inRanges(t.mn, c)) s = '';
      }
      // Rust lowercases one char at a time: no final-sigma rule, unlike String.toLowerCase on a word.
      if (o.lowercase) s = [...s].map((x) => x.toLowerCase()).join('');
      out += s;
    }
    return out;
  }

  /** Normalizes text[from, to); a lone surrogate counts as U+FFFD (what UTF-8 encoding makes of it). */
  normalize(text: string, from = 0, to = text.length): Normalized {
    const units: number[] = [], start: number[] = [], end: number[] = [];
    for (let i = from; i < to;) {
      let cp = text.charCodeAt(i), n = 1;
      if (cp >= 0xd800 && cp <= 0xdfff) {
        const lo = i + 1 < to ? text.charCodeAt(i + 1) : 0;
        if (cp <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) { cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00); n = 2; }
        else cp = 0xfffd;
      }
      const s = this.map(cp);
      for (let k = 0; k < s.length; k++) { units.push(s.charCodeAt(k)); start.push(i); end.push(i + n); }
      i += n;
    }
    return { text: fromUnits(units), start, end };
  }
}

/** A string from UTF-16 units, in chunks (one call cannot take a million arguments). */
function fromUnits(units: number[]): string {
  let out = '';
  for (let i = 0; i < units.length; i += 8192) out += String.fromCharCode(...units.slice(i, i + 8192));
  return out;
}

/** No normalizer in the file: the text as it is (lone surrogates as U+FFFD, as for BertNormalizer). */
export function identity(text: string, from = 0, to = text.length): Normalized {
  const start: number[] = [], end: number[] = [];
  let out = '';
  for (let i = from; i < to;) {
    const cp = text.codePointAt(i)!, n = cp > 0xffff ? 2 : 1;
    const lone = cp >= 0xd800 && cp <= 0xdfff;
    out += lone ? '\ufffd' : text.slice(i, i + n);
    for (let k = 0; k < n; k++) { start.push(i); end.push(i + n); }
    i += n;
  }
  return { text: out, start, end };
}

/** HF's BertPreTokenizer on s[from, to): words split at whitespace (removed) and at punctuation
 *  (each mark a word of its own). Returns [start, end) pairs in s. */
export function bertPreTokenize(s: string, from: number, to: number): number[] {
  const words: number[] = [];
  let w = -1;
  for (let i = from; i < to;) {
    const cp = s.codePointAt(i)!, n = cp > 0xffff ? 2 : 1;
    if (isBertWhitespace(cp)) {
      if (w >= 0) { words.push(w, i); w = -1; }
    } else if (isBertPunctuation(cp)) {
      if (w >= 0) { words.push(w, i); w = -1; }
      words.push(i, i + n);
    } else if (w < 0) {
      w = i;
    }
    i += n;
  }
  if (w >= 0) words.push(w, to);
  return words;
}
