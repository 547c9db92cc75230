// Tagging data (src/data/tagging.ts): words and tags checked row by row, and each word's tag on
// the first of its token ids.
import { describe, expect, it } from 'vitest';
import { encodeWords, idLabels, splitTagged, wordsOf } from '../../src/data/tagging.js';
import { Tokenizer } from '../../src/data/tokenizer.js';

describe('tagging data', () => {
  const tok = Tokenizer.build(['the dog barks', "don't stop", 'the dog'], { type: 'word', minFreq: 1 });

  it('splits on any whitespace and checks one tag per word, naming the place', () => {
    expect(wordsOf('  the\tdog \n barks ')).toEqual(['the', 'dog', 'barks']);
    expect(splitTagged('the dog', 'DET  NOUN', 'f.csv:2')).toEqual({ words: ['the', 'dog'], tags: ['DET', 'NOUN'] });
    expect(() => splitTagged('the dog', 'DET', 'f.csv:2')).toThrow('f.csv:2: 2 words but 1 tag (the label column holds one tag per word, separated by spaces)');
    expect(() => splitTagged('  ', '', 'f.csv:3')).toThrow('f.csv:3: the text has no words to tag');
  });

  it("puts a word's tag on its first piece, -100 on the rest; a word with no piece reads as unknown", () => {
    const words = ['stop!', 'stop', '\u200b', 'dog'];
    const e = encodeWords(tok, words, 64);
    const pieces = tok.encode('stop!').length;
    expect(pieces).toBeGreaterThan(1);
    expect(Array.from(e.first)).toEqual([0, pieces, pieces + 1, pieces + 2]);
    expect(e.ids[pieces + 1]).toBe(1);   // the zero-width space: no piece, so <unk>
    expect(Array.from(idLabels(e, [3, 1, 2, 0]))).toEqual([3, ...new Array(pieces - 1).fill(-100), 1, 2, 0]);
  });

  it('cuts at maxLen ids: later words get no id (first = -1) and no label', () => {
    const e = encodeWords(tok, ['the', "don't", 'dog'], 2);
    expect(e.ids).toHaveLength(2);
    expect(Array.from(e.first)).toEqual([0, 1, -1]);
    expect(Array.from(idLabels(e, [5, 6, 7]))).toEqual([5, 6]);
  });
});
