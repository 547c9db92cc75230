// Tagging data: a text of whitespace-separated words with one tag per word (the label column holds
// the tags, space-separated, as CoNLL-style corpora flatten to one row per sentence). A word may
// become several token ids (punctuation split off, characters, n-grams): its tag goes on its first
// id and the rest get IGNORE, as Hugging Face's token-classification recipe labels word pieces;
// the prediction for a word is the one at its first id.
import { HeedError } from '../errors.js';
import { IGNORE } from './dataset.js';
import { UNK_ID, type Tokenizer } from './tokenizer.js';

/** What tagging needs of a tokenizer. */
type Encoder = Pick<Tokenizer, 'encode'>;

/** The words of a text: split on whitespace, empty pieces dropped. */
export function wordsOf(text: string): string[] {
  return text.split(/\s+/u).filter((w) => w !== '');
}

/** The words of a row and their tags; a count mismatch is an error naming `where` (file:line). */
export function splitTagged(text: string, tagText: string, where: string): { words: string[]; tags: string[] } {
  const words = wordsOf(text), tags = wordsOf(tagText);
  if (words.length === 0) throw new HeedError(`${where}: the text has no words to tag`);
  if (tags.length !== words.length) {
    throw new HeedError(`${where}: ${words.length} word${words.length === 1 ? '' : 's'} but ${tags.length} tag${tags.length === 1 ? '' : 's'} (the label column holds one tag per word, separated by spaces)`);
  }
  return { words, tags };
}

/** A row of words as token ids: `first[w]` is the index of word w's first id, or -1 when the row
 *  was cut at maxLen before it. A word with no piece (a lone symbol the tokenizer drops) reads as
 *  unknown, so that every word has an id to carry its tag. */
export interface EncodedWords { ids: Int32Array; first: Int32Array }

export function encodeWords(tokenizer: Encoder, words: readonly string[], maxLen: number): EncodedWords {
  const parts: Int32Array[] = [], first = new Int32Array(words.length).fill(-1);
  let n = 0;
  for (let w = 0; w < words.length && n < maxLen; w++) {
    let ids = tokenizer.encode(words[w], maxLen - n);
    if (ids.length === 0) ids = Int32Array.of(UNK_ID);
    first[w] = n;
    parts.push(ids);
    n += ids.length;
  }
  const ids = new Int32Array(n);
  for (let i = 0, o = 0; i < parts.length; o += parts[i].length, i++) ids.set(parts[i], o);
  return { ids, first };
}

/** The per-id labels of an encoded row: each word's tag id on its first id, IGNORE elsewhere. */
export function idLabels(e: EncodedWords, tagIds: ArrayLike<number>): Int32Array {
  const labels = new Int32Array(e.ids.length).fill(IGNORE);
  for (let w = 0; w < e.first.length; w++) if (e.first[w] >= 0) labels[e.first[w]] = tagIds[w];
  return labels;
}
