// Which tokens a prediction attended to. Pooling model: its attention weights over the tokens.
// Transformer: attention rollout (Abnar & Zuidema 2020) — each layer's head-averaged weights mixed
// with the identity for the residual path, multiplied through the layers, then read where the
// head reads (the mean over the positions for mean pooling, the first position for BERT's [CLS])
// — so a token's share says how much of the pooled representation flows from it. Pure functions over a loaded model; shared by heed/infer and `heed explain`.
import { HeedError } from '../errors.js';
import type { Model } from '../nn/model.js';
import type { Tensor } from '../tensor.js';
import { argmaxRows, probabilities } from './probabilities.js';

/** A prediction: the most probable label, its probability, and every label's; truncated: the text
 *  had more tokens than the model's maxLen and only the first maxLen were read. */
export interface Prediction { label: string; probability: number; probabilities: Record<string, number>; truncated: boolean }

/** A prediction with the text's pieces (tokens as they appear) and each one's attention weight. */
export interface Explanation extends Prediction { pieces: string[]; weights: number[] }

/** What inference needs of a tokenizer: heed's own (Tokenizer), or a checkpoint's WordPiece. With
 *  maxLen, at most that many ids, cut as the tokenizer cuts (a WordPiece text keeps its [SEP]). */
export interface TextTokenizer {
  encode(text: string, maxLen?: number): Int32Array;
  /** The ids, and the pieces (as the text shows them) each came from: pieces[owners[i]]. */
  encodeWithPieces(text: string, maxLen?: number): { pieces: string[]; ids: Int32Array; owners: Int32Array };
}

/** What inference needs of a loaded model file. */
export interface Loaded { model: Model; tokenizer: TextTokenizer; labels: readonly string[]; maxLen: number }

/** Attention rollout over layers of [H,T,T] weights (batch of one), read as the classifier reads
 *  its positions: their mean (mean pooling), or only the first (`first`: BERT's [CLS]). */
export function rollout(layers: Float32Array[], H: number, T: number, first = false): number[] {
  let R: Float64Array | null = null;
  layers.forEach((A, l) => {
    if (A?.length !== H * T * T) throw new HeedError(`rollout: layer ${l} has ${A?.length} weights; H·T·T = ${H}·${T}·${T} = ${H * T * T}`);
  });
  for (const A of layers) {
    const M = new Float64Array(T * T);
    for (let h = 0; h < H; h++) for (let i = 0; i < T * T; i++) M[i] += A[h * T * T + i] / H;
    for (let i = 0; i < T; i++) {
      let s = 0;
      for (let j = 0; j < T; j++) { M[i * T + j] = 0.5 * M[i * T + j] + (i === j ? 0.5 : 0); s += M[i * T + j]; }
      if (s > 0) for (let j = 0; j < T; j++) M[i * T + j] /= s;
    }
    if (!R) { R = M; continue; }
    const P = new Float64Array(T * T);   // R ← M · R (later layers act after earlier ones)
    for (let i = 0; i < T; i++) for (let k = 0; k < T; k++) {
      const m = M[i * T + k];
      if (m) for (let j = 0; j < T; j++) P[i * T + j] += m * R[k * T + j];
    }
    R = P;
  }
  const w = new Array<number>(T).fill(0);
  if (!R) return w;
  const rows = first ? 1 : T;
  for (let i = 0; i < rows; i++) for (let j = 0; j < T; j++) w[j] += R[i * T + j] / rows;
  return w;
}

/** The message for a text with no tokens: there is nothing to classify, and a prediction for it
 *  would be the model's bias dressed up as an answer. */
export const noTokens = (what: string): string => `${what} has no tokens (it is empty or only whitespace); there is nothing to classify`;

/** Row `r` of probabilities [n, K] as a Prediction. */
export function predictionOf(labels: readonly string[], probs: Float32Array, r: number, truncated = false): Prediction {
  const K = labels.length, c = argmaxRows(probs.subarray(r * K, (r + 1) * K), 1, K)[0];
  // fromEntries defines own properties: a label such as "__proto__" stays a key like any other.
  const probabilities = Object.fromEntries(labels.map((l, k) => [l, probs[r * K + k]])) as Record<string, number>;
  return { label: labels[c], probability: probs[r * K + c], probabilities, truncated };
}

/** The prediction for one text and the attention weight of each of its pieces. */
export function explainText(loaded: Loaded, text: string): Explanation {
  const { model, tokenizer, labels, maxLen } = loaded;
  // One id past maxLen tells whether the text was cut; the cut itself (which pieces keep an id)
  // is the tokenizer's.
  const probe = tokenizer.encodeWithPieces(text, maxLen + 1);
  const truncated = probe.ids.length > maxLen;
  const { pieces, ids, owners } = truncated ? tokenizer.encodeWithPieces(text, maxLen) : probe;
  if (ids.length === 0) throw new HeedError(`explain: ${noTokens('the text')}`);
  const T = ids.length, tokens = new Int32Array(T);
  tokens.set(ids);
  const { logits, attention } = model.forward(tokens, [1, T], { returnAttention: true });
  const probs = probabilities(logits.toArray(), 1, model.outputs);
  logits.dispose();
  let weights: number[];
  if (Array.isArray(attention)) {
    weights = rollout(attention.map((a: Tensor) => a.toArray()), attention[0].shape[1], T, model.config.kind === 'bert');   // maps [1,H,T,T]
    attention.forEach((a: Tensor) => a.dispose());
  } else {
    weights = Array.from((attention as Tensor).toArray());
    (attention as Tensor).dispose();
  }
  // An n-gram tokenizer gives several ids per word: a word's weight is the sum of its ids' weights,
  // so a person reads words, not hash buckets.
  const perPiece = new Array<number>(pieces.length).fill(0);
  for (let i = 0; i < ids.length; i++) perPiece[owners[i]] += weights[i];
  return { ...predictionOf(labels, probs, 0, truncated), pieces, weights: perPiece };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/** A self-contained HTML page: the prediction and the text's pieces shaded by attention. */
export function explanationHtml(e: Explanation, text: string): string {
  const max = Math.max(1e-12, ...e.weights);
  const spans = e.pieces.map((p, i) => `<span title="${e.weights[i].toFixed(4)}" style="background:rgba(255,140,0,${(e.weights[i] / max).toFixed(3)})">${esc(p)}</span>`).join(' ');
  const probs = Object.entries(e.probabilities).map(([l, p]) => `<tr><td>${esc(l)}</td><td>${(p * 100).toFixed(1)}%</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>heed explain: ${esc(e.label)}</title>
<style>body{font:16px/1.6 system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em;color:#222}
.tokens span{padding:.1em .2em;border-radius:.2em}.tokens{line-height:2.2}table{border-collapse:collapse}td{padding:.1em .8em .1em 0}
.src{color:#666;font-size:.9em}</style></head>
<body><h1>Prediction: ${esc(e.label)} <small>(${(e.probability * 100).toFixed(1)}%)</small></h1>
<p class="tokens">${spans}</p>
<p>Darker tokens received more attention (hover for the weight).</p>${e.truncated ? `\n<p class="note">The text is longer than the model reads: only its first ${e.pieces.length} tokens were used.</p>` : ''}
<table>${probs}</table>
<p class="src">Input: ${esc(text)}</p>
</body></html>
`;
}
