// What heed train prints besides progress: the epochs kept for the summary, the epoch table's
// rows, and the warnings for data a setting does not suit.
import type { Tokenizer } from '../data/tokenizer.js';
import type { EpochInfo } from '../train/loop.js';
import { unknownShare } from '../train/search.js';
import type { Io } from './main.js';
import type { TrainFlags } from './train-flags.js';
import { secs } from './ui.js';

/** Epoch rows kept for the summary table and in checkpoints (plus the best epoch's): a run's
 *  bookkeeping stays the same size however many epochs it has. */
export const HISTORY_ROWS = 100;

/** The epochs a summary shows: the last HISTORY_ROWS, and the one with the lowest validation loss
 *  (the epoch early stopping keeps) when it is older than those. */
export class History {
  #recent: EpochInfo[] = [];
  #best: EpochInfo | null = null;
  constructor(saved: readonly EpochInfo[] = []) {
    for (const e of saved) this.add(e);
  }
  add(e: EpochInfo): void {
    if (e.valLoss !== undefined && (this.#best === null || e.valLoss < this.#best.valLoss!)) this.#best = e;
    this.#recent.push(e);
    if (this.#recent.length > HISTORY_ROWS) this.#recent.splice(0, this.#recent.length - HISTORY_ROWS);
  }
  rows(): EpochInfo[] {
    const b = this.#best;
    return b && !this.#recent.includes(b) ? [b, ...this.#recent] : [...this.#recent];
  }
}

/** The warning for a tokenizer that leaves the model little to learn from: most training tokens
 *  unknown, or a vocabulary of a handful of pieces. Returns the message (null: none). */
export function unsuitableWarning(tokenizer: Tokenizer, tokens: Int32Array | readonly Int32Array[]): string | null {
  if (tokenizer.type === 'ngram') return null;
  const unk = unknownShare(tokens), known = tokenizer.vocabSize - 2;
  if (unk <= 0.5 && known >= 8) return null;
  const why = unk > 0.5 ? `${(unk * 100).toFixed(0)}% of the training tokens are unknown to the ${tokenizer.type} vocabulary (words seen fewer than ${tokenizer.minFreq} times are left out)`
    : `the ${tokenizer.type} vocabulary has only ${known} piece${known === 1 ? '' : 's'}`;
  return `heed: warning: ${why}; the model can hardly learn from that. Use --tokenizer ngram (sub-word pieces of every word), or leave --tokenizer and --model out to let heed choose\n`;
}

export function warnUnsuitable(io: Io, f: TrainFlags, tokenizer: Tokenizer, tokens: Int32Array): void {
  const w = unsuitableWarning(tokenizer, tokens);
  if (w) io.stderr.write(w);
}

/** Warns (even with --quiet) when validation accuracy is no better than always answering the most
 *  common class: never a model at chance without saying so. */
export function warnChance(io: Io, acc: number, labels: Int32Array, classes: number, f: TrainFlags): void {
  const counts = new Array<number>(Math.max(2, classes)).fill(0);
  for (const y of labels) counts[y]++;
  const majority = Math.max(...counts) / Math.max(1, labels.length);
  if (acc > majority + 0.01) return;
  io.stderr.write(`heed: warning: validation accuracy ${(acc * 100).toFixed(1)}% is no better than always answering the most common class (${(majority * 100).toFixed(1)}%); `
    + `${f.tokenizer === 'ngram' ? 'the texts may not tell the classes apart, or need more rows' : 'try --tokenizer ngram, or leave --tokenizer and --model out to let heed choose'}\n`);
}

export function epochRow(e: EpochInfo): (string | number)[] {
  const pct = (x?: number) => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
  return [e.epoch, e.loss.toFixed(4), pct(e.accuracy), e.valLoss === undefined ? '–' : e.valLoss.toFixed(4), pct(e.valAccuracy), secs(e.seconds)];
}


export function countsOf(ids: Int32Array, K: number): number[] {
  const n = new Array<number>(K).fill(0);
  for (const i of ids) n[i]++;
  return n;
}
