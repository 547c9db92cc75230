// loadClassifier: a model file's bytes → a text classifier (model, tokenizer, labels) that
// predicts and explains. What heed/infer is for, and what `heed predict` / `heed explain` run on.
import { makeBatch } from '../data/dataset.js';
import { Tokenizer } from '../data/tokenizer.js';
import { HeedError } from '../errors.js';
import { InferenceContext } from '../inference-context.js';
import { loadModel } from '../io/model-file.js';
import type { Model } from '../nn/model.js';
import { explainText, noTokens, predictionOf, type Explanation, type Loaded, type Prediction, type TextTokenizer } from './explain.js';
import { probabilities } from './probabilities.js';

export type { Explanation, Prediction };

/** Pooling models take any length; cap it so a pathological input cannot exhaust memory. */
export const POOLING_MAX_LEN = 4096;

/** Texts per forward pass in predict(). */
const BATCH = 64;

export interface Classifier<Tok extends TextTokenizer = Tokenizer> {
  /** The model, in the context given to loadClassifier. */
  readonly model: Model;
  readonly tokenizer: Tok;
  /** Label strings in class-id order. */
  readonly labels: readonly string[];
  /** Texts are cut to this many tokens (the transformer's maxLen; 4096 for the pooling model);
   *  a prediction says so with `truncated: true`. */
  readonly maxLen: number;
  /** The most probable label of each text, its probability and every label's, in input order, and
   *  whether the text was cut to maxLen tokens. A text with no tokens (empty, or only whitespace)
   *  is a HeedError naming its index: there is nothing to classify. */
  predict(texts: readonly string[]): Prediction[];
  /** predict() for one text, with its pieces (at most maxLen) and the attention weight of each. */
  explain(text: string): Explanation;
  /** Frees the model's memory; using the classifier afterwards throws. */
  dispose(): void;
}

/** A text as the model reads it: its first maxLen token ids, and whether it had more (the rest was
 *  cut). Pieces are counted up to maxLen + 1 only, so truncation is known without keeping more. */
export interface EncodedText { ids: Int32Array; truncated: boolean }

export function encodeText(loaded: Loaded, text: string): EncodedText {
  const ids = loaded.tokenizer.encode(text, loaded.maxLen + 1);
  // Cut as the tokenizer cuts (a WordPiece text ends in [SEP] however it is cut).
  return ids.length > loaded.maxLen ? { ids: loaded.tokenizer.encode(text, loaded.maxLen), truncated: true } : { ids, truncated: false };
}

/** Probabilities [seqs.length, K] for token-id sequences of at most maxLen ids, BATCH per forward
 *  pass, each batch padded to its longest sequence (as `heed eval` batches). */
export function sequenceProbabilities(loaded: Loaded, seqs: readonly Int32Array[]): Float32Array {
  const { model, maxLen } = loaded;
  const C = model.outputs, K = Math.max(2, C), out = new Float32Array(seqs.length * K);
  for (let start = 0; start < seqs.length; start += BATCH) {
    const n = Math.min(BATCH, seqs.length - start);
    const batch = seqs.slice(start, start + n);
    const { tokens, shape } = makeBatch(batch, new Int32Array(n), Int32Array.from(batch.keys()), maxLen);
    const logits = model.forward(tokens, shape);
    try {
      out.set(probabilities(logits.toArray(), n, C), start * K);
    } finally {
      logits.dispose();
    }
  }
  return out;
}

function checkTexts(texts: unknown): readonly string[] {
  if (!Array.isArray(texts)) {
    throw new HeedError(`predict: texts must be an array of strings, got ${typeof texts === 'string' ? 'a string (wrap it in [ ])' : texts === null ? 'null' : typeof texts}`);
  }
  const bad = texts.findIndex((t) => typeof t !== 'string');
  if (bad >= 0) throw new HeedError(`predict: texts[${bad}] is ${texts[bad] === null ? 'null' : typeof texts[bad]}, not a string`);
  return texts as readonly string[];
}

/** The model, tokenizer and labels of a model file's bytes, in context `ctx`. `what` names the bytes
 *  in error messages (a path, say). A regressor is refused, and a model that labels every token
 *  unless `perToken`. `readTokenizer` reads the file's tokenizer entry (heed's own by default; the
 *  CLI also reads a checkpoint's WordPiece). */
export function openModel(ctx: InferenceContext, bytes: Uint8Array, what = 'model file', perToken = false,
                          readTokenizer: (json: unknown) => TextTokenizer = Tokenizer.fromJSON): Loaded {
  if (!(ctx instanceof InferenceContext)) throw new HeedError('loadClassifier: expected a heed context (the result of init())');
  const { model, tokenizer, labels } = ctx.atomic(() => loadModel(ctx, bytes, what));
  if (model.target === 'value' || (model.target === 'token' && !perToken)) {
    model.dispose();
    throw new HeedError(`${what}: this ${model.config.kind} model ${model.target === 'token' ? 'labels every token' : 'gives real values'}, not a class per text; loadClassifier reads text classifiers`);
  }
  let tok: TextTokenizer;
  try {
    tok = readTokenizer(tokenizer);
  } catch (e) {
    model.dispose();
    throw new HeedError(`${what}: the tokenizer in the file is invalid: ${(e as Error).message}`);
  }
  const maxLen = Number.isFinite(model.maxLen) ? model.maxLen : POOLING_MAX_LEN;
  return { model, tokenizer: tok, labels, maxLen };
}

/** A text classifier from a heed model file (safetensors bytes, as saveModel and `heed train`
 *  write them), loaded into the context `ctx`. */
export function loadClassifier(ctx: InferenceContext, bytes: Uint8Array, what = 'model file'): Classifier {
  return classifierOf(openModel(ctx, bytes, what) as Loaded & { tokenizer: Tokenizer });
}

/** The Classifier of an opened text classifier. */
export function classifierOf<Tok extends TextTokenizer>(loaded: Loaded & { tokenizer: Tok }): Classifier<Tok> {
  const { model, tokenizer, labels, maxLen } = loaded;
  return {
    model, tokenizer, labels, maxLen,
    predict(texts) {
      const encoded = checkTexts(texts).map((t) => encodeText(loaded, t));
      const empty = encoded.findIndex((e) => e.ids.length === 0);
      if (empty >= 0) throw new HeedError(`predict: ${noTokens(`texts[${empty}]`)}`);
      const probs = sequenceProbabilities(loaded, encoded.map((e) => e.ids));
      return encoded.map((e, r) => predictionOf(labels, probs, r, e.truncated));
    },
    explain(text) {
      if (typeof text !== 'string') throw new HeedError(`explain: text must be a string, got ${text === null ? 'null' : typeof text}`);
      return explainText(loaded, text);
    },
    dispose: () => model.dispose(),
  };
}
