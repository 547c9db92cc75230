// What the eval / predict / explain commands share: loading a model file with its tokenizer and
// labels, and turning texts into batches the model takes.
import { readFileSync } from 'node:fs';
import { Tokenizer } from '../data/tokenizer.js';
import { HeedError } from '../errors.js';
import type { Context } from '../context.js';
import { loadModel } from '../io/model-file.js';
import type { Model } from '../nn/model.js';

export interface LoadedFile { model: Model; tokenizer: Tokenizer; labels: string[]; maxLen: number }

/** Pooling models take any length; cap it so a pathological input cannot exhaust memory. */
export const POOLING_MAX_LEN = 4096;

export function loadModelFile(h: Context, path: string): LoadedFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new HeedError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`);
  }
  const { model, tokenizer, labels } = loadModel(h, bytes, path);
  let tok: Tokenizer;
  try {
    tok = Tokenizer.fromJSON(tokenizer);
  } catch (e) {
    model.dispose();
    throw new HeedError(`${path}: the tokenizer in the file is invalid: ${(e as Error).message}`);
  }
  const maxLen = model.config.kind === 'transformer' ? model.config.maxLen : POOLING_MAX_LEN;
  return { model, tokenizer: tok, labels, maxLen };
}

/** Reads all of stdin as text. */
export async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
