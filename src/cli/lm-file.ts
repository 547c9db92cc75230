// Whether a model file holds a language model, read from its metadata alone (no weights loaded):
// predict and explain run on heed/infer's context, which has no decoder family, so they look
// before loading: predict refuses a language model by name, explain hands it to src/cli/lm.ts.
import { readFileSync } from 'node:fs';
import { HeedError } from '../errors.js';

/** The config kind a safetensors file's metadata names (null: unreadable or none). */
function configKind(path: string): string | null {
  try {
    const bytes = readFileSync(path);
    if (bytes.length < 8) return null;
    const n = Number(bytes.readBigUInt64LE(0));
    if (n > bytes.length - 8) return null;
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as { __metadata__?: { config?: string } };
    const config = header.__metadata__?.config;
    return config === undefined ? null : String((JSON.parse(config) as { kind?: unknown }).kind);
  } catch {
    return null;
  }
}

/** Whether `path` is a language model ('heed train --task lm'). */
export const isLanguageModel = (path: string): boolean => configKind(path) === 'decoder';

/** Throws a HeedError naming `command` when `path` is a language model. */
export function refuseLanguageModel(path: string, command: string): void {
  if (isLanguageModel(path)) {
    throw new HeedError(`${path}: this is a language model; ${command} reads classifiers and taggers — sample from it with heed generate, score text with heed eval, see its attention with heed explain`);
  }
}
