// A checkpoint's WordPiece tokenizer as a classifier's tokenizer (src/data/wordpiece-text.ts): the
// cut keeps [SEP], explain's pieces are the words as written, and it round-trips through JSON.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WordPieceText } from '../../src/data/wordpiece-text.js';

const files = { 'tokenizer.json': readFileSync(new URL('../fixtures/wordpiece/uncased/tokenizer.json', import.meta.url), 'utf8') };
const wp = new WordPieceText(files);
const CLS = 2, SEP = 3;

describe('WordPieceText', () => {
  it('encodes [CLS] text [SEP]; with maxLen the text is cut, never the [SEP]', () => {
    const all = wp.encode('the movie was great');
    expect(all[0]).toBe(CLS);
    expect(all[all.length - 1]).toBe(SEP);
    const cut = wp.encode('the movie was great', 4);
    expect(Array.from(cut)).toEqual([CLS, all[1], all[2], SEP]);
  });

  it('gives each id the word it came from, spelled as in the text (## pieces and attached punctuation joined)', () => {
    const text = 'Naïve  Schrödinger, hi!';
    const { pieces, ids, owners } = wp.encodeWithPieces(text);
    expect(pieces).toEqual(['[CLS]', 'Naïve', 'Schrödinger,', 'hi!', '[SEP]']);
    expect(ids.length).toBeGreaterThan(pieces.length);   // the words are several pieces each
    expect(owners[0]).toBe(0);
    expect(owners[ids.length - 1]).toBe(pieces.length - 1);
    for (let i = 1; i < ids.length; i++) expect(owners[i] - owners[i - 1]).toBeGreaterThanOrEqual(0);
  });

  it('round-trips through toJSON, and fromJSON names what is wrong', () => {
    const again = WordPieceText.fromJSON(JSON.parse(JSON.stringify(wp.toJSON())));
    expect(Array.from(again.encode('a dog'))).toEqual(Array.from(wp.encode('a dog')));
    expect(() => WordPieceText.fromJSON({ type: 'wordpiece' }, 'm.safetensors')).toThrow(`m.safetensors: a 'wordpiece' tokenizer needs files: { "tokenizer.json": … }`);
    expect(() => WordPieceText.fromJSON({ type: 'wordpiece', files: { 'merges.txt': 'x' } }, 'm')).toThrow('m: files.merges.txt is not one of tokenizer.json, vocab.txt, tokenizer_config.json with its text');
  });
});
