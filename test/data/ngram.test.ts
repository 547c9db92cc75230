// The hashed n-gram tokenizer. Its ids are part of every model file it writes, so the known
// answers below pin them: a change to the hash, the feature order or the normalisation that would
// make a saved model read a text differently fails here.
import { describe, expect, it } from 'vitest';
import { HeedError } from '../../src/errors.js';
import { bigramId, charNgramIds, fnv1a, ngramFeatures, wordId } from '../../src/data/ngram.js';
import { Tokenizer } from '../../src/data/tokenizer.js';

function expectHeed(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(HeedError);
  expect((err as Error).message).toMatch(pattern);
}

describe('fnv1a', () => {
  it('gives the published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });
  it('hashes the UTF-8 bytes: 2-, 3- and 4-byte code points, and a lone surrogate as U+FFFD', () => {
    expect(fnv1a('é')).toBe(0x1e9de8c1);
    expect(fnv1a('😀')).toBe(0x33a29608);
    expect(fnv1a('\uD800')).toBe(fnv1a('\uFFFD'));
    expect(fnv1a('x\uDC00y')).toBe(fnv1a('x\uFFFDy'));
  });
});

describe('n-gram features: known answers', () => {
  const s = { buckets: 1000, charMin: 2, charMax: 4, wordNgrams: 2 };
  it('pins word, bigram and character n-gram ids', () => {
    expect(wordId('hello', 1000)).toBe(440);
    expect(bigramId('hello', 'world', 1000)).toBe(257);
    // '<hé>': <h, hé, é> (n = 2), <hé, hé> (n = 3); '<hé>' itself (n = 4) is the word's own feature
    expect(charNgramIds('hé', s)).toEqual([352, 60, 898, 172, 670]);
  });
  it('pins a whole text through the tokenizer (normalisation, pieces, order, owners)', () => {
    const t = Tokenizer.build([], { type: 'ngram', buckets: 4096 });
    const { pieces, ids, owners } = t.encodeWithPieces("Don't panic, Zoë! 👍🏽");
    expect(pieces).toEqual(["don't", 'panic', ',', 'zoë', '!', '👍🏽']);
    expect(Array.from(ids.subarray(0, 6))).toEqual([1894, 3532, 1689, 333, 2219, 835]);
    expect(Array.from(ids.subarray(33, 40))).toEqual([1520, 4050, 3188, 2926, 3977, 242, 242]);
    expect(ids.length).toBe(59);
    expect(Array.from(owners.subarray(14, 18))).toEqual([0, 0, 1, 1]);
    expect(owners[58]).toBe(5);
  });
  it('orders each word: its id, its bigram with the word before, its character n-grams', () => {
    const f = ngramFeatures(['ab', 'c'], s);
    // 'ab': word, then <a ab b> <ab ab>; 'c': word, bigram, <c c>
    expect(Array.from(f.ids)).toEqual([wordId('ab', 1000), ...charNgramIds('ab', s), wordId('c', 1000), bigramId('ab', 'c', 1000), ...charNgramIds('c', s)]);
    expect(Array.from(f.owners)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(charNgramIds('ab', s)).toHaveLength(5);
    expect(charNgramIds('c', s)).toHaveLength(2);
  });
  it('leaves out bigrams with wordNgrams 1 and character n-grams with charMax 0', () => {
    expect(ngramFeatures(['a', 'b'], { ...s, wordNgrams: 1, charMax: 0 }).ids).toEqual(Int32Array.from([wordId('a', 1000), wordId('b', 1000)]));
  });
  it('keeps every id in [2, buckets + 2): never padding, never <unk>', () => {
    const t = Tokenizer.build([], { type: 'ngram', buckets: 7 });
    const ids = t.encode('the quick brown fox jumps over the lazy dog 0123456789 ÄÖÜ 東京 😀');
    expect(ids.length).toBeGreaterThan(50);
    for (const id of ids) { expect(id).toBeGreaterThanOrEqual(2); expect(id).toBeLessThan(9); }
    expect(t.vocabSize).toBe(9);
  });
});

describe('ngram tokenizer', () => {
  it('sizes its buckets from the distinct features of the texts, as a power of two in [2^10, 2^17]', () => {
    expect(Tokenizer.build(['a b c'], { type: 'ngram' }).ngram!.buckets).toBe(1024);
    const many = Array.from({ length: 3000 }, (_, i) => `w${i} x${i * 7} y${i * 13}`);
    const t = Tokenizer.build(many, { type: 'ngram' });
    expect(Math.log2(t.ngram!.buckets) % 1).toBe(0);
    expect(t.ngram!.buckets).toBeGreaterThan(2 ** 14);
    expect(Tokenizer.build(many, { type: 'ngram' }).toJSON()).toEqual(t.toJSON());
  });
  it('round-trips through JSON with the same ids', () => {
    const t = Tokenizer.build(['x'], { type: 'ngram', buckets: 5000, charMin: 1, charMax: 3, wordNgrams: 1 });
    const json = JSON.parse(JSON.stringify(t.toJSON()));
    expect(json).toEqual({ type: 'ngram', lowercase: true, minFreq: 1, maxVocab: 5002, vocab: ['<pad>', '<unk>'], buckets: 5000, charMin: 1, charMax: 3, wordNgrams: 1 });
    const u = Tokenizer.fromJSON(json);
    expect(u.encode('Hello there, world')).toEqual(t.encode('Hello there, world'));
    expect(u.vocabSize).toBe(5002);
  });
  it('truncates to maxLen ids and keeps the pieces those ids came from', () => {
    const t = Tokenizer.build([], { type: 'ngram', buckets: 100 });
    const full = t.encodeWithPieces('one two three');
    const cut = t.encodeWithPieces('one two three', 12);
    expect(cut.ids).toEqual(full.ids.subarray(0, 12));
    expect(cut.pieces).toEqual(['one', 'two']);
    expect(t.encodeWithPieces('', 5)).toEqual({ pieces: [], ids: new Int32Array(0), owners: new Int32Array(0) });
  });
  it('names the field at fault in a bad JSON form or bad options', () => {
    const good = Tokenizer.build([], { type: 'ngram', buckets: 10 }).toJSON();
    expectHeed(() => Tokenizer.fromJSON({ ...good, buckets: 0 }), /tokenizer\.buckets must be an integer in \[1, 4194304\], got 0/);
    expectHeed(() => Tokenizer.fromJSON({ ...good, charMin: 3, charMax: 2 }), /tokenizer\.charMax \(2\) must be 0 or at least tokenizer\.charMin \(3\)/);
    expectHeed(() => Tokenizer.fromJSON({ ...good, wordNgrams: 3 }), /tokenizer\.wordNgrams must be an integer in \[1, 2\]/);
    expectHeed(() => Tokenizer.fromJSON({ ...good, maxVocab: 99 }), /maxVocab of an 'ngram' tokenizer must be buckets \+ 2 \(12\), got 99/);
    expectHeed(() => Tokenizer.fromJSON({ ...good, vocab: ['<pad>', '<unk>', 'x'] }), /vocab of an 'ngram' tokenizer must be exactly/);
    const { charMax: _, ...missing } = good;
    expectHeed(() => Tokenizer.fromJSON(missing), /tokenizer\.charMax is missing/);
    expectHeed(() => Tokenizer.fromJSON({ ...good, extra: 1 }), /unknown field "extra"/);
    expectHeed(() => Tokenizer.build([], { type: 'ngram', minFreq: 2 }), /minFreq has no meaning for the 'ngram' tokenizer/);
    expectHeed(() => Tokenizer.build([], { type: 'word', buckets: 10 }), /buckets is for the 'ngram' tokenizer, not 'word'/);
    expectHeed(() => Tokenizer.build([5 as unknown as string], { type: 'ngram' }), /texts\[0\] must be a string/);
  });
  it('idOf is the word feature; pieceOf names a bucket', () => {
    const t = Tokenizer.build([], { type: 'ngram', buckets: 100 });
    expect(t.idOf('hello')).toBe(t.encode('hello')[0]);
    expect(t.pieceOf(0)).toBe('<pad>');
    expect(t.pieceOf(5)).toBe('<bucket 3>');
    expectHeed(() => t.pieceOf(102), /outside \[0, 102\)/);
  });
});
