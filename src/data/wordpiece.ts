// A BERT tokenizer that gives the ids Hugging Face's `tokenizers` gives (0.23): added tokens split
// out first, BertNormalizer, BertPreTokenizer, WordPiece (greedy longest match, `##` continuation),
// truncation, the post-processor's [CLS]/[SEP] template, padding; and decode. The files it reads
// (tokenizer.json, or vocab.txt + tokenizer_config.json) are parsed in wordpiece-config.ts; this
// file only runs a parsed configuration.
import { HeedError } from '../errors.js';
import { bertPreTokenize, BertNormalizer, identity, type Normalized } from './bert-normalizer.js';
import { parseWordPieceFiles, type AddedToken, type Padding, type Template, type Truncation, type WordPieceConfig, type WordPieceFiles } from './wordpiece-config.js';

export type { WordPieceFiles } from './wordpiece-config.js';
export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';
export type Direction = 'right' | 'left';

/** One encoded input, as HF's `Encoding`: every array has one entry per token. */
export interface WordPieceEncoding {
  ids: Int32Array;
  /** 0 for the first text and its [CLS]/[SEP], 1 for the pair (as the template says). */
  typeIds: Int32Array;
  /** 1 for tokens, 0 for padding. */
  attentionMask: Int32Array;
  /** 1 for tokens the template or padding added ([CLS], [SEP], [PAD]). */
  specialTokensMask: Int32Array;
  tokens: string[];
  /** [start, end) in UTF-16 units of the text the token came from (the pair's for its tokens);
   *  [0, 0] for added [CLS], [SEP] and padding. */
  offsets: Array<[number, number]>;
}

export interface EncodeOptions {
  /** Add the template's [CLS]/[SEP] (default true). */
  addSpecialTokens?: boolean;
  /** undefined: the file's setting. true: the file's, else model_max_length with longest_first.
   *  false: none. An object: these settings (strategy longest_first and direction right by default). */
  truncation?: boolean | { maxLength: number; strategy?: TruncationStrategy; direction?: Direction };
  /** undefined: the file's setting (for encodeBatch, to the longest when the file has none).
   *  false: none. true or an object: to `length` (default: the longest in the batch), rounded up
   *  to a multiple of `multipleOf`, on the `direction` side (default right). */
  padding?: boolean | { length?: number; multipleOf?: number; direction?: Direction };
}

export type Input = string | readonly [string, string];

/** Tokens of one sequence before the template: ids, token strings, flat [start, end] offsets. */
interface Seq { ids: number[]; tokens: string[]; offsets: number[] }

const WORD = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u; // Rust regex's Unicode \w

/** Loads a BERT-family tokenizer from the files of a checkpoint (their text). `source` (a directory
 *  or model id) prefixes the file names in error messages. */
export function loadWordPiece(files: WordPieceFiles, source?: string): WordPieceTokenizer {
  return new WordPieceTokenizer(parseWordPieceFiles(files, source));
}

export class WordPieceTokenizer {
  private readonly normalizer: BertNormalizer | null;
  private readonly vocab: Map<string, number>;
  private readonly vocabR: Map<number, string>;
  /** Added tokens matched in the raw text / in the normalized text, by first UTF-16 unit, longest first. */
  private readonly rawPatterns: Map<number, AddedToken[]>;
  private readonly normPatterns: Map<number, AddedToken[]>;
  private readonly addedById = new Map<number, { token: AddedToken; text: string }>();
  private readonly special = new Set<string>();
  /** Longest vocabulary entry in UTF-16 units: no match can be longer, so the search starts there. */
  private readonly longest: number;

  /** @internal use loadWordPiece */
  constructor(private readonly config: WordPieceConfig) {
    this.normalizer = config.normalizer ? new BertNormalizer(config.normalizer) : null;
    this.vocab = config.vocab;
    this.vocabR = new Map();
    let longest = 0;
    for (const [t, id] of this.vocab) { if (!this.vocabR.has(id)) this.vocabR.set(id, t); longest = Math.max(longest, t.length); }
    this.longest = longest;
    const raw: AddedToken[] = [], norm: AddedToken[] = [];
    for (const t of config.added) {
      if (t.content === '') continue;
      const text = t.normalized ? this.norm(t.content, 0, t.content.length).text : t.content;
      this.addedById.set(t.id, { token: t, text });
      if (t.special) this.special.add(t.content);
    }
    // HF keeps one token per id (the last one listed) and matches each content once.
    for (const { token, text } of this.addedById.values()) {
      if (text === '') continue;
      (token.normalized ? norm : raw).push({ ...token, content: text });
    }
    this.rawPatterns = byFirstUnit(raw);
    this.normPatterns = byFirstUnit(norm);
  }

  /** Vocabulary entries plus added tokens beyond them: the rows an embedding needs. */
  get vocabSize(): number {
    let max = -1;
    for (const id of this.vocab.values()) max = Math.max(max, id);
    for (const id of this.addedById.keys()) max = Math.max(max, id);
    return max + 1;
  }

  /** tokenizer_config.json's model_max_length, when it gave a usable one. */
  get modelMaxLength(): number | undefined { return this.config.modelMaxLength; }

  tokenToId(token: string): number | undefined {
    for (const { token: t } of this.addedById.values()) if (t.content === token) return t.id;
    return this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return this.addedById.get(id)?.text ?? this.vocabR.get(id);
  }

  /** The normalizer's output for `text` (what the pre-tokenizer sees). */
  normalize(text: string): string {
    return this.norm(checkText('normalize: text', text), 0, text.length).text;
  }

  /** Encodes a text, or a pair (`[CLS] text [SEP] pair [SEP]`). */
  encode(text: string, pair?: string, options: EncodeOptions = {}): WordPieceEncoding {
    checkText('encode: text', text);
    if (pair !== undefined) checkText('encode: pair', pair);
    const settings = this.settings('encode', options, false);
    const out = this.encodeOne(text, pair ?? null, settings);
    if (settings.padding) pad([out], settings.padding);
    return out;
  }

  /** Encodes several texts or [text, pair] couples; they come back padded to one length (the
   *  longest, or as the file or `options.padding` say), with attention mask 0 on the padding. */
  encodeBatch(inputs: readonly Input[], options: EncodeOptions = {}): WordPieceEncoding[] {
    if (!Array.isArray(inputs)) throw new HeedError(`encodeBatch: inputs must be an array of texts or [text, pair] arrays, got ${typeof inputs}`);
    const settings = this.settings('encodeBatch', options, true);
    // Each input is read once, into what is checked and then encoded.
    const list: Array<[string, string | null]> = Array.from(inputs as readonly unknown[], (input, i) => {
      if (typeof input === 'string') return [input, null];
      if (Array.isArray(input)) {
        const [a, b, extra] = [input[0], input[1], input.length];
        if (extra === 2 && typeof a === 'string' && typeof b === 'string') return [a, b];
      }
      throw new HeedError(`encodeBatch: inputs[${i}] must be a string or a [text, pair] array of two strings`);
    });
    const out = list.map(([a, b]) => this.encodeOne(a, b, settings));
    if (settings.padding) pad(out, settings.padding);
    return out;
  }

  /** Text of `ids` as HF's decode: added [CLS]/[SEP]/[PAD]... skipped unless asked, `##` pieces
   *  joined to the piece before, the WordPiece decoder's cleanup (" ." → "."). Ids that are
   *  neither in the vocabulary nor added tokens are skipped, as HF does. */
  decode(ids: ArrayLike<number>, options: { skipSpecialTokens?: boolean } = {}): string {
    const skip = options.skipSpecialTokens ?? true;
    const dec = this.config.decoder;
    if (dec.kind === 'unsupported') throw new HeedError(`${dec.where}: decoder type ${JSON.stringify(dec.type)} is not supported (WordPiece only)`);
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id)) throw new HeedError(`decode: ids[${i}] is ${String(id)}, not an integer`);
      const t = this.idToToken(id);
      if (t !== undefined && !(skip && this.special.has(t))) tokens.push(t);
    }
    if (dec.kind === 'none') return tokens.join(' ');
    return tokens.map((t, i) => {
      if (i > 0) t = t.startsWith(dec.prefix) ? t.slice(dec.prefix.length) : ` ${t}`;
      return dec.cleanup ? cleanup(t) : t;
    }).join('');
  }

  private norm(text: string, from: number, to: number): Normalized {
    return this.normalizer ? this.normalizer.normalize(text, from, to) : identity(text, from, to);
  }

  /** One text → tokens: added tokens in the raw text, then in each normalized stretch, then
   *  words through WordPiece. With `limit`, HF's tokenize_with_limit: words are tokenized from the
   *  kept end only until `limit.max` tokens are reached, and the rest dropped before truncation
   *  proper. That changes the lengths truncation compares, so it is reproduced, not skipped. */
  private sequence(text: string, limit: { max: number; direction: Direction } | null): Seq {
    const splits: Array<Seq | { n: Normalized; from: number; to: number }> = [];
    const added = (id: number, token: string, start: number, end: number) => splits.push({ ids: [id], tokens: [token], offsets: [start, end] });
    const plain = (from: number, to: number) => {
      if (from >= to) return;
      const n = this.norm(text, from, to);
      let k = 0;
      const words = (a: number, b: number) => {
        const w = bertPreTokenize(n.text, a, b);
        for (let i = 0; i < w.length; i += 2) splits.push({ n, from: w[i], to: w[i + 1] });
      };
      for (const m of findMatches(n.text, this.normPatterns)) {
        words(k, m.start);
        added(m.token.id, n.text.slice(m.start, m.stop), n.start[m.start], n.end[m.stop - 1]);
        k = m.stop;
      }
      words(k, n.text.length);
    };
    let at = 0;
    for (const m of findMatches(text, this.rawPatterns)) {
      plain(at, m.start);
      added(m.token.id, text.slice(m.start, m.stop), m.start, m.stop);
      at = m.stop;
    }
    plain(at, text.length);

    const done: Seq[] = new Array(splits.length);
    const run = (i: number): number => {
      const sp = splits[i];
      done[i] = 'ids' in sp ? sp : this.wordPiece(sp.n, sp.from, sp.to);
      return done[i].ids.length;
    };
    let first = 0, last = splits.length, total = 0;
    if (limit?.direction === 'left') {
      first = splits.length;
      for (let i = splits.length - 1; i >= 0; i--) {
        const pre = 'ids' in splits[i];
        total += run(i); first = i;
        if (!pre && total >= limit.max) break;
      }
    } else if (limit) {
      last = 0;
      for (let i = 0; i < splits.length; i++) {
        const pre = 'ids' in splits[i];
        total += run(i); last = i + 1;
        if (!pre && total >= limit.max) break;
      }
    } else {
      for (let i = 0; i < splits.length; i++) run(i);
    }
    const seq: Seq = { ids: [], tokens: [], offsets: [] };
    for (let i = first; i < last; i++) {  // no push(...x): a word can give more tokens than a call takes arguments
      const d = done[i];
      for (let k = 0; k < d.ids.length; k++) { seq.ids.push(d.ids[k]); seq.tokens.push(d.tokens[k]); seq.offsets.push(d.offsets[2 * k], d.offsets[2 * k + 1]); }
    }
    return seq;
  }

  /** HF's WordPiece.tokenize on n.text[from, to): greedy longest match first, continuation pieces
   *  with the prefix; a word longer than max_input_chars_per_word code points, or with a part no
   *  entry matches, is one [UNK]. */
  private wordPiece(n: Normalized, from: number, to: number): Seq {
    const { unk, prefix, maxChars } = this.config.model;
    const s = n.text;
    let chars = 0;
    for (let i = from; i < to; i++) if (!isLowSurrogateAfterHigh(s, i)) chars++;
    const out: Seq = { ids: [], tokens: [], offsets: [] };
    if (chars <= maxChars) {
      for (let start = from; start < to;) {
        let end = Math.min(to, start + this.longest);
        if (isLowSurrogateAfterHigh(s, end)) end--;  // never cut a pair in two
        let found = -1, tok = '';
        while (start < end) {
          const sub = start > from ? prefix + s.slice(start, end) : s.slice(start, end);
          const id = this.vocab.get(sub);
          if (id !== undefined) { found = id; tok = sub; break; }
          end -= isLowSurrogateAfterHigh(s, end - 1) ? 2 : 1;
        }
        if (found < 0) break;
        out.ids.push(found); out.tokens.push(tok); out.offsets.push(n.start[start], n.end[end - 1]);
        start = end;
        if (start === to) return out;
      }
    }
    return { ids: [unk.id], tokens: [unk.token], offsets: [n.start[from], n.end[to - 1]] };
  }

  private settings(what: string, o: EncodeOptions, batch: boolean): { special: boolean; truncation: Truncation | null; padding: Padding | null } {
    if (o === null || typeof o !== 'object') throw new HeedError(`${what}: options must be an object, got ${String(o)}`);
    const special = o.addSpecialTokens ?? true;
    if (typeof special !== 'boolean') throw new HeedError(`${what}: addSpecialTokens must be true or false, got ${String(special)}`);
    return { special, truncation: this.truncationOf(what, o.truncation), padding: this.paddingOf(what, o.padding, batch) };
  }

  private truncationOf(what: string, t: EncodeOptions['truncation']): Truncation | null {
    const file = this.config.truncation;
    if (t === undefined) return file;
    if (t === false) return null;
    if (t === true) {
      if (file) return file;
      const max = this.config.modelMaxLength;
      if (max === undefined) throw new HeedError(`${what}: truncation: true needs a max length, and ${this.config.source} gives none (no truncation, no model_max_length): pass { maxLength }`);
      return { maxLength: max, strategy: 'longest_first', direction: 'right' };
    }
    if (typeof t !== 'object' || t === null) throw new HeedError(`${what}: truncation must be true, false or { maxLength, strategy?, direction? }, got ${String(t)}`);
    const { maxLength, strategy = 'longest_first', direction = 'right' } = t;
    if (!Number.isInteger(maxLength) || maxLength < 0) throw new HeedError(`${what}: truncation.maxLength must be a non-negative integer, got ${String(maxLength)}`);
    if (!['longest_first', 'only_first', 'only_second'].includes(strategy)) throw new HeedError(`${what}: truncation.strategy must be 'longest_first', 'only_first' or 'only_second', got ${String(strategy)}`);
    if (direction !== 'right' && direction !== 'left') throw new HeedError(`${what}: truncation.direction must be 'right' or 'left', got ${String(direction)}`);
    return { maxLength, strategy, direction };
  }

  private paddingOf(what: string, p: EncodeOptions['padding'], batch: boolean): Padding | null {
    const file = this.config.padding;
    if (p === false) return null;
    if (p === undefined && (file || !batch)) return file;
    if (p !== undefined && p !== true && (typeof p !== 'object' || p === null)) throw new HeedError(`${what}: padding must be true, false or { length?, multipleOf?, direction? }, got ${String(p)}`);
    const o = typeof p === 'object' ? p : {};
    if (o.length !== undefined && (!Number.isInteger(o.length) || o.length < 0)) throw new HeedError(`${what}: padding.length must be a non-negative integer, got ${String(o.length)}`);
    if (o.multipleOf !== undefined && (!Number.isInteger(o.multipleOf) || o.multipleOf < 1)) throw new HeedError(`${what}: padding.multipleOf must be a positive integer, got ${String(o.multipleOf)}`);
    if (o.direction !== undefined && o.direction !== 'right' && o.direction !== 'left') throw new HeedError(`${what}: padding.direction must be 'right' or 'left', got ${String(o.direction)}`);
    const pad = file ?? this.config.defaultPad;
    if (!pad) throw new HeedError(`${what}: padding needs a pad token, and ${this.config.source} has no padding settings and no "[PAD]"`);
    return {
      ...pad,
      length: o.length ?? (p === undefined ? pad.length : 'longest'),
      multipleOf: o.multipleOf ?? (p === undefined ? pad.multipleOf : null),
      direction: o.direction ?? pad.direction,
    };
  }

  private encodeOne(text: string, pair: string | null, s: { special: boolean; truncation: Truncation | null }): WordPieceEncoding {
    const t = s.truncation, limit = t && { max: t.maxLength, direction: t.direction };
    // HF limits the first sequence unless only the second is to be truncated, and the second always.
    const a = this.sequence(text, t?.strategy === 'only_second' ? null : limit);
    return this.process(a, pair === null ? null : this.sequence(pair, limit), s);
  }

  /** HF's post_process: truncate (leaving room for the template's tokens), then apply the template. */
  private process(a: Seq, b: Seq | null, s: { special: boolean; truncation: Truncation | null }): WordPieceEncoding {
    const tpl: Template = b ? this.config.template.pair : this.config.template.single;
    if (s.truncation) {
      const added = s.special ? tpl.reduce((n, p) => n + (p.kind === 'special' ? p.ids.length : 0), 0) : 0;
      if (s.truncation.maxLength < added) {
        // HF's usize subtraction wraps here and then truncates nothing: refuse instead.
        throw new HeedError(`truncation: maxLength ${s.truncation.maxLength} leaves no room for the ${added} special tokens ${b ? 'a pair' : 'a text'} gets`);
      }
      truncate(a, b, { ...s.truncation, maxLength: s.truncation.maxLength - added });
    }
    const ids: number[] = [], types: number[] = [], specials: number[] = [], tokens: string[] = [], offsets: Array<[number, number]> = [];
    for (const p of tpl) {
      if (p.kind === 'special') {
        if (!s.special) continue;
        for (let i = 0; i < p.ids.length; i++) { ids.push(p.ids[i]); types.push(p.typeId); specials.push(1); tokens.push(p.tokens[i]); offsets.push([0, 0]); }
      } else {
        const q = p.seq === 0 ? a : b!;
        for (let i = 0; i < q.ids.length; i++) { ids.push(q.ids[i]); types.push(p.typeId); specials.push(0); tokens.push(q.tokens[i]); offsets.push([q.offsets[2 * i], q.offsets[2 * i + 1]]); }
      }
    }
    return {
      ids: Int32Array.from(ids), typeIds: Int32Array.from(types), attentionMask: new Int32Array(ids.length).fill(1),
      specialTokensMask: Int32Array.from(specials), tokens, offsets,
    };
  }
}

function checkText(what: string, t: unknown): string {
  if (typeof t !== 'string') throw new HeedError(`${what} must be a string, got ${t === null ? 'null' : typeof t}`);
  return t;
}

const isLowSurrogateAfterHigh = (s: string, i: number): boolean => {
  const c = s.charCodeAt(i);
  if (!(c >= 0xdc00 && c <= 0xdfff) || i === 0) return false;
  const h = s.charCodeAt(i - 1);
  return h >= 0xd800 && h <= 0xdbff;
};

function byFirstUnit(tokens: AddedToken[]): Map<number, AddedToken[]> {
  const m = new Map<number, AddedToken[]>();
  for (const t of tokens) {
    const k = t.content.charCodeAt(0);
    const list = m.get(k) ?? [];
    list.push(t);
    m.set(k, list);
  }
  for (const list of m.values()) list.sort((x, y) => y.content.length - x.content.length);
  return m;
}

/** HF's AddedVocabulary.find_matches: leftmost-longest matches, not overlapping; a single_word
 *  token needs non-word characters (or the ends) around it, else it is text; lstrip/rstrip take in
 *  the whitespace beside it. */
function findMatches(s: string, patterns: Map<number, AddedToken[]>): Array<{ token: AddedToken; start: number; stop: number }> {
  const out: Array<{ token: AddedToken; start: number; stop: number }> = [];
  if (patterns.size === 0) return out;
  let startOffset = 0;
  for (let i = 0; i < s.length;) {
    const cands = patterns.get(s.charCodeAt(i));
    const hit = cands?.find((t) => s.startsWith(t.content, i));
    if (!hit) { i++; continue; }
    let start = i, stop = i + hit.content.length;
    i = stop;
    if (hit.singleWord) {
      const before = start === 0 || !WORD.test(lastChar(s, start));
      const after = stop === s.length || !WORD.test(String.fromCodePoint(s.codePointAt(stop)!));
      if (!before || !after) continue;
    }
    if (hit.lstrip) {
      let k = start;
      while (k > 0) {
        const c = lastChar(s, k);
        if (!isSpace(c)) break;
        k -= c.length;
      }
      start = Math.max(k, startOffset);
    }
    if (hit.rstrip) {
      while (stop < s.length) {
        const c = String.fromCodePoint(s.codePointAt(stop)!);
        if (!isSpace(c)) break;
        stop += c.length;
      }
      i = stop;
    }
    out.push({ token: hit, start, stop });
    startOffset = stop;
  }
  return out;
}

const SPACE = /^\s$/u;
// Rust's \s is White_Space; JS's \s adds U+FEFF and lacks U+0085.
const isSpace = (c: string): boolean => c === '\u0085' || (c !== '\ufeff' && SPACE.test(c));

function lastChar(s: string, end: number): string {
  const c = s.charCodeAt(end - 1);
  if (c >= 0xdc00 && c <= 0xdfff && end >= 2) {
    const h = s.charCodeAt(end - 2);
    if (h >= 0xd800 && h <= 0xdbff) return s.slice(end - 2, end);
  }
  return s.slice(end - 1, end);
}

function cut(q: Seq, n: number, direction: Direction): void {
  if (q.ids.length <= n) return;
  const [from, to] = direction === 'right' ? [0, n] : [q.ids.length - n, q.ids.length];
  q.ids = q.ids.slice(from, to); q.tokens = q.tokens.slice(from, to); q.offsets = q.offsets.slice(2 * from, 2 * to);
}

/** HF's truncate_encodings, `maxLength` already net of the template's tokens. */
function truncate(a: Seq, b: Seq | null, t: Truncation): void {
  const max = t.maxLength;
  if (max === 0) { cut(a, 0, t.direction); if (b) cut(b, 0, t.direction); return; }
  const total = a.ids.length + (b ? b.ids.length : 0);
  if (total <= max) return;
  if (t.strategy === 'longest_first') {
    if (!b) { cut(a, max, t.direction); return; }
    let n1 = a.ids.length, n2 = b.ids.length;
    const swap = n1 > n2;
    if (swap) [n1, n2] = [n2, n1];
    n2 = n1 > max ? n1 : Math.max(n1, max - n1);
    if (n1 + n2 > max) { n1 = Math.floor(max / 2); n2 = n1 + (max % 2); }
    if (swap) [n1, n2] = [n2, n1];
    cut(a, n1, t.direction); cut(b, n2, t.direction);
    return;
  }
  const target = t.strategy === 'only_first' ? a : b;
  if (!target) throw new HeedError("truncation: strategy 'only_second' needs a pair");
  const remove = total - max;
  if (target.ids.length <= remove) {
    throw new HeedError(`truncation: the ${t.strategy === 'only_first' ? 'text' : 'pair'} has ${target.ids.length} tokens, too few to bring ${total} tokens down to ${max} with '${t.strategy}'`);
  }
  cut(target, target.ids.length - remove, t.direction);
}

function pad(encs: WordPieceEncoding[], p: Padding): void {
  if (encs.length === 0) return;
  let len = 0;
  if (p.length === 'longest') for (const e of encs) len = Math.max(len, e.ids.length);
  else len = p.length;
  if (p.multipleOf && len % p.multipleOf > 0) len += p.multipleOf - (len % p.multipleOf);
  for (const e of encs) {
    const n = len - e.ids.length;
    if (n <= 0) continue;
    const grow = (a: Int32Array, v: number) => {
      const out = new Int32Array(len).fill(v);
      out.set(a, p.direction === 'right' ? 0 : n);
      return out;
    };
    e.ids = grow(e.ids, p.padId); e.typeIds = grow(e.typeIds, p.padTypeId);
    e.attentionMask = grow(e.attentionMask, 0); e.specialTokensMask = grow(e.specialTokensMask, 1);
    const toks = new Array<string>(n).fill(p.padToken), offs = Array.from({ length: n }, (): [number, number] => [0, 0]);
    e.tokens = p.direction === 'right' ? [...e.tokens, ...toks] : [...toks, ...e.tokens];
    e.offsets = p.direction === 'right' ? [...e.offsets, ...offs] : [...offs, ...e.offsets];
  }
}

// HF's WordPiece decoder cleanup, applied to each token (with its leading space) as HF does.
function cleanup(t: string): string {
  return t.replaceAll(' .', '.').replaceAll(' ?', '?').replaceAll(' !', '!').replaceAll(' ,', ',')
    .replaceAll(" ' ", "'").replaceAll(" n't", "n't").replaceAll(" 'm", "'m").replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s").replaceAll(" 've", "'ve").replaceAll(" 're", "'re");
}
