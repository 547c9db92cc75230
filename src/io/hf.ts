// Hugging Face checkpoints in and out: a BERT-family config.json and model.safetensors (F32, F16
// or BF16) become a bertClassifier with the same weights; a trained bertClassifier becomes a
// config.json and a model.safetensors that transformers' BertForSequenceClassification loads with
// from_pretrained. Names are HF's (bert.embeddings.*, bert.encoder.layer.N.*, bert.pooler.dense,
// classifier); a base BertModel checkpoint (no "bert." prefix) fine-tunes into a new classifier.
import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError } from '../errors.js';
import { bertConfig, type BertOptions } from '../nn/families/bert.js';
import type { BertClassifier, BertConfig } from '../nn/model.js';
import { Model } from '../nn/model.js';
import { bertFamily } from '../nn/families/bert.js';
import { brief, parseStrictJson, quote } from './json.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

export interface HfCheckpoint {
  /** config.json: its text or the parsed object. */
  config: string | Record<string, unknown>;
  /** model.safetensors. */
  weights: Uint8Array;
}

export interface LoadPretrainedOptions {
  /** Classes of the classifier: the checkpoint's num_labels (id2label) when it has a classifier;
   *  required for a base model. */
  classes?: number;
  /** Label strings in class order (default: the checkpoint's id2label, or "0", "1", …). */
  labels?: readonly string[];
  /** Seeds the initialisation of whatever the checkpoint lacks (the classifier; the pooler). */
  seed?: number;
  /** Names the checkpoint in errors (a directory, a model id). */
  what?: string;
}

export interface Pretrained {
  model: BertClassifier;
  labels: string[];
  /** Tensors that were initialised fresh because the checkpoint has none (classifier.*, and
   *  bert.pooler.* for checkpoints saved without a pooler). */
  initialised: string[];
  /** Checkpoint tensors heed does not use (pre-training heads such as cls.*), left out. */
  ignored: string[];
}

/** What heed accepts of a config.json, and the BertOptions it gives. Unsupported values are a
 *  HeedError naming the key and the value. */
export function bertOptionsFromHf(raw: Record<string, unknown>, what = 'config.json'): BertOptions & { labels: string[] | null } {
  const err = (msg: string): never => { throw new HeedError(`${what}: ${msg}`); };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) err('is not a JSON object');
  const type = raw.model_type;
  if (type !== 'bert') err(`model_type ${brief(type)} is not supported (heed loads "bert": BERT, MiniLM, bge, e5 and other BertModel checkpoints)`);
  const must = (key: string, ok: (v: unknown) => boolean, want: string) => {
    if (key in raw && !ok(raw[key])) err(`${key} ${brief(raw[key])} is not supported (heed needs ${want})`);
  };
  must('position_embedding_type', (v) => v === 'absolute', '"absolute"');
  must('is_decoder', (v) => v === false, 'false');
  must('add_cross_attention', (v) => v === false, 'false');
  must('pad_token_id', (v) => v === 0, '0: heed treats token id 0 as padding');
  const act = raw.hidden_act ?? 'gelu';
  const gelu = act === 'gelu' ? 'erf' : act === 'gelu_new' || act === 'gelu_pytorch_tanh' ? 'tanh' : err(`hidden_act ${brief(act)} is not supported (heed has "gelu", "gelu_new", "gelu_pytorch_tanh")`);
  const num = (key: string, dflt?: number): number => {
    const v = raw[key] ?? dflt;
    if (typeof v !== 'number') return err(`${key} is ${v === undefined ? 'missing' : brief(v)}, expected a number`);
    return v;
  };
  let labels: string[] | null = null;
  const id2label = raw.id2label;
  if (id2label && typeof id2label === 'object' && !Array.isArray(id2label)) {
    const entries = Object.entries(id2label as Record<string, unknown>);
    labels = entries.map((_, i) => {
      const l = (id2label as Record<string, unknown>)[String(i)];
      return typeof l === 'string' ? l : err(`id2label has no string for id ${i}`);
    });
  }
  return {
    vocabSize: num('vocab_size'), maxLen: num('max_position_embeddings', 512), typeVocabSize: num('type_vocab_size', 2),
    dModel: num('hidden_size'), heads: num('num_attention_heads'), ffDim: num('intermediate_size'), layers: num('num_hidden_layers'),
    eps: num('layer_norm_eps', 1e-12), gelu, labels,
  };
}

/** A bertClassifier with a checkpoint's weights (see HfCheckpoint), in ctx. */
export function loadPretrained(ctx: Context, files: HfCheckpoint, o: LoadPretrainedOptions = {}): Pretrained {
  const what = o.what ?? 'checkpoint';
  const err = (msg: string): never => { throw new HeedError(`${what}: ${msg}`); };
  const raw = typeof files.config === 'string' ? parseStrictJson(files.config, `${what}: config.json`) : files.config;
  const { labels: hfLabels, ...options } = bertOptionsFromHf(raw as Record<string, unknown>, `${what}: config.json`);
  const { tensors } = decodeSafetensors(files.weights, `${what}: model.safetensors`, {
    widen: true,
    // position_ids (int64) is a buffer, not a weight, in older checkpoints.
    skip: (name, dtype) => name.endsWith('position_ids') || !['F32', 'F16', 'BF16'].includes(dtype) && name.startsWith('cls.'),
  });
  // A base model's keys have no "bert." prefix; a classifier's have it.
  const prefixed = [...tensors.keys()].some((n) => n.startsWith('bert.'));
  const rename = (n: string) => (prefixed ? n : `bert.${n}`);
  const hasClassifier = tensors.has('classifier.weight');
  const classes = o.classes ?? (hasClassifier ? tensors.get('classifier.weight')!.shape[0] : err('a base model has no classifier: give classes'));
  if (hasClassifier && o.classes !== undefined && tensors.get('classifier.weight')!.shape[0] !== o.classes) {
    err(`classifier.weight has ${tensors.get('classifier.weight')!.shape[0]} rows but classes is ${o.classes}`);
  }
  const config: BertConfig = bertConfig({ ...options, classes, seed: o.seed ?? 0 });
  const labels = o.labels ? [...o.labels] : hfLabels && hfLabels.length === classes ? hfLabels : Array.from({ length: classes }, (_, i) => String(i));
  if (labels.length !== classes) err(`labels has ${labels.length} entries for ${classes} classes`);
  const model = ctx.atomic(() => new Model(ctx, bertFamily, config)) as BertClassifier;
  try {
    const dict = model.stateDict(), initialised: string[] = [], ignored: string[] = [];
    const byHeed = new Map([...tensors].map(([n, t]) => [rename(n), t]));
    for (const [name, t] of byHeed) {
      const mine = dict[name];
      if (!mine) { ignored.push(name); continue; }
      if (t.shape.length !== mine.shape.length || t.shape.some((d, i) => d !== mine.shape[i])) {
        err(`${quote(name)} has shape [${t.shape.join(',')}], the config implies [${mine.shape.join(',')}]`);
      }
      dict[name] = { shape: mine.shape, data: t.data };
    }
    for (const name of Object.keys(dict)) {
      if (byHeed.has(name)) continue;
      if (name.startsWith('classifier.') || name.startsWith('bert.pooler.')) initialised.push(name);
      else err(`tensor ${quote(name)} is missing`);
    }
    model.loadStateDict(dict);
    return { model, labels, initialised, ignored };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** The model as a Hugging Face checkpoint: config.json (BertForSequenceClassification, with
 *  id2label) and model.safetensors (F32, HF's names). */
export function toPretrained(model: BertClassifier, labels?: readonly string[]): { config: string; weights: Uint8Array } {
  model.alive();
  const c = model.config;
  if (c.kind !== 'bert') throw new HeedError(`toPretrained: a ${c.kind} model has no Hugging Face form (bertClassifier does)`);
  const names = labels ?? Array.from({ length: c.classes }, (_, i) => String(i));
  if (names.length !== c.classes) throw new HeedError(`toPretrained: labels has ${names.length} entries for ${c.classes} classes`);
  const config = {
    architectures: ['BertForSequenceClassification'], model_type: 'bert',
    vocab_size: c.vocabSize, hidden_size: c.dModel, num_hidden_layers: c.layers, num_attention_heads: c.heads,
    intermediate_size: c.ffDim, hidden_act: c.gelu === 'erf' ? 'gelu' : 'gelu_new', max_position_embeddings: c.maxLen,
    type_vocab_size: c.typeVocabSize, layer_norm_eps: c.eps, pad_token_id: 0, position_embedding_type: 'absolute',
    hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, initializer_range: 0.02,
    id2label: Object.fromEntries(names.map((l, i) => [String(i), l])), label2id: Object.fromEntries(names.map((l, i) => [l, i])),
  };
  const sd = model.stateDict();
  const weights = encodeSafetensors(model.layout.entries.map((e) => ({ name: e.name, shape: e.shape, data: sd[e.name].data })), { format: 'pt' });
  return { config: JSON.stringify(config, null, 2) + '\n', weights };
}
