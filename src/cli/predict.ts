// heed predict <model> [text ...]: label and probability for each text (stdin lines when no text
// is given), tab-separated: label, probability, text. --json prints one JSON object per line.
// Stdin is read as a stream: each chunk's complete lines are answered before the next chunk is
// read, so slow input is answered as it arrives and memory stays bounded whatever the input's size.
import { fstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { HeedError } from '../errors.js';
import { encodeText, sequenceProbabilities, type EncodedText } from '../classifier/classifier.js';
import { argmaxRows } from '../classifier/probabilities.js';
import { init } from '../infer.js';
import { refuseLanguageModel } from './lm-file.js';
import { parse, UsageError } from './args.js';
import { fsProblem, openModelFile } from './common.js';
import type { Io } from './main.js';
import { jsonLine, printable } from './ui.js';

const HELP = `usage: heed predict <model.safetensors> [text ...] [--json]
  Reads one text per line from stdin when no text is given, answering each line as it arrives.
  Output: label, probability and text, tab-separated (--json: one JSON object per line). For a
  tagger (heed train --task tag): the tag of each word, space-separated ('-' for a word past the
  model's length), tab, the text; --json gives words, tags and each tag's probability. A text with
  no tokens (an empty or blank line) gets an empty label and probability; a text longer than the
  model reads (its maxLen tokens) is cut, and stderr says so.
`;

/** The longest stdin line kept: the model reads at most maxLen tokens (4096 for the pooling
 *  model), so the rest of a longer line is dropped as it streams by (and the line is marked cut). */
export const MAX_LINE_CHARS = 1 << 20;
/** Lines per write. */
const GROUP = 256;

export async function predict(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('predict', args, { json: { type: 'boolean' }, backend: { type: 'string' } });
  if (v.help) { io.stdout.write(HELP); return 0; }
  if (positionals.length < 1) throw new UsageError('predict: missing the model file (heed predict <model.safetensors> [text ...])');
  const texts = positionals.slice(1);
  if (texts.length === 0) {
    if (!io.stdin) throw new UsageError('predict: no text given and no stdin to read');
    checkStdin(io.stdin);
  }
  refuseLanguageModel(resolve(io.cwd, positionals[0]), 'predict');
  const h = await init(v.backend ? { backend: v.backend as 'wasm' } : {});
  const file = openModelFile(h, resolve(io.cwd, positionals[0])), { labels, maxLen } = file;
  const K = labels.length;
  const tagger = file.model.target === 'token' ? await import('./tag.js') : null;
  let cut = 0;
  const notes: string[] = [];

  /** A tagger's answer: the tags of the words, space-separated ('' past maxLen pieces), tab, the text. */
  const answerTags = async (group: { text: string; cutChars: boolean }[], where: (i: number) => string) => {
    const tagged = tagger!.tagTexts(file, group.map((g) => g.text));
    let out = '';
    for (let i = 0; i < group.length; i++) {
      const { text } = group[i], t = tagged[i], truncated = t.truncated || group[i].cutChars;
      if (truncated && ++cut <= 3) notes.push(`heed: ${where(i)} has more than ${maxLen} pieces; the words past them are not tagged\n`);
      if (v.json) {
        out += jsonLine({ text, words: t.words, tags: t.tags, probabilities: t.probabilities.map((p) => (Number.isNaN(p) ? null : Number(p.toFixed(6)))), truncated,
          ...(t.words.length ? {} : { error: 'no words' }) });
      } else {
        out += `${t.tags.map((x) => printable(x || '-')).join(' ')}\t${shown(text)}\n`;
      }
    }
    for (const n of notes.splice(0)) io.stderr.write(n);
    return writeAll(io.stdout, out);
  };

  /** Answers a group of texts; `where(i)` names text i in notes ("line 7", "text 2"). */
  const answer = async (group: { text: string; cutChars: boolean }[], where: (i: number) => string) => {
    if (tagger) return answerTags(group, where);
    const enc: EncodedText[] = group.map((g) => {
      const e = encodeText(file, g.text);
      return g.cutChars && e.ids.length > 0 ? { ids: e.ids, truncated: true } : e;
    });
    const nonEmpty = enc.flatMap((e, i) => (e.ids.length > 0 ? [i] : []));
    const probs = sequenceProbabilities(file, nonEmpty.map((i) => enc[i].ids));
    const predicted = argmaxRows(probs, nonEmpty.length, K);
    let out = '', r = 0;
    for (let i = 0; i < group.length; i++) {
      const text = group[i].text;
      if (enc[i].ids.length === 0) {
        out += v.json ? jsonLine({ text, label: null, probability: null, probabilities: null, truncated: false, error: 'no tokens' })
          : `\t\t${shown(text)}\n`;
        continue;
      }
      const c = predicted[r], p = probs[r * K + c], truncated = enc[i].truncated;
      if (truncated && ++cut <= 3) notes.push(`heed: ${where(i)} has more than ${maxLen} tokens; only the first ${maxLen} were read\n`);
      if (v.json) {
        const probabilities = Object.fromEntries(labels.map((l, k) => [l, Number(probs[r * K + k].toFixed(6))]));
        out += jsonLine({ text, label: labels[c], probability: Number(p.toFixed(6)), probabilities, truncated });
      } else {
        out += `${printable(labels[c])}\t${p.toFixed(4)}\t${shown(text)}\n`;
      }
      r++;
    }
    for (const n of notes.splice(0)) io.stderr.write(n);
    return writeAll(io.stdout, out);
  };

  if (texts.length > 0) {
    for (let s = 0; s < texts.length; s += GROUP) await answer(texts.slice(s, s + GROUP).map((text) => ({ text, cutChars: false })), (i) => `text ${s + i + 1}`);
  } else {
    let first = 1;
    for await (const group of stdinLines(io.stdin!)) {
      const base = first;
      for (let s = 0; s < group.length; s += GROUP) await answer(group.slice(s, s + GROUP), (i) => `line ${base + s + i}`);
      first += group.length;
    }
  }
  if (cut > 3) io.stderr.write(`heed: ${cut} texts in all had more than ${maxLen} tokens and were cut\n`);
  return 0;
}

/** Writes and, when the stream is full (a pipe whose reader is slower than heed), waits for it
 *  to drain: without this, output would pile up in memory while the input keeps streaming in. */
async function writeAll(out: Io['stdout'], s: string): Promise<void> {
  const ok = (out.write as (s: string) => boolean | void)(s);
  const stream = out as unknown as NodeJS.WritableStream;
  if (ok === false && typeof stream.once === 'function') {
    await new Promise<void>((r) => {
      const done = () => { stream.off('drain', done); stream.off('close', done); r(); };
      stream.once('drain', done);
      stream.once('close', done);
    });
  }
}

/** The text column: one line (tabs and line breaks as spaces), control characters escaped. */
const shown = (t: string) => printable(t.replace(/[\t\r\n]+/g, ' '));

/** A directory (or another unreadable kind of file) as stdin is an error, not an empty input. */
function checkStdin(stdin: NodeJS.ReadableStream): void {
  const fd = (stdin as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return;
  let st;
  try {
    st = fstatSync(fd);
  } catch {
    return;
  }
  if (st.isDirectory()) throw new HeedError('predict: stdin is a directory; give texts as arguments or pipe lines into stdin');
}

/** Stdin's lines (without their line ends), in groups: the complete lines of each chunk read. A
 *  line is kept up to MAX_LINE_CHARS characters (cutChars marks one that was longer); invalid
 *  UTF-8 becomes U+FFFD. */
export async function* stdinLines(stdin: NodeJS.ReadableStream): AsyncGenerator<{ text: string; cutChars: boolean }[]> {
  const decoder = new TextDecoder('utf-8');
  let partial: string[] = [], partialLen = 0, cutChars = false;
  const take = (piece: string) => {
    if (partialLen < MAX_LINE_CHARS) {
      const keep = piece.length <= MAX_LINE_CHARS - partialLen ? piece : piece.slice(0, MAX_LINE_CHARS - partialLen);
      partial.push(keep);
      partialLen += keep.length;
      if (keep.length < piece.length) cutChars = true;
    } else if (piece.length > 0) {
      cutChars = true;
    }
  };
  const finish = () => {
    let text = partial.join('');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const line = { text, cutChars };
    partial = []; partialLen = 0; cutChars = false;
    return line;
  };
  try {
    for await (const chunk of stdin) {
      const s = typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
      const group: { text: string; cutChars: boolean }[] = [];
      let from = 0;
      for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', from)) {
        take(s.slice(from, nl));
        group.push(finish());
        from = nl + 1;
      }
      take(s.slice(from));
      if (group.length) yield group;
    }
  } catch (e) {
    if (e instanceof HeedError) throw e;
    throw new HeedError(`predict: cannot read stdin: ${fsProblem(e)}`);
  }
  take(decoder.decode());
  if (partialLen > 0 || cutChars) yield [finish()];
}
