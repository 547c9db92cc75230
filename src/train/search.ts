// The settings search behind `heed train`'s defaults (--tokenizer auto, --model auto): train a few
// candidate settings on the training split, score each on the validation split, keep the best.
// Candidates run one after another in a fixed order with seeded training, so the same data, seed
// and candidates give the same table and the same choice, as long as the time budget is not hit;
// once it is, the running candidate (never the first) is cancelled (it is scored on the epochs it
// finished) and the rest are skipped, which is the one place wall-clock time can change the outcome.
import type { Context } from '../context.js';
import { Tokenizer, UNK_ID, type TokenizerOptions } from '../data/tokenizer.js';
import { PackedBuilder, type PackedDataset } from '../data/dataset.js';
import { HeedError } from '../errors.js';
import { fit, type FitResult, type ModelOptions, type PackedFitData } from './fit.js';
import type { EpochInfo } from './loop.js';

/** One setting to try: how text becomes ids, and how the pooling model is regularised. */
export interface SearchCandidate {
  /** Shown in the table, e.g. 'ngram 1-4 + bigrams, mean pooling d 32, wd 0.1, dropout 0' (describeCandidate). */
  name: string;
  tokenizer: TokenizerOptions;
  model: 'pooling' | 'transformer';
  /** The pooling model's pooling (default 'attention'; see PoolingOptions). */
  pool?: 'attention' | 'mean';
  /** The model width (default: the search's dModel). */
  dModel?: number;
  weightDecay: number;
  tokenDropout: number;
}

export interface SearchTrial {
  candidate: SearchCandidate;
  /** Validation accuracy and loss at the epoch early stopping kept (NaN when skipped). */
  valAccuracy: number;
  valLoss: number;
  /** The epoch kept, and how many ran. */
  bestEpoch: number;
  epochs: number;
  seconds: number;
  /** Share of the training split's tokens that are '<unk>' (0 for 'ngram'). */
  unknownShare: number;
  vocabSize: number;
  status: 'done' | 'cut short' | 'skipped';
}

export interface SearchOptions {
  /** Every row's text (an array, or anything with `length` and `at(i)`), and its class id. */
  texts: { readonly length: number; at(i: number): string | undefined };
  labels: Int32Array;
  classes: number;
  /** Row indices of the training and validation splits (validation must not be empty). */
  train: Int32Array;
  val: Int32Array;
  /** Default: defaultCandidates(). */
  candidates?: readonly SearchCandidate[];
  /** Seconds for the whole search. Default: searchBudget(rows). */
  budgetSeconds?: number;
  seed?: number;
  /** Training settings shared by every candidate. */
  epochs?: number; lr?: number; batchSize?: number; patience?: number; dModel?: number;
  /** The sequence length for a tokenizer's encoded training texts (default: their longest, at most 4096). */
  maxLenFor?(lengths: number[], candidate: SearchCandidate): number;
  /** Called after each candidate (for a live table). */
  onTrial?(t: SearchTrial): void;
  /** Stop now: the running candidate is cancelled and the rest skipped. */
  shouldStop?(): boolean;
  /** Run on a worker (default true), as fit. */
  worker?: boolean;
}

export interface SearchResult {
  trials: SearchTrial[];
  /** The index of the best trial in `trials`. */
  best: number;
  /** The winner's tokenizer, built on the training split, its sequence length, and its trained
   *  model and epoch history (the caller owns the model). */
  tokenizer: Tokenizer;
  maxLen: number;
  /** The options the winner's model was made with (a refit on more rows changes vocabSize only). */
  modelOptions: ModelOptions;
  fit: FitResult;
  history: EpochInfo[];
}

/** A candidate's row in the search table: tokenizer, model (and pooling), regularisation. */
export function describeCandidate(c: Omit<SearchCandidate, 'name'>): string {
  const t = c.tokenizer;
  const tok = t.type === 'ngram' ? `ngram ${t.charMax === 0 ? 'words' : `${t.charMin ?? 2}-${t.charMax ?? 4}`}${(t.wordNgrams ?? 2) >= 2 ? ' + bigrams' : ''}` : t.type ?? 'word';
  const model = c.model === 'transformer' ? 'transformer' : `${c.pool ?? 'attention'} pooling`;
  return `${tok}, ${model}${c.dModel === undefined ? '' : ` d ${c.dModel}`}, wd ${c.weightDecay}, dropout ${c.tokenDropout}`;
}

/** The candidates `heed train` tries, in order: whole words with attention pooling first (a second
 *  or two even on long texts, and the best on long texts of many words), then hashed sub-word
 *  features under mean pooling (fastText's model: every n-gram votes, which generalises where
 *  attention over n-grams overfits within a few epochs; the one that works on one-word rows), with
 *  light and with stronger regularisation, then the sub-word features under attention pooling.
 *  The mean-pooled ones are 32 wide: as accurate as 64 on bench/ACCURACY.md's training splits and
 *  twice as fast (AdamW's step over the hashed embedding table is most of their time). */
export function defaultCandidates(): SearchCandidate[] {
  const c: Omit<SearchCandidate, 'name'>[] = [
    { tokenizer: { type: 'word' }, model: 'pooling', weightDecay: 2, tokenDropout: 0.25 },
    { tokenizer: { type: 'ngram', charMin: 1, charMax: 4, wordNgrams: 2 }, model: 'pooling', pool: 'mean', dModel: 32, weightDecay: 0.1, tokenDropout: 0 },
    { tokenizer: { type: 'ngram', charMin: 2, charMax: 4, wordNgrams: 2 }, model: 'pooling', pool: 'mean', dModel: 32, weightDecay: 0.5, tokenDropout: 0.1 },
    { tokenizer: { type: 'ngram', charMin: 2, charMax: 4, wordNgrams: 2 }, model: 'pooling', weightDecay: 2, tokenDropout: 0.25 },
  ];
  return c.map((x) => ({ ...x, name: describeCandidate(x) }));
}

/** The search's time budget for a data set of `rows` rows: 25 s for a thousand rows (an upper
 *  bound: small data of short rows is done in a few), growing linearly, three minutes at most.
 *  Generous enough that on an idle 2-core machine no candidate is cut short below ~20k short rows
 *  or a thousand long texts, so the choice repeats. */
export function searchBudget(rows: number): number {
  return Math.min(180, 20 + rows * 0.005);
}

/** Share of the tokens that are '<unk>': of a packed token buffer, or of sequences. */
export function unknownShare(tokens: Int32Array | readonly Int32Array[]): number {
  let n = 0, unk = 0;
  for (const s of tokens instanceof Int32Array ? [tokens] : tokens) { n += s.length; for (const id of s) if (id === UNK_ID) unk++; }
  return n === 0 ? 1 : unk / n;
}

/** Runs the search; see the file comment. The first candidate is never cut short (a search must
 *  return a model, and a model cut off after an epoch or two can sit at chance); the budget cuts
 *  and skips the ones after it. */
export async function searchSettings(ctx: Context, o: SearchOptions): Promise<SearchResult> {
  if (o === null || typeof o !== 'object') throw new HeedError('searchSettings: expected an options object');
  const candidates = o.candidates ?? defaultCandidates();
  if (!Array.isArray(candidates) || candidates.length === 0) throw new HeedError('searchSettings: candidates must be a non-empty array');
  if (!(o.val instanceof Int32Array) || o.val.length === 0) throw new HeedError('searchSettings: the validation split is empty (the search scores candidates on it)');
  if (!(o.train instanceof Int32Array) || o.train.length === 0) throw new HeedError('searchSettings: the training split is empty');
  const budget = o.budgetSeconds ?? searchBudget(o.texts.length);
  if (typeof budget !== 'number' || !(budget > 0)) throw new HeedError(`searchSettings: budgetSeconds must be a positive number, got ${String(budget)}`);
  const t0 = performance.now(), elapsed = () => (performance.now() - t0) / 1000;
  // Read row by row, never gathered into an array: the texts may be a packed column (heed train's).
  const trainTexts = { *[Symbol.iterator]() { for (const i of o.train) yield o.texts.at(i)!; } };
  const trials: SearchTrial[] = [];
  let best: { i: number; tokenizer: Tokenizer; maxLen: number; modelOptions: ModelOptions; fit: FitResult; history: EpochInfo[] } | null = null;
  for (let c = 0; c < candidates.length; c++) {
    const cand = candidates[c];
    const outOfTime = () => elapsed() >= budget || !!o.shouldStop?.();
    if (c > 0 && outOfTime()) {
      const t: SearchTrial = { candidate: cand, valAccuracy: NaN, valLoss: NaN, bestEpoch: 0, epochs: 0, seconds: 0, unknownShare: NaN, vocabSize: 0, status: 'skipped' };
      trials.push(t); o.onTrial?.(t);
      continue;
    }
    const s0 = performance.now();
    const tokenizer = Tokenizer.build(trainTexts, cand.tokenizer);
    // Packed, as fit wants them: no array per row (issue 11: a million rows).
    const full = new PackedBuilder(o.train.length);
    for (let k = 0; k < o.train.length; k++) full.push(tokenizer.encode(o.texts.at(o.train[k])!), o.labels[o.train[k]]);
    const train = full.finish(), lengths = train.offsets.subarray(1).map((end, k) => end - train.offsets[k]);
    let longest = 1;
    for (const n of lengths) if (n > longest) longest = n;
    const maxLen = o.maxLenFor ? o.maxLenFor(Array.from(lengths), cand) : Math.min(4096, longest);
    const validation = new PackedBuilder(o.val.length);
    for (const i of o.val) validation.push(tokenizer.encode(o.texts.at(i)!, maxLen), o.labels[i]);
    const history: EpochInfo[] = [];
    let cutShort = false;
    const dModel = cand.dModel ?? o.dModel ?? 64;
    const modelOptions: ModelOptions = cand.model === 'transformer'
      ? { kind: 'transformer', vocabSize: tokenizer.vocabSize, maxLen, dModel, heads: 4, ffDim: 2 * dModel, layers: 2, classes: o.classes, seed: o.seed ?? 0 }
      : { kind: 'pooling', vocabSize: tokenizer.vocabSize, dModel, classes: o.classes, seed: o.seed ?? 0, ...(cand.pool ? { pool: cand.pool } : {}) };
    const run = fit(ctx, {
      modelOptions,
      data: cut(train, maxLen), validation: fitData(validation.finish()),
      epochs: o.epochs ?? 30, batchSize: o.batchSize ?? 32, lr: o.lr ?? 1e-2, warmup: 0.05, schedule: 'cosine',
      weightDecay: cand.weightDecay, tokenDropout: cand.tokenDropout, clipNorm: 1, maxLen, patience: o.patience ?? 5, seed: o.seed ?? 0,
      worker: o.worker,
      onEpoch: (e) => { history.push(e); },
      // The first candidate always trains to the end (its epochs or early stopping): the search
      // returns at least the default setting fully trained, however slow the machine; the budget
      // limits how many alternatives are tried.
      onStep: () => { if (!cutShort && c > 0 && outOfTime()) { cutShort = true; run.cancel(); } },
    });
    const result = await run.done;
    const kept = result.bestEpoch !== null ? history.find((e) => e.epoch === result.bestEpoch) : history[history.length - 1];
    const t: SearchTrial = {
      candidate: cand, valAccuracy: kept?.valAccuracy ?? NaN, valLoss: kept?.valLoss ?? NaN, bestEpoch: kept?.epoch ?? 0, epochs: history.length,
      seconds: (performance.now() - s0) / 1000, unknownShare: tokenizer.type === 'ngram' ? 0 : unknownShare(train.tokens), vocabSize: tokenizer.vocabSize,
      status: cutShort ? 'cut short' : 'done',
    };
    trials.push(t);
    o.onTrial?.(t);
    // Higher validation accuracy wins; a tie goes to the lower validation loss, then the earlier candidate.
    const better = best === null || (kept !== undefined && (t.valAccuracy > trials[best.i].valAccuracy
      || (t.valAccuracy === trials[best.i].valAccuracy && t.valLoss < trials[best.i].valLoss)));
    if (better && kept !== undefined) {
      best?.fit.model.dispose();
      best = { i: trials.length - 1, tokenizer, maxLen, modelOptions, fit: result, history };
    } else if (best === null) {
      best = { i: trials.length - 1, tokenizer, maxLen, modelOptions, fit: result, history };
    } else {
      result.model.dispose();
    }
  }
  return { trials, best: best!.i, tokenizer: best!.tokenizer, maxLen: best!.maxLen, modelOptions: best!.modelOptions, fit: best!.fit, history: best!.history };
}

const fitData = (d: PackedDataset): PackedFitData => ({ tokens: d.tokens, offsets: d.offsets, labels: d.targets.labels });

/** Every row of `d` cut to its first maxLen tokens. */
function cut(d: PackedDataset, maxLen: number): PackedFitData {
  const n = d.offsets.length - 1, out = new PackedBuilder(n, 'class', d.tokens.length);
  for (let i = 0; i < n; i++) out.push(d.tokens.subarray(d.offsets[i], Math.min(d.offsets[i + 1], d.offsets[i] + maxLen)), d.targets.labels[i]);
  return fitData(out.finish());
}
