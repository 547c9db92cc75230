// What the eval / predict / explain commands share: loading a model file with its tokenizer and
// labels, and turning texts into batches the model takes.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { HeedError } from '../errors.js';
import type { InferenceContext as Context } from '../inference-context.js';
import { loadClassifier, POOLING_MAX_LEN, type Classifier } from '../infer/classifier.js';

export { POOLING_MAX_LEN };

/** A model file's model, tokenizer and labels (see loadClassifier: the same checks and messages). */
export function loadModelFile(h: Context, path: string): Classifier {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new HeedError(`${path}: ${fsProblem(e)}`);
  }
  return loadClassifier(h, bytes, path);
}

/** A file-system error in a few words (the path is named by the caller). */
export function fsProblem(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const known: Record<string, string> = {
    ENOENT: 'no such file', EISDIR: 'is a directory', ENOTDIR: 'a parent is not a directory', EACCES: 'permission denied',
    EPERM: 'permission denied', ENOSPC: 'no space left on device', EROFS: 'read-only file system', EEXIST: 'already exists',
  };
  return (typeof err?.code === 'string' && known[err.code]) || String(err?.message ?? e).split('\n')[0];
}

/** Reads all of stdin as text. */
export async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Fails early, before any work, when the output file given with `flag` cannot be written. */
export function checkOutputPath(out: string, flag: string): void {
  let st;
  try {
    st = statSync(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new HeedError(`${flag} ${out}: ${fsProblem(e)}`);
  }
  if (st?.isDirectory()) throw new HeedError(`${flag} ${out}: is a directory (give a file name)`);
  const dir = dirname(out);
  try {
    if (!statSync(dir).isDirectory()) throw new HeedError(`${flag} ${out}: ${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    if (e instanceof HeedError) throw e;
    throw new HeedError(`${flag} ${out}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `the directory ${dir} does not exist` : `cannot write to ${dir}: ${fsProblem(e)}`}`);
  }
}

/** Writes a file atomically; a failure names the file, not the temporary beside it. */
export function writeOrFail(path: string, what: string, data: Uint8Array | string): void {
  try {
    writeFileAtomic(path, data);
  } catch (e) {
    throw new HeedError(`${path}: cannot write ${what}: ${fsProblem(e)}`);
  }
}
