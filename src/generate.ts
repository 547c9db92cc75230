// Text generation with a causalLM: prefill the prompt through a KV cache, then sample one token per
// sample per step, attending over the cached keys and values (nothing of the prefix is recomputed).
// Sampling runs in f64 over a copy of each row's logits: temperature, then top-k, then top-p
// (nucleus), one uniform draw per sample per step from a seeded Rng.
import { HeedError } from './errors.js';
import { brief } from './io/json.js';
import { KvCache } from './nn/kv-cache.js';
import { Model, type DecoderConfig } from './nn/model.js';
import { Rng } from './nn/rng.js';

export interface GenerateOptions {
  /** New tokens per sample, at most (default: as many as the model's maxLen leaves after the
   *  prompt). The prompt and the tokens fed back need prompt length + maxTokens − 1 positions. */
  maxTokens?: number;
  /** Divides the logits before sampling (default 1). 0 or less means greedy: the most likely token
   *  every step (the lowest id on a tie), with no randomness; topK and topP do not apply. */
  temperature?: number;
  /** Sample among the k most likely tokens only (default: all). */
  topK?: number;
  /** Sample among the most likely tokens whose probabilities add up to at least p, in (0, 1]
   *  (default 1: all). */
  topP?: number;
  /** The same seed, prompt, options and backend give the same tokens (default 0). */
  seed?: number;
  /** Samples generated side by side from the same prompt (default 1): the batch of each step. */
  samples?: number;
  /** Token ids that end a sample (an end marker); the stop token itself is not emitted. */
  stop?: number | readonly number[];
  /** Aborting stops generation before its next step: the iterator throws `signal.reason`. */
  signal?: AbortSignal;
}

/** One step of generation: one new token id per sample, -1 for a sample that has ended (at a stop
 *  token, in this step or before). */
export interface GeneratedPiece { step: number; tokens: Int32Array }

/** How long a step loop runs before it lets the event loop in (timers, an abort, rendering). */
const SLICE_MS = 16;

/** A value as an error message shows it (JSON's, but NaN and ±Infinity as themselves). */
const show = (v: unknown): string => (typeof v === 'number' ? String(v) : brief(v));

interface Checked { prompt: Int32Array; maxTokens: number; temperature: number; topK: number; topP: number; seed: number; samples: number; stop: Set<number>; signal?: AbortSignal }

function checkOptions(model: Model<DecoderConfig>, promptIds: ArrayLike<number>, o: GenerateOptions): Checked {
  if (!(model instanceof Model) || model.config.kind !== 'decoder') {
    throw new HeedError(`generate: a ${model instanceof Model ? model.config.kind : 'non-heed'} model is not a causal language model (causalLM)`);
  }
  model.alive();
  if (o === null || typeof o !== 'object') throw new HeedError('generate: options must be an object');
  const V = model.config.vocabSize, maxLen = model.config.maxLen;
  const n: unknown = promptIds == null ? undefined : promptIds.length;
  if (typeof n !== 'number') throw new HeedError('generate: the prompt must be an array of token ids');
  if (n === 0) throw new HeedError('generate: the prompt is empty; give at least one token (a begin marker, say)');
  if (n > maxLen) throw new HeedError(`generate: the prompt has ${n} tokens, more than the model's maxLen (${maxLen} positions)`);
  const prompt = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = promptIds[i];
    if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new HeedError(`generate: prompt id ${show(t)} at ${i} is outside [0, ${V}) (vocabSize ${V})`);
    prompt[i] = t;
  }
  const int = (name: string, v: unknown, dflt: number, min: number): number => {
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new HeedError(`generate: ${name} must be an integer ≥ ${min}, got ${show(v)}`);
    return v;
  };
  const maxTokens = int('maxTokens', o.maxTokens, maxLen - n + 1, 1);
  if (n + maxTokens - 1 > maxLen) {
    throw new HeedError(`generate: a prompt of ${n} tokens and maxTokens ${maxTokens} need ${n + maxTokens - 1} positions, more than the model's maxLen (${maxLen})`);
  }
  const temperature = o.temperature ?? 1, topP = o.topP ?? 1;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature)) throw new HeedError(`generate: temperature must be a finite number (0 or less: greedy), got ${show(o.temperature)}`);
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw new HeedError(`generate: topP must be in (0, 1], got ${show(o.topP)}`);
  const stops = o.stop === undefined ? [] : typeof o.stop === 'number' ? [o.stop] : Array.isArray(o.stop) ? o.stop : null;
  if (stops === null) throw new HeedError(`generate: stop must be a token id or an array of them, got ${brief(o.stop)}`);
  for (const s of stops) if (!(Number.isInteger(s) && s >= 0 && s < V)) throw new HeedError(`generate: stop id ${show(s)} is outside [0, ${V}) (vocabSize ${V})`);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new HeedError('generate: signal must be an AbortSignal');
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed)) throw new HeedError(`generate: seed must be an integer, got ${show(o.seed)}`);
  return {
    prompt, maxTokens, temperature, topP, topK: Math.min(int('topK', o.topK, V, 1), V), seed,
    samples: int('samples', o.samples, 1, 1), stop: new Set(stops), signal: o.signal,
  };
}

/** The next token from one row of logits: greedy for temperature ≤ 0, else a draw from the
 *  tempered distribution cut to its topK most likely tokens and then to its top-p nucleus. */
export function sampleToken(logits: ArrayLike<number>, temperature: number, topK: number, topP: number, u: number): number {
  const V = logits.length;
  let best = 0;
  for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
  if (temperature <= 0) return best;
  if (topK >= V && topP >= 1) {
    // Nothing is cut: no sort, one exp per token.
    const p = new Float64Array(V);
    let total = 0;
    for (let i = 0; i < V; i++) total += p[i] = Math.exp((logits[i] - logits[best]) / temperature);
    let r = u * total;
    for (let i = 0; i < V; i++) if ((r -= p[i]) < 0) return i;
    return best;
  }
  const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b] - logits[a] || a - b).slice(0, topK);
  const p = order.map((i) => Math.exp((logits[i] - logits[best]) / temperature));
  const total = p.reduce((a, b) => a + b, 0);
  let kept = 0, mass = 0;
  while (kept < p.length && mass < topP * total) mass += p[kept++];
  let r = u * mass;
  for (let j = 0; j < kept; j++) {
    r -= p[j];
    if (r < 0) return order[j];
  }
  return order[kept - 1];
}

/** Generates from `promptIds` (one prompt, shared by every sample): one {@link GeneratedPiece} per
 *  step, until every sample has stopped or maxTokens steps. Bad options throw here, before any
 *  step; the KV cache is allocated at the first step and freed when the iteration ends (finished,
 *  broken out of, aborted or failed). */
export function generate(model: Model<DecoderConfig>, promptIds: ArrayLike<number>, options: GenerateOptions = {}): AsyncGenerator<GeneratedPiece, void, undefined> {
  return steps(model, checkOptions(model, promptIds, options));
}

async function* steps(model: Model<DecoderConfig>, o: Checked): AsyncGenerator<GeneratedPiece, void, undefined> {
  const S = o.samples, P = o.prompt.length, V = model.config.vocabSize;
  o.signal?.throwIfAborted();
  const rng = new Rng(o.seed), cache = new KvCache(model, S, P + o.maxTokens - 1);
  try {
    const ids = new Int32Array(S * P);
    for (let s = 0; s < S; s++) ids.set(o.prompt, s * P);
    cache.step(ids, P);
    let slice = Date.now();
    const done = new Uint8Array(S), next = new Int32Array(S);
    for (let step = 0; step < o.maxTokens; step++) {
      const logits = cache.readLastLogits(), tokens = new Int32Array(S);
      for (let s = 0; s < S; s++) {
        const row = logits.subarray(s * V, (s + 1) * V);
        const t = sampleToken(row, o.temperature, o.topK, o.topP, rng.uniform());
        if (!done[s] && o.stop.has(t)) done[s] = 1;
        tokens[s] = done[s] ? -1 : t;
        next[s] = t;
      }
      yield { step, tokens };
      if (done.every((d) => d === 1) || step + 1 === o.maxTokens) return;
      if (Date.now() - slice > SLICE_MS) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        slice = Date.now();
      }
      o.signal?.throwIfAborted();
      model.alive();
      cache.step(next, 1);
    }
  } finally {
    cache.dispose();
  }
}

/** The callback form of {@link generate}: calls `onPiece` for every step (returning false stops
 *  generation there) and resolves with each sample's generated ids (without the prompt or the
 *  stop token). */
export async function generateAll(model: Model<DecoderConfig>, promptIds: ArrayLike<number>, options: GenerateOptions = {},
                                  onPiece?: (piece: GeneratedPiece) => boolean | void): Promise<number[][]> {
  const pieces = generate(model, promptIds, options), out: number[][] = [];
  for await (const piece of pieces) {
    piece.tokens.forEach((t, s) => { (out[s] ??= []); if (t >= 0) out[s].push(t); });
    if (onPiece?.(piece) === false) break;
  }
  return out;
}

/** A decoder-only language model (ctx.causalLM): logits [B, T, vocabSize], trained against the
 *  next token's id at every position (-100: none), and generation with a KV cache. */
export class CausalLM extends Model<DecoderConfig> {
  /** `for await (const { tokens } of model.generate(prompt, options))`: see {@link GenerateOptions}. */
  generate(promptIds: ArrayLike<number>, options?: GenerateOptions): AsyncGenerator<GeneratedPiece, void, undefined> {
    return generate(this, promptIds, options);
  }

  /** Every sample's generated ids once generation ends; `onPiece` sees each step as it comes. */
  generateAll(promptIds: ArrayLike<number>, options?: GenerateOptions, onPiece?: (piece: GeneratedPiece) => boolean | void): Promise<number[][]> {
    return generateAll(this, promptIds, options, onPiece);
  }
}
