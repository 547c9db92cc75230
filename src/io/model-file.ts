// heed model files: safetensors with the PyTorch parameter names, F32, and string metadata
// { format: "heed", config, tokenizer, labels } (each a JSON text). The same model, tokenizer and
// labels give the same bytes: no timestamp, path or host detail is written.
import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError } from '../errors.js';
import { Tokenizer } from '../data/tokenizer.js';
import { firstNonFinite, outputsOf, type Model, type ModelConfig } from '../nn/model.js';
import { familyOf, layoutFor, modelFor } from '../nn/registry.js';
import { brief, cut, parseStrictJson, quote } from './json.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

export interface ModelFileExtras {
  /** The tokenizer's JSON form (anything with toJSON(), or a plain JSON value). */
  tokenizer?: unknown;
  /** Label strings in class-id order (two for classes: 1, negative first). */
  labels?: readonly string[];
  /** How the model was trained (settings, the search's table), stored as metadata "training"
   *  (JSON) for people and tools to read; loading ignores it. */
  training?: unknown;
}

export interface LoadedModel { model: Model; tokenizer: unknown; labels: string[] }

/** Labels a model file names: one per class (two for a single-logit classifier), or one per
 *  regressor output (what it measures, e.g. the CSV column). */
function labelCount(c: ModelConfig): number {
  const n = outputsOf(c);
  return n === 1 && c.kind !== 'regressor' ? 2 : n;
}

/** The rules a model file keeps beyond its format, which loadModel refuses and saveModel never
 *  writes: a file that breaks them would load and then give wrong numbers or fail later, far from
 *  the file. Returns the first rule broken, or null. */
function brokenRule(config: ModelConfig, labels: readonly string[], tokenizer: unknown,
                    tensors: Iterable<{ name: string; data: Float32Array }>): string | null {
  const first = new Map<string, number>();
  for (let i = 0; i < labels.length; i++) {
    const j = first.get(labels[i]);
    if (j !== undefined) return `labels must be distinct: ${quote(labels[i])} is label ${j} and label ${i}`;
    first.set(labels[i], i);
  }
  // heed's own tokenizer (anything Tokenizer.fromJSON accepts) must not produce an id the
  // embedding has no row for. Other tokenizer JSON is the caller's business.
  let vocab: number | null = null;
  try { vocab = Tokenizer.fromJSON(tokenizer).vocabSize; } catch { /* not heed's tokenizer */ }
  if (vocab !== null && vocab > config.vocabSize) {
    return `the tokenizer has ${vocab} entries but the model embeds only ${config.vocabSize} (config vocabSize): ids ${config.vocabSize} to ${vocab - 1} have no embedding`;
  }
  for (const t of tensors) {
    const bad = firstNonFinite(t.data);
    if (bad >= 0) return `tensor ${quote(t.name)} holds ${t.data[bad]} at element ${bad}; weights must be finite`;
  }
  return null;
}

export function saveModel(model: Model, extras: ModelFileExtras = {}): Uint8Array {
  model.alive();
  const n = labelCount(model.config);
  const labels = extras.labels ?? Array.from({ length: n }, (_, i) => String(i));
  if (!Array.isArray(labels) || labels.length !== n || !labels.every((l) => typeof l === 'string')) {
    throw new HeedError(`saveModel: labels must be ${n} strings for a model with ${outputsOf(model.config)} outputs, got ${JSON.stringify(labels)}`);
  }
  const sd = model.stateDict();
  const tensors = model.layout.entries.map((e) => ({ name: e.name, shape: e.shape, data: sd[e.name].data }));
  const tokenizer = JSON.stringify(extras.tokenizer ?? null);
  if (tokenizer === undefined) throw new HeedError('saveModel: tokenizer is not JSON-serialisable');
  const broken = brokenRule(model.config, labels, JSON.parse(tokenizer), tensors);
  if (broken !== null) throw new HeedError(`saveModel: ${broken}; nothing was written`);
  return encodeSafetensors(tensors, {
    format: 'heed',
    config: JSON.stringify(model.config),
    tokenizer,
    labels: JSON.stringify(labels),
    ...(extras.training === undefined ? {} : { training: JSON.stringify(extras.training) }),
  });
}

export function loadModel(ctx: Context, bytes: Uint8Array, what = 'model file'): LoadedModel {
  const { metadata, tensors } = decodeSafetensors(bytes, what);
  const err = (msg: string): never => { throw new HeedError(`${what}: ${msg}`); };
  if (metadata.format !== 'heed') err(`not a heed model (metadata format is ${metadata.format === undefined ? 'missing' : quote(metadata.format)})`);
  const json = (key: string): unknown => {
    if (metadata[key] === undefined) err(`metadata has no "${key}"`);
    return parseStrictJson(metadata[key], `${what} metadata "${key}"`);
  };
  const raw = json('config') as Record<string, unknown> | null;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return err('config is not an object');
  const family = familyOf(raw.kind, `${what}: config`);
  let config: ModelConfig;
  try {
    config = family.config(raw) as ModelConfig;
  } catch (e) {
    return err(`config is invalid: ${cut(String((e as Error)?.message).replace(/[\r\n]+/g, ' '), 300)}`);
  }
  const labels = json('labels');
  const n = labelCount(config);
  if (!Array.isArray(labels) || labels.length !== n || !labels.every((l) => typeof l === 'string')) {
    err(`labels must be ${n} strings for ${outputsOf(config)} outputs, got ${brief(labels)}`);
  }
  const tokenizer = json('tokenizer');
  // Check the tensors against the config before allocating anything: a config is a few bytes, and
  // one claiming a huge vocabulary or layer count must not make heed allocate (and initialise) a
  // huge model only to find that the tensors disagree. Once every shape matches, the model is
  // exactly as big as the file's data.
  if (config.kind === 'transformer' && 6 + 12 * config.layers > tensors.size + 12) {
    err(`config disagrees with the tensors: ${config.layers} layers need ${6 + 12 * config.layers} tensors, the file holds ${tensors.size}`);
  }
  const layout = layoutFor(config);
  for (const name of tensors.keys()) if (!layout.has(name)) err(`config disagrees with the tensors: unexpected tensor ${quote(name)} for a ${config.kind} model`);
  for (const e of layout.entries) {
    const t = tensors.get(e.name);
    if (!t) return err(`config disagrees with the tensors: tensor ${quote(e.name)} is missing`);
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      err(`config disagrees with the tensors: ${quote(e.name)} has shape ${cut(`[${t.shape.join(',')}]`)}, the config implies [${e.shape.join(',')}]`);
    }
  }
  const broken = brokenRule(config, labels as string[], tokenizer, [...tensors].map(([name, t]) => ({ name, data: t.data })));
  if (broken !== null) err(broken);
  const model = modelFor(ctx, config, false);
  try {
    model.loadStateDict(Object.fromEntries([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }])));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, tokenizer, labels: labels as string[] };
}
