// heed train <data.csv>: CSV → labels and vocabulary → stratified split → fit on a worker with a
// live progress line → summary → model file written atomically. A checkpoint is written after
// every epoch (<out>.ckpt) so an interrupted run continues with --resume; it is removed once the
// model file is in place. A failed or interrupted run never touches an existing model file.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { indexLabels, PackedBuilder, stratifiedSplit } from '../data/dataset.js';
import { Tokenizer, type TokenizerOptions, type TokenizerType } from '../data/tokenizer.js';
import { defaultCandidates, searchBudget, searchSettings, unknownShare, type SearchCandidate, type SearchResult, type SearchTrial } from '../train/search.js';
import { HeedError } from '../errors.js';
import { init } from '../index.js';
import { decodeCheckpoint, encodeCheckpoint } from '../io/checkpoint.js';
import { saveModel } from '../io/model-file.js';
import { ParamLayout } from '../nn/block.js';
import type { ModelConfig } from '../nn/model.js';
import { configFor, layoutFor, modelFor } from '../nn/registry.js';
import type { FitResult, ModelOptions } from '../train/fit.js';
import type { EpochInfo } from '../train/loop.js';
import { choiceFlag, delimiterFlag, floatFlag, intFlag, parse, UsageError } from './args.js';
import { checkOutputPath, fileFlag, fsProblem, writeOrFail } from './common.js';
import type { Io } from './main.js';
import { readPackedRows, type PackedRows, type TextColumn } from './texts.js';
import { printable, Progress, secs, summarise, table } from './ui.js';

const HELP = `usage: heed train <data.csv> [options]

Trains a classifier on a CSV with a header row and columns 'label' and 'sequence'.

  --model auto|pooling|transformer   model kind (default auto: see --tokenizer; pooling is the
                                attention-pooling classifier, the transformer pays off when word order
                                matters and data is plentiful)
  --epochs N                    passes over the training split (default 30 pooling, 20 transformer)
  --batch-size N                sequences per step (default 32)
  --lr X                        peak learning rate (default 1e-2 pooling, 2e-3 transformer;
                                5% linear warm-up, then cosine decay)
  --max-len N                   tokens kept per sequence (default: the 95th percentile length, 16–256)
  --tokenizer auto|ngram|word|char   how text becomes tokens (default auto: with --model auto too,
                                a few settings are tried on the validation split within a time budget
                                that grows with the data, a table of them is printed and the best is
                                kept; ngram: each word, its bigram and its character n-grams, hashed;
                                an explicit --tokenizer or --model skips the search)
  --char-ngrams MIN-MAX         character n-gram lengths for --tokenizer ngram (default 2-4; 0: none)
  --buckets N                   hash buckets for --tokenizer ngram (default: sized from the data)
  --seed N                      seed for the split, initialisation and batch order (default 0)
  --val-split F                 share held out for validation and early stopping (default 0.2)
  --patience N                  stop after N epochs without a better validation loss and keep the best
                                weights (default 5 pooling, 3 transformer; 0 = off)
  --out FILE                    model file (default model.safetensors)
  --label-col NAME, --text-col NAME   column names (default label, sequence)
  --delimiter C                 field separator: one character, or 'tab' for a TSV file (default ',')
  --no-refit                    keep the model trained on the training split (default: once validation
                                has chosen the epoch count, train again on every row for that many epochs)
  --weight-decay X              AdamW decoupled weight decay (default 2 pooling, 0.1 transformer)
  --token-dropout F             leave out each training token with this probability, anew every epoch
                                (default 0.25 pooling, 0.2 transformer)
  --d-model N                   model width (default 64)
  --resume                      continue from <out>.ckpt after an interruption
  --backend B                   compute backend: wasm-relaxed, wasm, wasm-scalar or js (default: relaxed
                                SIMD, else SIMD, where available)
  --threads N                   data-parallel training on N threads (default 1): each batch is split
                                across worker threads and their gradients averaged; pays off for the
                                transformer (about 1.7x with 2 threads); the pooling model's steps are
                                too short for it (slower: messaging costs more than the step)
  --quiet                       no progress output
`;

/** Defaults per model kind, chosen on held-out data against a bag-of-n-grams logistic regression
 *  (bench/accuracy.mjs): small text datasets need strong regularisation — decoupled weight decay
 *  and token dropout — and early stopping on the validation loss. */
export const DEFAULTS = {
  pooling: { epochs: 30, lr: 1e-2, patience: 5, weightDecay: 2, tokenDropout: 0.25 },
  transformer: { epochs: 20, lr: 2e-3, patience: 3, weightDecay: 0.1, tokenDropout: 0.2 },
} as const;

export interface TrainFlags {
  model: 'transformer' | 'pooling';
  /** Neither --tokenizer nor --model was given: search the settings (src/train/search.ts). */
  search: boolean;
  /** Flags the search must keep as given rather than vary. */
  given: { weightDecay: boolean; tokenDropout: boolean; charNgrams: boolean }; epochs: number; batchSize: number; lr: number; maxLen: number | null;
  tokenizer: TokenizerType; seed: number; valSplit: number; patience: number; out: string;
  labelCol: string; textCol: string; delimiter: string; resume: boolean; backend?: 'wasm-relaxed' | 'wasm' | 'wasm-scalar' | 'js'; quiet: boolean;
  weightDecay: number; tokenDropout: number; dModel: number; refit: boolean; threads: number;
  /** --tokenizer ngram: character n-gram lengths ([0, 0]: none) and hash buckets (null: sized from the data). */
  charNgrams: [number, number]; buckets: number | null;
}

export function trainFlags(args: string[], cwd: string): { file: string | null; flags: TrainFlags; help: boolean } {
  const { values: v, positionals } = parse('train', args, {
    model: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' },
    'max-len': { type: 'string' }, tokenizer: { type: 'string' }, seed: { type: 'string' }, 'val-split': { type: 'string' },
    patience: { type: 'string' }, out: { type: 'string' }, 'label-col': { type: 'string' }, 'text-col': { type: 'string' },
    resume: { type: 'boolean' }, backend: { type: 'string' }, quiet: { type: 'boolean', short: 'q' },
    'weight-decay': { type: 'string' }, 'token-dropout': { type: 'string' }, 'd-model': { type: 'string' },
    'no-refit': { type: 'boolean' }, threads: { type: 'string' }, delimiter: { type: 'string' },
    'char-ngrams': { type: 'string' }, buckets: { type: 'string' },
  });
  if (positionals.length > 1) throw new UsageError(`train: expected one CSV file, got ${positionals.length} arguments`);
  const modelFlag = choiceFlag(v.model, 'model', 'auto', ['auto', 'transformer', 'pooling'] as const);
  const tokFlag = choiceFlag(v.tokenizer, 'tokenizer', 'auto', ['auto', 'ngram', 'word', 'char'] as const);
  const model = modelFlag === 'auto' ? 'pooling' : modelFlag;
  const d = DEFAULTS[model];
  const flags: TrainFlags = {
    model,
    search: modelFlag === 'auto' && tokFlag === 'auto',
    given: { weightDecay: v['weight-decay'] !== undefined, tokenDropout: v['token-dropout'] !== undefined, charNgrams: v['char-ngrams'] !== undefined },
    epochs: intFlag(v.epochs, 'epochs', d.epochs, 1, 100000),
    batchSize: intFlag(v['batch-size'], 'batch-size', 32, 1, 65536),
    lr: floatFlag(v.lr, 'lr', d.lr, (x) => x > 0 && x < 10, 'a number in (0, 10)'),
    maxLen: v['max-len'] === undefined ? null : intFlag(v['max-len'], 'max-len', 0, 1, 100000),
    // Sub-word features suit the pooling model; the transformer's cost grows with the square of the
    // length, so it keeps one id per word.
    tokenizer: tokFlag === 'auto' ? (model === 'transformer' ? 'word' : 'ngram') : tokFlag,
    seed: intFlag(v.seed, 'seed', 0, 0, 2 ** 31 - 1),
    valSplit: floatFlag(v['val-split'], 'val-split', 0.2, (x) => x >= 0 && x < 1, 'a fraction in [0, 1)'),
    patience: intFlag(v.patience, 'patience', d.patience, 0, 100000),
    out: resolve(cwd, v.out === undefined ? 'model.safetensors' : fileFlag(nonEmpty(v.out, 'out'), '--out')),
    labelCol: String(v['label-col'] ?? 'label'),
    textCol: String(v['text-col'] ?? 'sequence'),
    delimiter: delimiterFlag(v.delimiter),
    resume: !!v.resume,
    backend: v.backend === undefined ? undefined : choiceFlag(v.backend, 'backend', 'wasm', ['wasm-relaxed', 'wasm', 'wasm-scalar', 'js'] as const),
    quiet: !!v.quiet,
    weightDecay: floatFlag(v['weight-decay'], 'weight-decay', d.weightDecay, (x) => x >= 0 && x < 100, 'a number in [0, 100)'),
    tokenDropout: floatFlag(v['token-dropout'], 'token-dropout', d.tokenDropout, (x) => x >= 0 && x < 1, 'a fraction in [0, 1)'),
    dModel: intFlag(v['d-model'], 'd-model', 64, 1, 4096),
    refit: !v['no-refit'],
    threads: intFlag(v.threads, 'threads', 1, 1, 16),
    charNgrams: charNgramsFlag(v['char-ngrams']),
    buckets: v.buckets === undefined ? null : intFlag(v.buckets, 'buckets', 0, 1, 2 ** 22),
  };
  return { file: positionals[0] ? resolve(cwd, positionals[0]) : null, flags, help: !!v.help };
}

/** --char-ngrams MIN-MAX (or N, or 0 for none). */
function charNgramsFlag(v: string | boolean | undefined): [number, number] {
  if (v === undefined) return [2, 4];
  const m = /^(\d{1,2})(?:-(\d{1,2}))?$/.exec(String(v).trim());
  const lo = m ? Number(m[1]) : NaN, hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || (lo === 0 && hi !== 0) || (hi !== 0 && (lo < 1 || hi < lo || hi > 16))) {
    throw new UsageError(`--char-ngrams must be MIN-MAX with 1 <= MIN <= MAX <= 16 (or 0 for none), got ${JSON.stringify(String(v))}`);
  }
  return hi === 0 ? [1, 0] : [lo, hi];
}

/** The tokenizer options of the flags. */
export function tokenizerOptions(f: TrainFlags): TokenizerOptions {
  if (f.tokenizer !== 'ngram') return { type: f.tokenizer };
  return { type: 'ngram', charMin: f.charNgrams[0], charMax: f.charNgrams[1], ...(f.buckets === null ? {} : { buckets: f.buckets }) };
}

function nonEmpty(v: string | boolean, flag: string): string {
  if (String(v).trim() === '') throw new UsageError(`--${flag} must not be empty`);
  return String(v);
}

/** The 95th-percentile sequence length, clamped to [16, 256]: long enough for nearly every
 *  example, without paying attention's T² for a few outliers. */
export function autoMaxLen(lengths: ArrayLike<number>, cap = 256): number {
  if (lengths.length === 0) return 16;
  const s = Int32Array.from(lengths).sort();
  return Math.min(cap, Math.max(16, s[Math.min(s.length - 1, Math.floor(0.95 * s.length))]));
}

export async function train(args: string[], io: Io): Promise<number> {
  const { file, flags: f, help } = trainFlags(args, io.cwd);
  if (help) { io.stdout.write(HELP); return 0; }
  if (!file) throw new UsageError('train: missing the CSV file (heed train <data.csv>)');
  checkOutputPath(f.out, '--out', [file]);
  checkOutputPath(`${f.out}.ckpt`, 'the checkpoint', [file]);
  if (f.resume && !existsSync(`${f.out}.ckpt`)) throw new HeedError(`--resume: no checkpoint ${f.out}.ckpt to resume from`);
  // From here on SIGINT / SIGTERM end the run at once, whatever it is doing (reading the CSV,
  // mid-epoch on the worker, between checkpoint writes): the newest epoch not yet on disk is
  // written to the checkpoint, --out is not written, and the exit code is 130. Every file write is
  // synchronous and atomic, and a signal handler runs between JavaScript tasks, so it never sees a
  // half-written file; nothing else needs to stop gracefully (the worker ends with the process).
  const st: RunState = { saved: 0, phase: '', pending: null, ckptPath: `${f.out}.ckpt`, out: f.out };
  const onSignal = () => {
    try {
      flushCheckpoint(st);
    } catch { /* the last checkpoint on disk stays intact */ }
    if (io.stderr.isTTY) io.stderr.write('\r\x1b[2K');
    io.stderr.write(interruptedLine(st));
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await trainRun(file, f, io, st);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** What a signal needs to know about the run in progress. */
interface RunState {
  /** The epoch held by the checkpoint file of this run (0: none yet). */
  saved: number;
  /** ' while refitting' once the validation phase is over. */
  phase: string;
  /** The newest checkpoint not yet written (writes are throttled), and its epoch. */
  pending: { epoch: number; write(): void } | null;
  ckptPath: string;
  out: string;
}

function flushCheckpoint(st: RunState): void {
  const p = st.pending;
  st.pending = null;
  if (p) { p.write(); st.saved = p.epoch; }
}

function interruptedLine(st: RunState): string {
  const where = st.saved > 0 ? `; epoch ${st.saved} is saved in ${st.ckptPath} (continue with --resume)` : '';
  return `heed: interrupted${st.phase}${where}; ${st.out} was not written\n`;
}

/** Checkpoints are written at most this often (and always after the first epoch, at the end of
 *  the validation phase and on a signal), so a run of many short epochs does not spend its time
 *  rewriting the file; the newest one in between is kept in memory. */
const CHECKPOINT_EVERY_MS = 1000;
/** Epoch rows kept for the summary table and in checkpoints (plus the best epoch's): a run's
 *  bookkeeping stays the same size however many epochs it has. */
export const HISTORY_ROWS = 100;

async function trainRun(file: string, f: TrainFlags, io: Io, st: RunState): Promise<number> {
  const ckptPath = st.ckptPath;
  const log = (s: string) => { if (!f.quiet) io.stderr.write(s); };

  const data = await readPackedRows(file, { labelCol: f.labelCol, textCol: f.textCol, delimiter: f.delimiter });
  const { classes, ids } = labelsOf(file, data);
  const split = stratifiedSplit(ids, f.valSplit, f.seed);
  const trainTexts = data.texts.pick(split.train);
  let resumedTokenizer: Tokenizer | null = null;
  // The run's identity: resuming needs the same data and options.
  const run = JSON.stringify({ file: fingerprint(data), ...f, out: undefined, resume: undefined, quiet: undefined, backend: undefined });
  let resumeFrom: ReturnType<typeof decodeCheckpoint> | null = null;
  if (f.resume) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(ckptPath);
    } catch (e) {
      throw new HeedError(`--resume: cannot read ${ckptPath}: ${fsProblem(e)}`);
    }
    resumeFrom = decodeCheckpoint(bytes, ckptPath, layoutOf);
    if (resumeFrom.run !== run) throw new HeedError(`--resume: ${ckptPath} was made from other data or options; run without --resume to start over`);
    resumedTokenizer = Tokenizer.fromJSON(resumeFrom.tokenizer);
    st.saved = resumeFrom.epoch;
  }
  const h = await init(f.backend ? { backend: f.backend } : {});
  const counts = countsOf(ids, classes.length);
  log(`${data.texts.length} rows, ${classes.length} classes (${summarise(classes.map((c, k) => `${printable(c)}: ${counts[k]}`))})\n`);
  const capFor = (tok: TokenizerType, model: string) => (tok === 'ngram' && model === 'pooling' ? 4096 : 256);
  let search: SearchResult | null = null;
  if (f.search && !f.resume && split.val.length > 0) {
    st.phase = ' during the settings search';
    search = await runSearch(h, f, data.texts, ids, classes.length, split, io, capFor);
    st.phase = '';
    const won = search.trials[search.best].candidate;
    f.tokenizer = won.tokenizer.type ?? 'word';
    f.model = won.model;
    f.weightDecay = won.weightDecay;
    f.tokenDropout = won.tokenDropout;
    if (won.tokenizer.type === 'ngram') f.charNgrams = [won.tokenizer.charMin ?? 2, won.tokenizer.charMax ?? 4];
  }
  let tokenizer = search?.tokenizer ?? resumedTokenizer ?? Tokenizer.build(trainTexts, tokenizerOptions(f));
  // An n-gram text has several ids per word; the pooling model's cost is linear in the length, so it may keep them all.
  const maxLen = search?.maxLen ?? f.maxLen ?? autoMaxLen(Int32Array.from(trainTexts, (t) => tokenizer.encode(t).length), capFor(f.tokenizer, f.model));
  // Every row's ids straight into one packed buffer (no array per row: a million rows are a few
  // allocations, and the buffers go to the worker by transfer).
  const encode = (idx: Int32Array) => {
    const out = new PackedBuilder(idx.length);
    for (let k = 0; k < idx.length; k++) out.push(tokenizer.encode(data.texts.at(idx[k]), maxLen), ids[idx[k]]);
    const p = out.finish();
    return { tokens: p.tokens, offsets: p.offsets, labels: p.targets.labels };
  };
  const trainSet = encode(split.train), valSet = split.val.length ? encode(split.val) : undefined;
  const modelOptions: ModelOptions = f.model === 'transformer'
    ? { kind: 'transformer', vocabSize: tokenizer.vocabSize, maxLen, dModel: f.dModel, heads: 4, ffDim: 2 * f.dModel, layers: 2, classes: classes.length, seed: f.seed }
    : { kind: 'pooling', vocabSize: tokenizer.vocabSize, dModel: f.dModel, classes: classes.length, seed: f.seed };

  log(`train ${trainSet.labels.length}, validation ${valSet?.labels.length ?? 0}; ${f.tokenizer} vocabulary ${tokenizer.vocabSize}; max length ${maxLen}; ${f.model} model on ${h.backend}\n`);

  if (!search) warnUnsuitable(io, f, tokenizer, trainSet.tokens);
  const progress = new Progress(io.stderr);
  const history = new History((resumeFrom?.history as EpochInfo[] | undefined) ?? search?.history);
  const patience = valSet ? f.patience : 0;
  // A resumed run whose checkpoint holds the last epoch of the validation phase (all epochs done,
  // or the epoch where early stopping fired: the loop checkpoints it before stopping) has no
  // validation epochs left: it goes straight to the refit (or, with --no-refit, to the weights
  // early stopping kept), as the uninterrupted run did.
  const early = resumeFrom?.early;
  const resumedStopped = !!resumeFrom && patience > 0 && !!early && early.bestEpoch !== null && early.sinceBest >= patience;
  const phaseDone = !!resumeFrom && (resumeFrom.epoch >= f.epochs || resumedStopped);
  let epochsDone = resumeFrom?.epoch ?? search?.history.length ?? 0;
  let result: FitResult | null = search?.fit ?? null;
  if (!phaseDone && !search) {
    let lastWrite = -Infinity;
    const fitRun = h.fit({
      modelOptions, data: trainSet, validation: valSet, epochs: f.epochs, batchSize: f.batchSize, lr: f.lr,
      warmup: 0.05, schedule: 'cosine', weightDecay: f.weightDecay, tokenDropout: f.tokenDropout, clipNorm: 1, maxLen, patience, seed: f.seed, threads: f.threads,
      resume: resumeFrom ? { optimizer: resumeFrom.optimizer, epoch: resumeFrom.epoch, early: resumeFrom.early } : undefined,
      ...(resumeFrom ? { model: restoreModel(h, resumeFrom.config, resumeFrom.params) } : {}),
      onStep: f.quiet ? undefined : (i) => progress.step(i),
      onEpoch: (e) => {
        history.add(e);
        epochsDone = e.epoch;
        if (!f.quiet) progress.epoch(e, f.epochs);
      },
      onCheckpoint: (c) => {
        const rows = history.rows();
        st.pending = {
          epoch: c.epoch,
          write: () => writeOrFail(ckptPath, 'the checkpoint', encodeCheckpoint({
            config: c.config, tokenizer: tokenizer.toJSON(), labels: classes, epoch: c.epoch, params: c.params, optimizer: c.optimizer, run, history: rows,
            early: c.early,
          }, layoutOf(c.config))),
        };
        if (performance.now() - lastWrite >= CHECKPOINT_EVERY_MS) {
          flushCheckpoint(st);
          lastWrite = performance.now();
        }
      },
    });
    try {
      result = await fitRun.done;
    } finally {
      progress.clear();
    }
    // The refit has no checkpoints: the validation phase's last one must be on disk before it.
    flushCheckpoint(st);
  }
  st.phase = ' while refitting';
  const bestEpoch = phaseDone ? early?.bestEpoch ?? null : result!.bestEpoch;
  const stoppedEarly = phaseDone ? resumedStopped : result!.stoppedEarly;
  let model = result?.model ?? null;
  const kept = bestEpoch !== null ? history.rows().find((e) => e.epoch === bestEpoch) : history.rows().at(-1);
  if (kept?.valAccuracy !== undefined && valSet) warnChance(io, kept.valAccuracy, valSet.labels, classes.length, f);
  if (f.refit && valSet) {
    // The split chose the number of epochs; now train once more on every row for that many epochs
    // (vocabulary rebuilt from all rows), so the saved model learns from all the data.
    const epochs = bestEpoch ?? epochsDone;
    log(`refitting on all ${data.texts.length} rows for ${epochs} epoch${epochs === 1 ? '' : 's'} (the best on validation)\n`);
    tokenizer = Tokenizer.build(data.texts, tokenizerOptions(f));
    const all = Int32Array.from(ids.keys());
    const refit = h.fit({
      modelOptions: { ...modelOptions, vocabSize: tokenizer.vocabSize }, data: encode(all), epochs, batchSize: f.batchSize, lr: f.lr,
      warmup: 0.05, schedule: 'cosine', weightDecay: f.weightDecay, tokenDropout: f.tokenDropout, clipNorm: 1, maxLen, seed: f.seed, threads: f.threads,
      onStep: f.quiet ? undefined : (i) => progress.step(i),
    });
    let r2: FitResult;
    try {
      r2 = await refit.done;
    } finally {
      progress.clear();
    }
    model?.dispose();
    model = r2.model;
  } else if (!model) {
    model = restoreModel(h, resumeFrom!.config, resumedStopped && early?.params ? early.params : resumeFrom!.params);
  }
  const refitted = f.refit && !!valSet;
  const training = {
    tokenizer: f.tokenizer, model: f.model, weightDecay: f.weightDecay, tokenDropout: f.tokenDropout, lr: f.lr, maxLen,
    epochs: bestEpoch ?? epochsDone, rows: refitted ? data.texts.length : trainSet.labels.length,
    validationAccuracy: kept?.valAccuracy ?? null,
    ...(search ? { search: search.trials.map((t) => ({ candidate: t.candidate.name, valAccuracy: Number.isNaN(t.valAccuracy) ? null : t.valAccuracy, status: t.status })) } : {}),
  };
  const bytes = saveModel(model, { tokenizer: tokenizer.toJSON(), labels: classes, training });
  writeOrFail(f.out, 'the model', bytes);
  rmSync(ckptPath, { force: true });
  const rows = history.rows();
  if (!f.quiet && rows.length) {
    const hidden = epochsDone - rows.length;
    io.stderr.write('\n' + (hidden > 0 ? `(${hidden.toLocaleString('en')} earlier epochs not shown)\n` : '') + table(['epoch', 'loss', 'acc', 'val loss', 'val acc', 'time'], rows.map(row)));
    if (stoppedEarly) io.stderr.write(`stopped early; ${refitted ? 'refitted for' : 'kept the weights of'} epoch ${bestEpoch} (best validation loss)\n`);
  }
  // What was saved: after a refit, the split model's validation accuracy belongs to other weights,
  // so it is quoted as the score of these settings, not of the saved model.
  const what = `${f.tokenizer} tokenizer, ${f.model} model, weight decay ${f.weightDecay}`;
  const acc = kept?.valAccuracy !== undefined ? `${(kept.valAccuracy * 100).toFixed(1)}%` : null;
  const how = refitted
    ? `trained on all ${data.texts.length} rows for ${training.epochs} epoch${training.epochs === 1 ? '' : 's'}${acc ? `; the same settings scored ${acc} on the validation split before the refit` : ''}`
    : `trained on ${trainSet.labels.length} rows${acc ? `, validation accuracy ${acc}` : ''}`;
  io.stdout.write(`saved ${f.out} (${model.parameterCount.toLocaleString('en')} parameters; ${what}; ${how})\n`);
  return 0;
}

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

function warnUnsuitable(io: Io, f: TrainFlags, tokenizer: Tokenizer, tokens: Int32Array): void {
  const w = unsuitableWarning(tokenizer, tokens);
  if (w) io.stderr.write(w);
}

/** Warns (even with --quiet) when validation accuracy is no better than always answering the most
 *  common class: never a model at chance without saying so. */
function warnChance(io: Io, acc: number, labels: Int32Array, classes: number, f: TrainFlags): void {
  const counts = new Array<number>(Math.max(2, classes)).fill(0);
  for (const y of labels) counts[y]++;
  const majority = Math.max(...counts) / Math.max(1, labels.length);
  if (acc > majority + 0.01) return;
  io.stderr.write(`heed: warning: validation accuracy ${(acc * 100).toFixed(1)}% is no better than always answering the most common class (${(majority * 100).toFixed(1)}%); `
    + `${f.tokenizer === 'ngram' ? 'the texts may not tell the classes apart, or need more rows' : 'try --tokenizer ngram, or leave --tokenizer and --model out to let heed choose'}\n`);
}

/** The settings search of a run without --tokenizer and --model, its table printed as it goes. */
async function runSearch(h: Awaited<ReturnType<typeof init>>, f: TrainFlags, texts: TextColumn, ids: Int32Array, classes: number,
  split: { train: Int32Array; val: Int32Array }, io: Io, capFor: (t: TokenizerType, m: string) => number): Promise<SearchResult> {
  const budget = searchBudget(texts.length);
  // Settings given on the command line hold for every candidate (the search varies the rest).
  const seen = new Set<string>();
  const candidates: SearchCandidate[] = defaultCandidates().map((c) => {
    const tok = c.tokenizer.type === 'ngram' && f.given.charNgrams ? { ...c.tokenizer, charMin: f.charNgrams[0], charMax: f.charNgrams[1] } : c.tokenizer;
    const wd = f.given.weightDecay ? f.weightDecay : c.weightDecay, td = f.given.tokenDropout ? f.tokenDropout : c.tokenDropout;
    const name = `${tok.type === 'ngram' ? `ngram ${tok.charMax ? `${tok.charMin}-${tok.charMax}` : 'words'} + bigrams` : tok.type}, wd ${wd}${td === 0.25 ? '' : `, dropout ${td}`}`;
    return { ...c, tokenizer: tok, weightDecay: wd, tokenDropout: td, name };
  }).filter((c) => { const k = JSON.stringify([c.tokenizer, c.weightDecay, c.tokenDropout]); return !seen.has(k) && !!seen.add(k); });
  const head = ['settings', 'val acc', 'epochs', 'time', ''];
  const cells = (t: SearchTrial): string[] => [t.candidate.name, Number.isNaN(t.valAccuracy) ? '–' : `${(t.valAccuracy * 100).toFixed(1)}%`,
    t.status === 'skipped' ? '–' : `${t.bestEpoch}/${t.epochs}`, t.status === 'skipped' ? '–' : secs(t.seconds),
    t.status === 'done' ? (t.unknownShare > 0.5 ? `${(t.unknownShare * 100).toFixed(0)}% unknown tokens` : '') : t.status];
  if (!f.quiet) io.stderr.write(`trying ${candidates.length} settings on the validation split (time budget ${secs(budget)}):\n`);
  const done: SearchTrial[] = [];
  const res = await searchSettings(h, {
    texts, labels: ids, classes, train: split.train, val: split.val, candidates, budgetSeconds: budget, seed: f.seed,
    epochs: f.epochs, lr: f.lr, batchSize: f.batchSize, patience: f.patience, dModel: f.dModel,
    maxLenFor: (lengths, c) => f.maxLen ?? autoMaxLen(lengths, capFor(c.tokenizer.type ?? 'word', c.model)),
    onTrial: (t) => {
      done.push(t);
      const next = candidates[done.length];
      if (!f.quiet && io.stderr.isTTY && next) io.stderr.write(`\r\x1b[2K  trying ${done.length + 1}/${candidates.length}: ${next.name}`);
    },
  });
  if (!f.quiet) {
    if (io.stderr.isTTY) io.stderr.write('\r\x1b[2K');
    const rows = res.trials.map((t, i) => [...cells(t).slice(0, 4), i === res.best ? 'kept' : cells(t)[4]]);
    io.stderr.write('\n' + table(head, rows));
  }
  return res;
}

/** Class ids of the (trimmed) labels; an empty label or a single class is an error naming the file. */
function labelsOf(file: string, rows: PackedRows): { classes: string[]; ids: Int32Array } {
  const labels = rows.labels.map((l) => l.trim()), of = rows.labelOf;
  const empty = of.findIndex((k) => labels[k] === '');
  if (empty >= 0) throw new HeedError(`${file}:${rows.lines[empty]}: the label is empty`);
  if (labels.every((l) => l === labels[0])) {
    throw new HeedError(`${file}: every row has the label ${JSON.stringify(labels[0])}; training needs at least 2 classes`);
  }
  const { classes, ids } = indexLabels(labels);
  return { classes, ids: of.map((k) => ids[k]) };
}

function row(e: EpochInfo): (string | number)[] {
  const pct = (x?: number) => (x === undefined ? '–' : `${(x * 100).toFixed(1)}%`);
  return [e.epoch, e.loss.toFixed(4), pct(e.accuracy), e.valLoss === undefined ? '–' : e.valLoss.toFixed(4), pct(e.valAccuracy), secs(e.seconds)];
}


function countsOf(ids: Int32Array, K: number): number[] {
  const n = new Array<number>(K).fill(0);
  for (const i of ids) n[i]++;
  return n;
}

function layoutOf(c: ModelConfig): ParamLayout {
  try {
    return layoutFor(configFor(c, 'config'));
  } catch (e) {
    throw new HeedError(`checkpoint config is invalid: ${(e as Error).message}`);
  }
}

function restoreModel(h: Awaited<ReturnType<typeof init>>, config: ModelConfig, params: Float32Array) {
  const m = modelFor(h, config, false);
  m.be.write(m.params, params);
  return m;
}

/** FNV-1a over labels and texts: a resume must see the same data. */
function fingerprint({ labels, labelOf, texts }: PackedRows): string {
  let h = 0x811c9dc5;
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
    h = Math.imul(h ^ 0x1f, 0x01000193) >>> 0;
  };
  for (let i = 0; i < texts.length; i++) { mix(labels[labelOf[i]]); mix(texts.at(i)); }
  return `${texts.length}:${h.toString(16)}`;
}
