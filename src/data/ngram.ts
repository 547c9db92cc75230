// Hashed n-gram features (fastText's scheme): for each word, the word itself, the bigram it ends
// (with the word before it) and the character n-grams of the word padded as '<word>', each hashed
// into a fixed number of buckets. No vocabulary: a word seen once in training, or never, still has
// its pieces, and the model's embedding table has `buckets` rows whatever the data.
//
// The hash is ours (FNV-1a, 32 bits, over the UTF-8 bytes of a kind byte and the feature's text),
// written out here with integer arithmetic only, so a model file maps a text to the same ids on
// every platform and in every later version. test/data/ngram.test.ts pins known answers.

/** First two ids are '<pad>' and '<unk>'; bucket b is id b + 2. */
export const BUCKET_BASE = 2;

/** What distinguishes the three kinds of feature before hashing (so a word and an n-gram with the
 *  same letters land in unrelated buckets). */
const KIND_WORD = 0x77, KIND_BIGRAM = 0x62, KIND_CHAR = 0x63; // 'w', 'b', 'c'
const FNV_OFFSET = 0x811c9dc5, FNV_PRIME = 0x01000193;

function mixByte(h: number, b: number): number {
  return Math.imul(h ^ b, FNV_PRIME) >>> 0;
}

/** h advanced over the UTF-8 encoding of code point cp. */
function mixCodePoint(h: number, cp: number): number {
  if (cp < 0x80) return mixByte(h, cp);
  if (cp < 0x800) return mixByte(mixByte(h, 0xc0 | (cp >> 6)), 0x80 | (cp & 63));
  if (cp < 0x10000) return mixByte(mixByte(mixByte(h, 0xe0 | (cp >> 12)), 0x80 | ((cp >> 6) & 63)), 0x80 | (cp & 63));
  return mixByte(mixByte(mixByte(mixByte(h, 0xf0 | (cp >> 18)), 0x80 | ((cp >> 12) & 63)), 0x80 | ((cp >> 6) & 63)), 0x80 | (cp & 63));
}

/** FNV-1a (32-bit) of the UTF-8 bytes of `s`, starting from `h` (lone surrogates count as U+FFFD). */
export function fnv1a(s: string, h = FNV_OFFSET): number {
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) { cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00); i++; }
      else cp = 0xfffd;
    } else if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    h = mixCodePoint(h, cp);
  }
  return h;
}

export interface NgramSettings {
  /** Number of hash buckets (the model's vocabulary is buckets + 2). */
  buckets: number;
  /** Character n-gram lengths of '<word>', inclusive; charMax 0 turns them off. */
  charMin: number;
  charMax: number;
  /** 2: each word also gives the bigram (previous word, word); 1: words alone. */
  wordNgrams: number;
}

const bucketOf = (h: number, buckets: number) => BUCKET_BASE + (h % buckets);

/** The id of a word's own feature. */
export function wordId(word: string, buckets: number): number {
  return bucketOf(fnv1a(word, mixByte(FNV_OFFSET, KIND_WORD)), buckets);
}

/** The id of the bigram (prev, word): both words, a space between. */
export function bigramId(prev: string, word: string, buckets: number): number {
  return bucketOf(fnv1a(word, mixByte(fnv1a(prev, mixByte(FNV_OFFSET, KIND_BIGRAM)), 0x20)), buckets);
}

/** The ids of the character n-grams of '<word>' (lengths charMin..charMax, by length then by
 *  position; '<word>' itself is left out, the word's own feature stands for it). */
export function charNgramIds(word: string, s: NgramSettings, out: number[] = []): number[] {
  if (s.charMax <= 0) return out;
  const cps = [0x3c];
  for (const ch of word) cps.push(ch.codePointAt(0)!);
  cps.push(0x3e);
  const L = cps.length, seed = mixByte(FNV_OFFSET, KIND_CHAR);
  for (let n = s.charMin; n <= Math.min(s.charMax, L - 1); n++) {
    for (let i = 0; i + n <= L; i++) {
      let h = seed;
      for (let j = i; j < i + n; j++) h = mixCodePoint(h, cps[j]);
      out.push(bucketOf(h, s.buckets));
    }
  }
  return out;
}

/** The features of a text's words, in order: for word k its own id, then its bigram with word
 *  k - 1 (k ≥ 1, wordNgrams 2), then its character n-grams. `owners[i]` is the word that id i
 *  belongs to (what `explain` sums back). */
export function ngramFeatures(words: readonly string[], s: NgramSettings): { ids: Int32Array; owners: Int32Array } {
  const ids: number[] = [], owners: number[] = [];
  for (let k = 0; k < words.length; k++) {
    const start = ids.length;
    ids.push(wordId(words[k], s.buckets));
    if (s.wordNgrams >= 2 && k > 0) ids.push(bigramId(words[k - 1], words[k], s.buckets));
    charNgramIds(words[k], s, ids);
    for (let i = start; i < ids.length; i++) owners.push(k);
  }
  return { ids: Int32Array.from(ids), owners: Int32Array.from(owners) };
}
