// A plain text file as language-model data, read one of two ways: one example per line
// (makemore's: names, words, titles) or one running text cut into windows of a fixed number of
// tokens (nanoGPT's). Pieces come from heed's char or word Tokenizer; id 0 ('<pad>', which encode
// never produces) is the marker: it begins and ends every line in line mode and stands for each
// line break in window mode, so the end of a line is a token the model learns to predict.
import { IGNORE, PackedBuilder, type PackedDataset } from './dataset.js';
import { PAD_ID, UNK_ID, type Tokenizer } from './tokenizer.js';
import { HeedError } from '../errors.js';

/** The begin/end marker of a line (line mode) and the line break (window mode). */
export const MARKER = PAD_ID;

export type CorpusMode = 'lines' | 'windows';

/** Invalid UTF-8 beyond this share of the characters means the file is not text. */
const MAX_REPLACEMENT_SHARE = 0.01;

/** The non-blank lines of a text file's bytes (line ends and surrounding whitespace dropped);
 *  empty, NUL-holding or mostly invalid UTF-8 input is one HeedError naming `file`. */
export function corpusLines(bytes: Uint8Array, file: string): string[] {
  if (bytes.includes(0)) throw new HeedError(`${file}: holds NUL bytes; a corpus must be plain text (UTF-8), one example per line or running text`);
  const text = new TextDecoder('utf-8').decode(bytes);
  let bad = 0;
  for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) bad++;
  if (bad > 0 && bad > MAX_REPLACEMENT_SHARE * text.length) {
    throw new HeedError(`${file}: is not UTF-8 text (${bad} invalid byte sequences in ${text.length} characters); a corpus must be plain text`);
  }
  const lines = text.split(/\r?\n|\r/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length === 0) throw new HeedError(`${file}: is empty (no line holds any text); a corpus needs at least one line of text`);
  return lines;
}

/** Token ids of a piece sequence with its pieces joined back into text: a char tokenizer's
 *  pieces touch, a word tokenizer's are separated by spaces. The marker ends the text (line mode)
 *  or is a line break (window mode); unknown pieces read '<unk>'. */
export function decodeIds(tokenizer: Tokenizer, ids: ArrayLike<number>, mode: CorpusMode = 'lines'): string {
  const sep = tokenizer.type === 'char' ? '' : ' ';
  let out = '', atLineStart = true;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id === MARKER) {
      if (mode === 'lines') break;
      out += '\n';
      atLineStart = true;
      continue;
    }
    out += (atLineStart ? '' : sep) + tokenizer.pieceOf(id);
    atLineStart = false;
  }
  return out;
}

/** Line mode: per line the input [marker, ids…] and the target [ids…, marker] (the begin marker
 *  is never a target). A line longer than maxLen tokens keeps its first maxLen inputs: `cut` counts
 *  those lines. */
export function lineExamples(tokenizer: Tokenizer, lines: readonly string[], rows: ArrayLike<number>, maxLen: number): { data: PackedDataset; cut: number } {
  const out = new PackedBuilder(rows.length, 'token');
  let cut = 0;
  for (let k = 0; k < rows.length; k++) {
    const ids = tokenizer.encode(lines[rows[k]]);
    const n = Math.min(ids.length + 1, maxLen);
    if (ids.length + 1 > maxLen) cut++;
    const input = new Int32Array(n), target = new Int32Array(n);
    input[0] = MARKER;
    input.set(ids.subarray(0, n - 1), 1);
    target.set(ids.subarray(0, n), 0);
    if (ids.length < n) target[ids.length] = MARKER;
    out.push(input, target);
  }
  return { data: out.finish(), cut };
}

/** Window mode: the lines as one stream of ids, a marker after each line. */
export function corpusStream(tokenizer: Tokenizer, lines: readonly string[]): Int32Array {
  const parts = lines.map((l) => tokenizer.encode(l));
  const out = new Int32Array(parts.reduce((a, p) => a + p.length + 1, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; out[o++] = MARKER; }
  return out;
}

/** The starts of the windows that cut `streamLength` ids into pieces of `context` inputs, each
 *  predicting the `context` ids after its inputs' first one (so every id but the first is a target
 *  exactly once); the last window may be shorter. */
export function windowStarts(streamLength: number, context: number): Int32Array {
  const n = Math.max(0, Math.ceil((streamLength - 1) / context));
  return Int32Array.from({ length: n }, (_, k) => k * context);
}

/** Window mode: windows `rows` (indices into windowStarts) as inputs and next-id targets. */
export function windowExamples(stream: Int32Array, context: number, rows: ArrayLike<number>): PackedDataset {
  const out = new PackedBuilder(rows.length, 'token');
  for (let k = 0; k < rows.length; k++) {
    const s = rows[k] * context, e = Math.min(s + context, stream.length - 1);
    out.push(stream.subarray(s, e), stream.subarray(s + 1, e + 1));
  }
  return out.finish();
}

/** Predicted tokens and the unknown ones among them: a corpus whose targets are mostly unknown
 *  teaches nothing. */
export function unknownTargets(d: PackedDataset): { targets: number; unknown: number } {
  let targets = 0, unknown = 0;
  for (const y of d.targets.labels) {
    if (y === IGNORE) continue;
    targets++;
    if (y === UNK_ID) unknown++;
  }
  return { targets, unknown };
}
