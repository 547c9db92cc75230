import { describe, expect, it } from 'vitest';
import { HeedError } from '../../src/errors.js';
import { Tokenizer, type TokenizerJSON } from '../../src/data/tokenizer.js';

const corpus = [
  "I don't like it! Not at all.",
  'I LOVE it!!! 😀😀',
  "Don't you love l'homme?",
  'love love hate',
  'Café crème, café noir 😀',
];

const open = (texts: string[], opts = {}): Tokenizer => Tokenizer.build(texts, { minFreq: 1, ...opts });

function expectHeed(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(HeedError);
  expect((err as Error).message).toMatch(pattern);
}

describe('word tokenizer pieces', () => {
  const t = open([]);
  it('keeps internal apostrophes in one piece and folds U+2019', () => {
    expect(t.pieces("Don't stop l'homme rock'n'roll don’t 'quoted'")).toEqual(
      ["don't", 'stop', "l'homme", "rock'n'roll", "don't", "'", 'quoted', "'"]);
  });
  it('makes every punctuation mark and symbol a piece of its own', () => {
    expect(t.pieces('wow!!! really? a-b, c.d $5 #1')).toEqual(
      ['wow', '!', '!', '!', 'really', '?', 'a', '-', 'b', ',', 'c', '.', 'd', '$', '5', '#', '1']);
  });
  it('handles accents, combining marks and NFKC', () => {
    // decomposed é (e + U+0301) and precomposed é give the same piece; ﬁ ligature becomes "fi"
    expect(t.pieces('e\u0301cole École ﬁne')).toEqual(['école', 'école', 'fine']);
    expect(t.pieces('ＡＢＣ１２３')).toEqual(['abc123']); // full-width forms
    expect(t.pieces('क्षत्रिय नमस्ते')).toEqual(['क्षत्रिय', 'नमस्ते']); // virama and vowel signs stay in the word
  });
  it('keeps CJK runs and Greek with final sigma', () => {
    expect(t.pieces('東京タワー、好き。')).toEqual(['東京タワー', '、', '好き', '。']);
    expect(t.pieces('ΣΊΣΥΦΟΣ')).toEqual(['σίσυφος']);
  });
  it('makes an emoji one piece (code points, modifiers, variation selectors, ZWJ sequences, flags)', () => {
    expect(t.pieces('great😀😀 ❤️ 👍🏽 👩‍💻 🇫🇷🇩🇪 1️⃣')).toEqual(['great', '😀', '😀', '❤️', '👍🏽', '👩‍💻', '🇫🇷', '🇩🇪', '1️⃣']);
  });
  it('drops invisible format characters and whitespace of every kind', () => {
    expect(t.pieces('co\u00ADoperate\u200B now\u00A0\tthen\n\u3000end\uFEFF')).toEqual(['cooperate', 'now', 'then', 'end']);
  });
  it('replaces lone surrogates', () => {
    expect(t.pieces('x\uD800y')).toEqual(['x', '\uFFFD', 'y']);
  });
  it('lowercases by default and not when asked', () => {
    expect(t.lowercase).toBe(true);
    const cased = open([], { lowercase: false });
    expect(cased.pieces('Hello WORLD')).toEqual(['Hello', 'WORLD']);
    expect(t.pieces('Hello WORLD')).toEqual(['hello', 'world']);
  });
  it('never lets text collide with the specials', () => {
    const tk = open(['<pad> <unk> pad unk']);
    expect(tk.pieces('<pad>')).toEqual(['<', 'pad', '>']);
    const ids = tk.encode('<pad> <unk>');
    expect([...ids].every((i) => i >= 2)).toBe(true);
    expect(tk.toJSON().vocab.slice(2)).not.toContain('<pad>');
  });
});

describe('char tokenizer pieces', () => {
  it('splits by code point, keeps spaces as pieces and collapses whitespace', () => {
    const t = Tokenizer.build([], { type: 'char' });
    expect(t.lowercase).toBe(false);
    expect(t.pieces('  Hé\t\n lo 😀!  ')).toEqual(['H', 'é', ' ', 'l', 'o', ' ', '😀', '!']);
    expect(t.pieces('e\u0301')).toEqual(['é']);
    expect(t.pieces('東京')).toEqual(['東', '京']);
  });
  it('lowercases when asked', () => {
    const t = Tokenizer.build([], { type: 'char', lowercase: true });
    expect(t.pieces('AbC')).toEqual(['a', 'b', 'c']);
  });
  it('encodes with its own vocabulary; unknown characters are 1', () => {
    const t = Tokenizer.build(['aab', 'ba c'], { type: 'char' });
    // counts: a 3, b 2, ' ' 1, c 1 → ties in code-unit order (' ' < 'c')
    expect(t.toJSON().vocab).toEqual(['<pad>', '<unk>', 'a', 'b', ' ', 'c']);
    expect([...t.encode('abz c')]).toEqual([2, 3, 1, 4, 5]);
  });
});

describe('vocabulary', () => {
  it('orders by count descending then by code units, specials first', () => {
    const t = open(['b a c b a b', 'd C']);
    // b 3, a 2, c 2 (C lowercased), d 1
    expect(t.toJSON().vocab).toEqual(['<pad>', '<unk>', 'b', 'a', 'c', 'd']);
    expect(t.vocabSize).toBe(6);
    expect(t.idOf('<pad>')).toBe(0);
    expect(t.idOf('b')).toBe(2);
    expect(t.idOf('zzz')).toBe(1);
    expect(t.pieceOf(3)).toBe('a');
    expect(t.pieceOf(1)).toBe('<unk>');
  });
  it('compares pieces by code units, not locale', () => {
    const t = open(['é z a Z B']);
    // after lowercasing z is seen twice; a, b, é once each, in code-unit order (é after z)
    expect(t.toJSON().vocab).toEqual(['<pad>', '<unk>', 'z', 'a', 'b', 'é']);
  });
  it('applies minFreq (default 2 for words)', () => {
    const t = Tokenizer.build(corpus);
    expect(t.minFreq).toBe(2);
    expect(t.maxVocab).toBe(20000);
    const v = t.toJSON().vocab;
    expect(v).toContain('love');
    expect(v).toContain('😀');
    expect(v).not.toContain('hate'); // seen once
    expect(t.idOf('hate')).toBe(1);
  });
  it('caps the vocabulary at maxVocab entries including the specials', () => {
    const t = open(['a a a a b b b c c d e f'], { maxVocab: 4 });
    expect(t.toJSON().vocab).toEqual(['<pad>', '<unk>', 'a', 'b']);
    expect(t.vocabSize).toBe(4);
    expect([...t.encode('a b c d')]).toEqual([2, 3, 1, 1]);
    expect(open(['a b'], { maxVocab: 2 }).vocabSize).toBe(2);
    expect(Tokenizer.build([], { type: 'char' }).maxVocab).toBe(2000);
  });
  it('is deterministic: the same texts and options give the same JSON', () => {
    const a = JSON.stringify(Tokenizer.build(corpus, { minFreq: 1 }));
    const b = JSON.stringify(Tokenizer.build([...corpus], { minFreq: 1 }));
    expect(a).toBe(b);
    // generators work too
    function* gen(): Generator<string> { yield* corpus; }
    expect(JSON.stringify(Tokenizer.build(gen(), { minFreq: 1 }))).toBe(a);
  });
  it('validates build options and texts', () => {
    expectHeed(() => Tokenizer.build([], { type: 'bpe' as never }), /options\.type/);
    expectHeed(() => Tokenizer.build([], { lowercase: 1 as never }), /options\.lowercase/);
    expectHeed(() => Tokenizer.build([], { minFreq: 0 }), /options\.minFreq/);
    expectHeed(() => Tokenizer.build([], { minFreq: 1.5 }), /options\.minFreq/);
    expectHeed(() => Tokenizer.build([], { maxVocab: 1 }), /options\.maxVocab/);
    expectHeed(() => Tokenizer.build(['ok', 3 as never]), /texts\[1\]/);
    expectHeed(() => Tokenizer.build(5 as never), /texts/);
  });
});

describe('encode', () => {
  const t = Tokenizer.build(corpus, { minFreq: 1 });
  it('maps unknown pieces to 1 and never produces 0', () => {
    const ids = t.encode('love zebra!! <pad> quux 🦓');
    expect(ids).toBeInstanceOf(Int32Array);
    expect([...ids].includes(0)).toBe(false);
    expect(ids[0]).toBe(t.idOf('love'));
    expect(ids[1]).toBe(1);
    expect([...t.encode('🦓 qqq')]).toEqual([1, 1]);
    expect(t.encode('').length).toBe(0);
    expect(t.encode('   \n').length).toBe(0);
  });
  it('truncates to maxLen keeping the first pieces', () => {
    const full = t.encode('i love it ! not at all');
    expect(full.length).toBe(7);
    expect([...t.encode('i love it ! not at all', 3)]).toEqual([...full.subarray(0, 3)]);
    expect(t.encode('i love', 10).length).toBe(2);
    const ep = t.encodeWithPieces('I love it! Not at all', 4);
    expect(ep.pieces).toEqual(['i', 'love', 'it', '!']);
    expect([...ep.ids]).toEqual([...full.subarray(0, 4)]);
    expectHeed(() => t.encode('x', 0), /maxLen/);
    expectHeed(() => t.encode('x', 2.5), /maxLen/);
  });
  it('gives pieces and ids that line up', () => {
    const { pieces, ids } = t.encodeWithPieces("Don't you LOVE café? 🦓");
    expect(pieces).toEqual(["don't", 'you', 'love', 'café', '?', '🦓']);
    expect([...ids]).toEqual(pieces.map((p) => t.idOf(p)));
    for (let i = 0; i < 5; i++) expect(t.pieceOf(ids[i])).toBe(pieces[i]);
  });
  it('rejects non-string text and out-of-range ids', () => {
    expectHeed(() => t.encode(5 as never), /text must be a string/);
    expectHeed(() => t.pieceOf(t.vocabSize), /outside/);
    expectHeed(() => t.pieceOf(-1), /outside/);
    expectHeed(() => t.pieceOf(1.5), /outside/);
  });
});

describe('JSON round trip', () => {
  const texts = [...corpus, '東京タワー 👍🏽 ❤️ e\u0301cole', 'ΣΊΣΥΦΟΣ ﬁne'];
  const probes = ['I love l\'homme 😀 !!', 'École 東京タワー 👍🏽 ❤️ unknownword', 'σίσυφος fine', ''];
  for (const opts of [{ minFreq: 1 }, { type: 'char' as const }, { lowercase: false, minFreq: 1 }, { type: 'char' as const, lowercase: true, maxVocab: 10 }]) {
    it(`toJSON → fromJSON gives the same ids (${JSON.stringify(opts)})`, () => {
      const t = Tokenizer.build(texts, opts);
      const json = JSON.parse(JSON.stringify(t)) as TokenizerJSON;
      expect(json).toEqual(t.toJSON());
      const u = Tokenizer.fromJSON(json);
      expect(u.toJSON()).toEqual(t.toJSON());
      expect(u.type).toBe(t.type);
      expect(u.vocabSize).toBe(t.vocabSize);
      for (const p of probes) {
        expect([...u.encode(p)]).toEqual([...t.encode(p)]);
        expect(u.pieces(p)).toEqual(t.pieces(p));
      }
    });
  }
  it('toJSON returns a copy', () => {
    const t = open(['a b']);
    t.toJSON().vocab.push('zzz');
    expect(t.toJSON().vocab).toEqual(['<pad>', '<unk>', 'a', 'b']);
  });
});

describe('fromJSON rejections', () => {
  const good = (): Record<string, unknown> => ({ type: 'word', lowercase: true, minFreq: 2, maxVocab: 100, vocab: ['<pad>', '<unk>', 'hello', '!'] });
  const reject = (patch: Record<string, unknown>, pattern: RegExp): void =>
    expectHeed(() => Tokenizer.fromJSON({ ...good(), ...patch }), pattern);

  it('accepts the good form', () => {
    expect(Tokenizer.fromJSON(good()).vocabSize).toBe(4);
  });
  it('rejects non-objects', () => {
    for (const v of [null, 5, 'word', [1, 2], undefined]) expectHeed(() => Tokenizer.fromJSON(v), /tokenizer must be a JSON object/);
  });
  it('rejects missing and unknown fields', () => {
    for (const k of ['type', 'lowercase', 'minFreq', 'maxVocab', 'vocab']) {
      const j = good();
      delete j[k];
      expectHeed(() => Tokenizer.fromJSON(j), new RegExp(`tokenizer\\.${k} is missing`));
    }
    reject({ extra: 1 }, /unknown field "extra"/);
  });
  it('names the type field', () => {
    reject({ type: 'bpe' }, /tokenizer\.type/);
    reject({ type: 1 }, /tokenizer\.type/);
  });
  it('names the lowercase field', () => {
    reject({ lowercase: 'yes' }, /tokenizer\.lowercase/);
    reject({ lowercase: 0 }, /tokenizer\.lowercase/);
  });
  it('names the integer fields', () => {
    reject({ minFreq: 0 }, /tokenizer\.minFreq/);
    reject({ minFreq: 1.5 }, /tokenizer\.minFreq/);
    reject({ minFreq: '2' }, /tokenizer\.minFreq/);
    reject({ maxVocab: 1 }, /tokenizer\.maxVocab/);
    reject({ maxVocab: Number.NaN }, /tokenizer\.maxVocab/);
    reject({ maxVocab: 2 ** 40 }, /tokenizer\.maxVocab/);
    reject({ maxVocab: 3 }, /tokenizer\.vocab has 4 entries, more than tokenizer\.maxVocab/);
  });
  it('names the vocab field and entry', () => {
    reject({ vocab: 'abc' }, /tokenizer\.vocab must be an array/);
    reject({ vocab: [] }, /tokenizer\.vocab must start with '<pad>', '<unk>'/);
    reject({ vocab: ['<unk>', '<pad>', 'a'] }, /tokenizer\.vocab must start/);
    reject({ vocab: ['<pad>', '<unk>', 'a', 7] }, /tokenizer\.vocab\[3\] must be a string/);
    reject({ vocab: ['<pad>', '<unk>', 'a', 'a'] }, /tokenizer\.vocab\[3\] duplicates/);
    reject({ vocab: ['<pad>', '<unk>', '<pad>'] }, /tokenizer\.vocab\[2\] duplicates/);
    reject({ vocab: ['<pad>', '<unk>', ''] }, /tokenizer\.vocab\[2\] is not a piece/);
    reject({ vocab: ['<pad>', '<unk>', 'two words'] }, /tokenizer\.vocab\[2\] is not a piece/);
    reject({ vocab: ['<pad>', '<unk>', 'Hello'] }, /tokenizer\.vocab\[2\] is not a piece a lowercasing word/);
    reject({ vocab: ['<pad>', '<unk>', 'a!'] }, /tokenizer\.vocab\[2\] is not a piece/);
    reject({ vocab: ['<pad>', '<unk>', '\uD800'] }, /tokenizer\.vocab\[2\] is not a piece/);
    reject({ type: 'char', vocab: ['<pad>', '<unk>', 'ab'] }, /tokenizer\.vocab\[2\] is not a piece a lowercasing char/);
    reject({ type: 'char', lowercase: false, vocab: ['<pad>', '<unk>', '\t'] }, /tokenizer\.vocab\[2\] is not a piece a char/);
    expect(Tokenizer.fromJSON({ ...good(), lowercase: false, vocab: ['<pad>', '<unk>', 'Hello'] }).idOf('Hello')).toBe(2);
    expect(Tokenizer.fromJSON({ ...good(), type: 'char', vocab: ['<pad>', '<unk>', ' ', '😀'] }).vocabSize).toBe(4);
  });
});
