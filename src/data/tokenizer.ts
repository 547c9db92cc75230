// Word and character tokenizers: a text becomes surface pieces, pieces become ids through a
// vocabulary built from training texts. The JSON form (type, options, vocabulary in id order) is
// what model files store, so the same JSON gives the same ids everywhere. The 'ngram' tokenizer
// has no vocabulary: each word gives several ids, hashed (src/data/ngram.ts).
import { HeedError } from '../errors.js';
import { ngramFeatures, wordId, type NgramSettings } from './ngram.js';

export type TokenizerType = 'word' | 'char' | 'ngram';

export interface TokenizerOptions {
  /** 'word' (default) or 'char'. */
  type?: TokenizerType;
  /** Lowercase the text before splitting it. Default: true for 'word', false for 'char'. */
  lowercase?: boolean;
  /** Pieces seen fewer times than this in the training texts map to <unk>. Default: 2 for 'word', 1 for 'char'. */
  minFreq?: number;
  /** Most vocabulary entries, the two specials included. Default: 20000 for 'word', 2000 for 'char'. */
  maxVocab?: number;
  /** 'ngram': hash buckets. Default: the distinct features of the texts rounded up to a power of
   *  two, within [2^10, 2^17]. */
  buckets?: number;
  /** 'ngram': character n-gram lengths of '<word>' (default 2 to 4; charMax 0: none). */
  charMin?: number;
  charMax?: number;
  /** 'ngram': 2 (default) adds word bigrams, 1 keeps words alone. */
  wordNgrams?: number;
}

/** vocab in id order: vocab[0] = '<pad>', vocab[1] = '<unk>'. An 'ngram' tokenizer has only the
 *  two specials in vocab, minFreq 1, maxVocab buckets + 2, and its n-gram settings. */
export interface TokenizerJSON extends Partial<NgramSettings> {
  type: TokenizerType;
  lowercase: boolean;
  minFreq: number;
  maxVocab: number;
  vocab: string[];
}

export const PAD = '<pad>';
export const UNK = '<unk>';
export const PAD_ID = 0;
export const UNK_ID = 1;

/** The automatic bucket count's range: enough that features rarely share a bucket, few enough that
 *  the embedding table (buckets × dModel) stays a few MB and AdamW's full-table step stays cheap. */
const MIN_BUCKETS = 2 ** 10;
const MAX_BUCKETS = 2 ** 17;
/** Explicit bucket counts may go this high (2^22 × 64 floats is 1 GB: past that, nothing trains). */
const BUCKET_LIMIT = 2 ** 22;
const NGRAM_MAX_N = 16;
const DEFAULTS: Record<TokenizerType, { lowercase: boolean; minFreq: number; maxVocab: number }> = {
  word: { lowercase: true, minFreq: 2, maxVocab: 20000 },
  char: { lowercase: false, minFreq: 1, maxVocab: 2000 },
  ngram: { lowercase: true, minFreq: 1, maxVocab: MAX_BUCKETS + 2 },
};

const MAX_VOCAB_LIMIT = 2 ** 31 - 1;

// A word: letters, marks and digits, with internal apostrophes ("don't", "l'homme"); U+2019 is
// folded to ' first. Anything else that is not a space is a piece of its own, one code point with
// the marks, emoji modifiers and tag characters that follow it, ZWJ emoji sequences and flag pairs
// kept whole ("❤️", "👍🏽", "👩‍💻", "🇫🇷" are one piece each).
const WORD_SRC = String.raw`[\p{L}\p{M}\p{N}]+(?:'[\p{L}\p{M}\p{N}]+)*`;
const SYM = String.raw`[^\s\p{L}\p{M}\p{N}\p{Cc}\p{Cf}]`;
const SYM_TAIL = String.raw`[\p{M}\p{Emoji_Modifier}\u{E0020}-\u{E007F}]*`;
const OTHER_SRC = String.raw`\p{Regional_Indicator}{2}|${SYM}${SYM_TAIL}(?:\u200D${SYM}${SYM_TAIL})*`;
const WORD_PIECES = new RegExp(`${WORD_SRC}|${OTHER_SRC}`, 'gu');
const WORD_PIECE_EXACT = new RegExp(`^(?:${WORD_SRC}|${OTHER_SRC})$`, 'u');
// Format characters (soft hyphen, zero-width space/non-joiner, BOM, ...) are dropped from words;
// ZWJ and tag characters survive only where they continue an emoji.
const FORMAT_CHARS = /(?![\u200D\u{E0020}-\u{E007F}])\p{Cf}/gu;
const STRAY_ZWJ = new RegExp(`(?<!${SYM}${SYM_TAIL})\\u200D|\\u200D(?!${SYM})`, 'gu');
const LONE_SURROGATE_SRC = String.raw`[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]`;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE_SRC, 'g');
const HAS_LONE_SURROGATE = new RegExp(LONE_SURROGATE_SRC);
const SPACES = /[\s\p{Cc}]+/gu;
const SPACE_OR_CONTROL = /[\s\p{Cc}]/u;

function normalise(text: string, lowercase: boolean): string {
  let s = text.replace(LONE_SURROGATES, '\uFFFD').normalize('NFKC');
  if (lowercase) s = s.toLowerCase().normalize('NFKC');
  return s;
}

function splitWord(text: string, lowercase: boolean): string[] {
  const s = normalise(text, lowercase).replace(/\u2019/g, "'").replace(FORMAT_CHARS, '').replace(STRAY_ZWJ, '');
  return s.match(WORD_PIECES) ?? [];
}

function splitChar(text: string, lowercase: boolean): string[] {
  return Array.from(normalise(text, lowercase).replace(SPACES, ' ').trim());
}

function fail(message: string): never {
  throw new HeedError(message);
}

function checkType(where: string, v: unknown): TokenizerType {
  if (v !== 'word' && v !== 'char' && v !== 'ngram') fail(`${where} must be 'word', 'char' or 'ngram', got ${describe(v)}`);
  return v;
}

function checkRange(where: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`${where} must be an integer in [${min}, ${max}], got ${describe(v)}`);
  return v;
}

/** Checked n-gram settings; `where` prefixes the field names in messages. */
function ngramSettings(where: string, o: Record<string, unknown>, buckets: unknown): NgramSettings {
  const charMin = checkRange(`${where}charMin`, o.charMin, 1, NGRAM_MAX_N);
  const charMax = checkRange(`${where}charMax`, o.charMax, 0, NGRAM_MAX_N);
  if (charMax !== 0 && charMax < charMin) fail(`${where}charMax (${charMax}) must be 0 or at least ${where}charMin (${charMin})`);
  return { buckets: checkRange(`${where}buckets`, buckets, 1, BUCKET_LIMIT), charMin, charMax, wordNgrams: checkRange(`${where}wordNgrams`, o.wordNgrams, 1, 2) };
}

function checkBool(where: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(`${where} must be a boolean, got ${describe(v)}`);
  return v;
}

function checkInt(where: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > MAX_VOCAB_LIMIT) {
    fail(`${where} must be an integer in [${min}, ${MAX_VOCAB_LIMIT}], got ${describe(v)}`);
  }
  return v;
}

function checkMaxLen(where: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`${where}: maxLen must be a positive integer, got ${describe(v)}`);
  return v;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Whether `s` is a piece the tokenizer could produce (grammar and case; used to vet loaded vocabularies). */
function isPiece(type: TokenizerType, lowercase: boolean, s: string): boolean {
  if (s.length === 0 || HAS_LONE_SURROGATE.test(s)) return false;
  if (lowercase && s.toLowerCase() !== s) return false;
  if (type === 'char') {
    if (Array.from(s).length !== 1) return false;
    return s === ' ' || !SPACE_OR_CONTROL.test(s);
  }
  return WORD_PIECE_EXACT.test(s);
}

/**
 * A word, character or hashed n-gram tokenizer. Id 0 is '<pad>' and is never produced by `encode`;
 * id 1 is '<unk>' (pieces outside the vocabulary; 'ngram' never produces it).
 *
 * Text is NFKC-normalised (lone UTF-16 surrogates become U+FFFD) and, when `lowercase` is on,
 * lowercased (default on for 'word' and 'ngram', off for 'char').
 *
 * - 'word': pieces are runs of letters, marks and digits with internal apostrophes ("don't" is one
 *   piece; U+2019 counts as an apostrophe and is stored as '), and every other non-space code point
 *   is a piece of its own (punctuation, symbols, emoji; an emoji with its modifiers, variation
 *   selector or ZWJ sequence stays one piece). Invisible format characters are dropped.
 * - 'char': every code point is a piece, spaces included; runs of whitespace and control
 *   characters become a single ' ', and leading and trailing whitespace is dropped.
 * - 'ngram': the pieces are the 'word' tokenizer's; each piece gives several ids — its own hashed
 *   id, the bigram with the piece before it, and the character n-grams of '<piece>' — each one of
 *   `buckets` hash buckets (ids 2 to buckets + 1). `encodeWithPieces` says which piece each id
 *   came from. No vocabulary is built or stored: rare and unseen words keep their pieces.
 *
 * The specials cannot collide with text: a word piece never contains '<' or '>' next to letters
 * ("<pad>" in a text is the three pieces '<', 'pad', '>'), and a char piece is a single code point.
 */
export class Tokenizer {
  readonly type: TokenizerType;
  readonly lowercase: boolean;
  readonly minFreq: number;
  readonly maxVocab: number;
  readonly vocabSize: number;
  /** The n-gram settings of an 'ngram' tokenizer (null for 'word' and 'char'). */
  readonly ngram: Readonly<NgramSettings> | null;
  readonly #vocab: readonly string[];
  readonly #ids: Map<string, number>;

  private constructor(type: TokenizerType, lowercase: boolean, minFreq: number, maxVocab: number, vocab: string[], ngram: NgramSettings | null = null) {
    this.type = type;
    this.lowercase = lowercase;
    this.minFreq = minFreq;
    this.maxVocab = maxVocab;
    this.ngram = ngram ? Object.freeze({ ...ngram }) : null;
    this.#vocab = Object.freeze(vocab.slice());
    this.#ids = new Map(vocab.map((p, i) => [p, i]));
    this.vocabSize = ngram ? ngram.buckets + 2 : vocab.length;
  }

  /**
   * Builds the vocabulary from `texts` (pass the training split only): '<pad>', '<unk>', then every
   * piece seen at least `minFreq` times, most frequent first, ties in code-unit order of the piece,
   * `maxVocab` entries at most. The same texts and options give the same tokenizer. An 'ngram'
   * tokenizer reads the texts only to size its buckets when `buckets` is not given.
   */
  static build(texts: Iterable<string>, options: TokenizerOptions = {}): Tokenizer {
    if (options === null || typeof options !== 'object') fail(`Tokenizer.build: options must be an object, got ${describe(options)}`);
    const type = checkType('Tokenizer.build: options.type', options.type ?? 'word');
    const d = DEFAULTS[type];
    const lowercase = checkBool('Tokenizer.build: options.lowercase', options.lowercase ?? d.lowercase);
    if (texts === null || typeof texts !== 'object' || typeof (texts as Iterable<string>)[Symbol.iterator] !== 'function') {
      fail(`Tokenizer.build: texts must be an iterable of strings, got ${describe(texts)}`);
    }
    if (type === 'ngram') return Tokenizer.#buildNgram(texts, options, lowercase);
    for (const k of ['buckets', 'charMin', 'charMax', 'wordNgrams'] as const) {
      if (options[k] !== undefined) fail(`Tokenizer.build: options.${k} is for the 'ngram' tokenizer, not '${type}'`);
    }
    const minFreq = checkInt('Tokenizer.build: options.minFreq', options.minFreq ?? d.minFreq, 1);
    const maxVocab = checkInt('Tokenizer.build: options.maxVocab', options.maxVocab ?? d.maxVocab, 2);
    const split = type === 'word' ? splitWord : splitChar;
    const counts = new Map<string, number>();
    let row = 0;
    for (const text of texts) {
      if (typeof text !== 'string') fail(`Tokenizer.build: texts[${row}] must be a string, got ${describe(text)}`);
      for (const p of split(text, lowercase)) counts.set(p, (counts.get(p) ?? 0) + 1);
      row++;
    }
    const kept = [...counts].filter(([, c]) => c >= minFreq);
    kept.sort((a, b) => (b[1] - a[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const vocab = [PAD, UNK, ...kept.slice(0, maxVocab - 2).map(([p]) => p)];
    return new Tokenizer(type, lowercase, minFreq, maxVocab, vocab);
  }

  static #buildNgram(texts: Iterable<string>, o: TokenizerOptions, lowercase: boolean): Tokenizer {
    for (const k of ['minFreq', 'maxVocab'] as const) {
      if (o[k] !== undefined) fail(`Tokenizer.build: options.${k} has no meaning for the 'ngram' tokenizer (it has no vocabulary; use buckets)`);
    }
    const probe = ngramSettings('Tokenizer.build: options.', { charMin: o.charMin ?? 2, charMax: o.charMax ?? 4, wordNgrams: o.wordNgrams ?? 2 }, o.buckets ?? BUCKET_LIMIT);
    let buckets = o.buckets;
    // Unset: as many buckets as the texts have distinct features (hashed into 2^32 to count them),
    // rounded up to a power of two, so that features seldom share one.
    const seen = new Set<number>();
    let row = 0;
    for (const text of texts) {
      if (typeof text !== 'string') fail(`Tokenizer.build: texts[${row}] must be a string, got ${describe(text)}`);
      if (buckets === undefined && seen.size < MAX_BUCKETS) {
        for (const id of ngramFeatures(splitWord(text, lowercase), { ...probe, buckets: 2 ** 32 - 2 }).ids) seen.add(id);
      }
      row++;
    }
    if (buckets === undefined) buckets = Math.min(MAX_BUCKETS, Math.max(MIN_BUCKETS, 2 ** Math.ceil(Math.log2(Math.max(1, seen.size)))));
    const s = { ...probe, buckets };
    return new Tokenizer('ngram', lowercase, 1, buckets + 2, [PAD, UNK], s);
  }

  /** A tokenizer from its JSON form (what `toJSON()` gives and model files store: `loadModel`'s
   *  `tokenizer`), every field checked; a HeedError names the field at fault. */
  static fromJSON(json: unknown): Tokenizer {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(`tokenizer must be a JSON object, got ${describe(json)}`);
    const o = json as Record<string, unknown>;
    if (o.type === 'ngram') {
      const known = ['type', 'lowercase', 'minFreq', 'maxVocab', 'vocab', 'buckets', 'charMin', 'charMax', 'wordNgrams'];
      for (const k of Object.keys(o)) if (!known.includes(k)) fail(`tokenizer has an unknown field ${JSON.stringify(k)}`);
      for (const k of known) if (!Object.hasOwn(o, k)) fail(`tokenizer.${k} is missing`);
      const lowercase = checkBool('tokenizer.lowercase', o.lowercase);
      const s = ngramSettings('tokenizer.', o, o.buckets);
      if (o.minFreq !== 1) fail(`tokenizer.minFreq of an 'ngram' tokenizer must be 1, got ${describe(o.minFreq)}`);
      if (o.maxVocab !== s.buckets + 2) fail(`tokenizer.maxVocab of an 'ngram' tokenizer must be buckets + 2 (${s.buckets + 2}), got ${describe(o.maxVocab)}`);
      if (!Array.isArray(o.vocab) || o.vocab.length !== 2 || o.vocab[0] !== PAD || o.vocab[1] !== UNK) {
        fail(`tokenizer.vocab of an 'ngram' tokenizer must be exactly ['${PAD}', '${UNK}']`);
      }
      return new Tokenizer('ngram', lowercase, 1, s.buckets + 2, [PAD, UNK], s);
    }
    const known = ['type', 'lowercase', 'minFreq', 'maxVocab', 'vocab'];
    for (const k of Object.keys(o)) if (!known.includes(k)) fail(`tokenizer has an unknown field ${JSON.stringify(k)}`);
    for (const k of known) if (!Object.hasOwn(o, k)) fail(`tokenizer.${k} is missing`);
    const type = checkType('tokenizer.type', o.type);
    const lowercase = checkBool('tokenizer.lowercase', o.lowercase);
    const minFreq = checkInt('tokenizer.minFreq', o.minFreq, 1);
    const maxVocab = checkInt('tokenizer.maxVocab', o.maxVocab, 2);
    const vocab = o.vocab;
    if (!Array.isArray(vocab)) fail(`tokenizer.vocab must be an array of strings, got ${describe(vocab)}`);
    if (vocab.length < 2 || vocab[0] !== PAD || vocab[1] !== UNK) {
      fail(`tokenizer.vocab must start with '${PAD}', '${UNK}'`);
    }
    if (vocab.length > maxVocab) fail(`tokenizer.vocab has ${vocab.length} entries, more than tokenizer.maxVocab (${maxVocab})`);
    const seen = new Set<string>();
    for (let i = 0; i < vocab.length; i++) {
      const p: unknown = vocab[i];
      if (typeof p !== 'string') fail(`tokenizer.vocab[${i}] must be a string, got ${describe(p)}`);
      if (seen.has(p)) fail(`tokenizer.vocab[${i}] duplicates an earlier entry: ${describe(p)}`);
      seen.add(p);
      if (i >= 2 && !isPiece(type, lowercase, p)) {
        fail(`tokenizer.vocab[${i}] is not a piece a ${lowercase ? 'lowercasing ' : ''}${type} tokenizer produces: ${describe(p)}`);
      }
    }
    return new Tokenizer(type, lowercase, minFreq, maxVocab, vocab as string[]);
  }

  toJSON(): TokenizerJSON {
    if (this.ngram) return { type: 'ngram', lowercase: this.lowercase, minFreq: 1, maxVocab: this.maxVocab, vocab: [PAD, UNK], ...this.ngram };
    return { type: this.type, lowercase: this.lowercase, minFreq: this.minFreq, maxVocab: this.maxVocab, vocab: this.#vocab.slice() };
  }

  /** The surface pieces of a text, in order (what the ids stand for), for display. */
  pieces(text: string): string[] {
    if (typeof text !== 'string') fail(`tokenizer: text must be a string, got ${describe(text)}`);
    return this.type === 'char' ? splitChar(text, this.lowercase) : splitWord(text, this.lowercase);
  }

  /** Token ids of a text (1 for unknown pieces; never 0), truncated to maxLen when given (keep the first maxLen). */
  encode(text: string, maxLen?: number): Int32Array {
    return this.encodeWithPieces(text, maxLen).ids;
  }

  /** pieces and ids together, same truncation: for `explain`. `owners[i]` is the index in `pieces`
   *  of the piece id i came from (i itself, except for 'ngram', where a piece gives several ids);
   *  `pieces` keeps the pieces that have at least one id left after truncation. */
  encodeWithPieces(text: string, maxLen?: number): { pieces: string[]; ids: Int32Array; owners: Int32Array } {
    const limit = checkMaxLen('tokenizer.encode', maxLen);
    let pieces = this.pieces(text);
    if (this.ngram) {
      // Every piece gives at least one id: past `limit` pieces nothing more can be kept, so a huge
      // text costs no more than a text of `limit` words.
      if (limit !== undefined && pieces.length > limit) pieces = pieces.slice(0, limit);
      let { ids, owners } = ngramFeatures(pieces, this.ngram);
      if (limit !== undefined && ids.length > limit) {
        ids = ids.slice(0, limit); owners = owners.slice(0, limit);
        pieces = pieces.slice(0, owners[limit - 1] + 1);
      }
      return { pieces, ids, owners };
    }
    if (limit !== undefined && pieces.length > limit) pieces = pieces.slice(0, limit);
    const ids = new Int32Array(pieces.length);
    for (let i = 0; i < pieces.length; i++) {
      const id = this.#ids.get(pieces[i]);
      ids[i] = id === undefined || id === PAD_ID ? UNK_ID : id;
    }
    return { pieces, ids, owners: Int32Array.from(ids.keys()) };
  }

  /** The id of a piece as `pieces` returns it (no normalisation here); 1 when it is not in the
   *  vocabulary. For 'ngram', the id of the piece's own feature (one of the ids it gives). */
  idOf(piece: string): number {
    if (typeof piece !== 'string') fail(`tokenizer.idOf: piece must be a string, got ${describe(piece)}`);
    if (this.ngram) return wordId(piece, this.ngram.buckets);
    return this.#ids.get(piece) ?? UNK_ID;
  }

  /** The vocabulary entry of an id; HeedError outside [0, vocabSize). An 'ngram' tokenizer's
   *  buckets have no single piece: they read '<bucket N>'. */
  pieceOf(id: number): string {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      fail(`tokenizer.pieceOf: id ${describe(id)} is outside [0, ${this.vocabSize})`);
    }
    return id < this.#vocab.length ? this.#vocab[id] : `<bucket ${id - 2}>`;
  }
}
