// A checkpoint's WordPiece tokenizer as a text classifier's tokenizer: the ids of [CLS] text [SEP]
// cut to maxLen (the text is cut, never the specials), and for explain the words as the text
// wrote them, each with its pieces. A model file stores it as the checkpoint's own tokenizer files
// (their text), so a fine-tuned model tokenizes exactly as Hugging Face does, forever after.
import { HeedError } from '../errors.js';
import type { WordPieceFiles } from './wordpiece-config.js';
import { loadWordPiece, type WordPieceEncoding, type WordPieceTokenizer } from './wordpiece.js';

export interface WordPieceJSON { type: 'wordpiece'; files: WordPieceFiles }

const FILE_NAMES = ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json'] as const;

export class WordPieceText {
  readonly type = 'wordpiece';
  readonly #wp: WordPieceTokenizer;

  constructor(readonly files: WordPieceFiles, source?: string) {
    this.#wp = loadWordPiece(files, source);
  }

  /** From a model file's tokenizer entry (toJSON's shape); `what` names it in errors. */
  static fromJSON(o: unknown, what = 'tokenizer'): WordPieceText {
    const files = (o as { files?: unknown } | null)?.files;
    if (files === null || typeof files !== 'object' || Array.isArray(files)) throw new HeedError(`${what}: a 'wordpiece' tokenizer needs files: { "tokenizer.json": … }`);
    const picked: WordPieceFiles = {};
    for (const [name, text] of Object.entries(files)) {
      if (!(FILE_NAMES as readonly string[]).includes(name) || typeof text !== 'string') {
        throw new HeedError(`${what}: files.${name} is not one of ${FILE_NAMES.join(', ')} with its text`);
      }
      picked[name as keyof WordPieceFiles] = text;
    }
    return new WordPieceText(picked, what);
  }

  toJSON(): WordPieceJSON {
    return { type: 'wordpiece', files: { ...this.files } };
  }

  get vocabSize(): number {
    return this.#wp.vocabSize;
  }

  /** Ids of [CLS] text [SEP]; with maxLen, at most that many (the text is cut). */
  encode(text: string, maxLen?: number): Int32Array {
    return this.#encode(text, maxLen).ids;
  }

  /** encode's ids, and the words they came from: `pieces[owners[i]]` is the word of id i, spelled
   *  as in the text (pieces with no space between them are one word: "don't", "naïve!"); [CLS]
   *  and [SEP] stand for themselves. */
  encodeWithPieces(text: string, maxLen?: number): { pieces: string[]; ids: Int32Array; owners: Int32Array } {
    const e = this.#encode(text, maxLen), pieces: string[] = [], owners = new Int32Array(e.ids.length);
    let end = -1;
    for (let i = 0; i < e.ids.length; i++) {
      const [from, to] = e.offsets[i];
      if (e.specialTokensMask[i]) { pieces.push(e.tokens[i]); end = -1; }
      else if (from === end) pieces[pieces.length - 1] = text.slice(startOf(e, i, owners, pieces.length - 1), to);
      else pieces.push(text.slice(from, to));
      if (!e.specialTokensMask[i]) end = to;
      owners[i] = pieces.length - 1;
    }
    return { pieces, ids: e.ids, owners };
  }

  #encode(text: string, maxLen?: number): WordPieceEncoding {
    if (typeof text !== 'string') throw new HeedError(`tokenizer: text must be a string, got ${text === null ? 'null' : typeof text}`);
    return this.#wp.encode(text, undefined, { truncation: maxLen === undefined ? false : { maxLength: maxLen } });
  }
}

/** Where the word that id i joins begins in the text: the start of its first piece. */
function startOf(e: WordPieceEncoding, i: number, owners: Int32Array, word: number): number {
  let j = i - 1;
  while (j > 0 && owners[j - 1] === word) j--;
  return e.offsets[j][0];
}
