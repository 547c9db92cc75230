// What the eval / predict / explain commands share: loading a model file with its tokenizer and
// labels, and turning texts into batches the model takes.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { notRegularFile, removeStaleTemps, writeFileAtomic } from '../io/atomic.js';
import { HeedError } from '../errors.js';
import type { InferenceContext as Context } from '../inference-context.js';
import { classifierOf, openModel, type Classifier } from '../classifier/classifier.js';
import type { Loaded, TextTokenizer } from '../classifier/explain.js';
import { Tokenizer } from '../data/tokenizer.js';
import { WordPieceText } from '../data/wordpiece-text.js';

/** A model file's tokenizer: heed's own, or a checkpoint's WordPiece (a model fine-tuned from
 *  one with heed train --from). */
function readTokenizer(json: unknown): TextTokenizer {
  return (json as { type?: unknown } | null)?.type === 'wordpiece' ? WordPieceText.fromJSON(json) : Tokenizer.fromJSON(json);
}

/** A model file's model, tokenizer and labels, whatever its target: a classifier's or a
 *  tagger's (model.target 'token'). The checks and messages are loadClassifier's. */
export function openModelFile(h: Context, path: string): Loaded {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new HeedError(`${path}: ${fsProblem(e)}`);
  }
  return openModel(h, bytes, path, true, readTokenizer);
}

/** A text classifier from a model file; a tagger is refused, naming the command that takes it. */
export function loadModelFile(h: Context, path: string, command: string): Classifier<TextTokenizer> {
  const loaded = openModelFile(h, path);
  if (loaded.model.target !== 'class') {
    loaded.model.dispose();
    throw new HeedError(`${path}: this is a tagger (it labels every word); ${command} reads text classifiers — heed predict and heed eval take taggers too`);
  }
  return classifierOf(loaded);
}

/** A file-system error in a few words (the path is named by the caller). */
export function fsProblem(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const known: Record<string, string> = {
    ENOENT: 'no such file', EISDIR: 'is a directory', ENOTDIR: 'a parent is not a directory', EACCES: 'permission denied',
    EPERM: 'permission denied', ENOSPC: 'no space left on device', EROFS: 'read-only file system', EEXIST: 'already exists',
    ENOTREGULAR: 'not a regular file (heed replaces only regular files)',
  };
  return (typeof err?.code === 'string' && known[err.code]) || String(err?.message ?? e).split('\n')[0];
}

/** Fails early, before any work, when the output file given with `flag` cannot be written: its
 *  directory is missing or read-only, something other than a regular file is there (a directory, a
 *  device such as /dev/null, a FIFO, a symbolic link: heed never replaces those), or it is one of
 *  the command's `inputs` (overwriting the data being read). Also removes temporaries a killed
 *  run left beside it. */
export function checkOutputPath(out: string, flag: string, inputs: readonly string[] = []): void {
  let what: string | null;
  try {
    what = notRegularFile(out);
  } catch (e) {
    throw new HeedError(`${flag} ${out}: ${fsProblem(e)}`);
  }
  if (what === 'a directory') throw new HeedError(`${flag} ${out}: is a directory (give a file name)`);
  if (what) throw new HeedError(`${flag} ${out}: is ${what}; heed writes only regular files (give another path, or remove it first)`);
  const dir = dirname(out);
  try {
    if (!statSync(dir).isDirectory()) throw new HeedError(`${flag} ${out}: ${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    if (e instanceof HeedError) throw e;
    throw new HeedError(`${flag} ${out}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `the directory ${dir} does not exist` : `cannot write to ${dir}: ${fsProblem(e)}`}`);
  }
  for (const input of inputs) {
    if (sameFile(out, input)) throw new HeedError(`${flag} ${out}: is the input file ${input}; writing there would destroy it (give another path)`);
  }
  removeStaleTemps(out);
}

/** Whether two paths name the same existing file (hard links and symbolic links included). */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a), y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** `--out dir/` or `--out dir/missing/`: a trailing slash names a directory, never a file. */
export function fileFlag(raw: string, flag: string): string {
  if (/[/\\]$/.test(raw) || /(^|[/\\])\.{1,2}$/.test(raw)) throw new HeedError(`${flag} ${raw}: names a directory (give a file name)`);
  return raw;
}

/** Writes a file atomically; a failure names the file, not the temporary beside it. */
export function writeOrFail(path: string, what: string, data: Uint8Array | string): void {
  try {
    writeFileAtomic(path, data);
  } catch (e) {
    throw new HeedError(`${path}: cannot write ${what}: ${fsProblem(e)}`);
  }
}
