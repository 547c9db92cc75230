// heed train <data.csv>: CSV → labels and vocabulary → stratified split → fit on a worker with a
// live progress line → summary → model file written atomically. A checkpoint is written after
// every epoch (<out>.ckpt) so an interrupted run continues with --resume; it is removed once the
// model file is in place. A failed or interrupted run never touches an existing model file.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { indexLabels, PackedBuilder, stratifiedSplit } from '../data/dataset.js';
import { Tokenizer, type TokenizerType } from '../data/tokenizer.js';
import { defaultCandidates, describeCandidate, searchBudget, searchSettings, type SearchCandidate, type SearchResult, type SearchTrial } from '../train/search.js';
import { HeedError } from '../errors.js';
import { init } from '../index.js';
import { decodeCheckpoint, encodeCheckpoint } from '../io/checkpoint.js';
import { saveModel } from '../io/model-file.js';
import type { ParamLayout } from '../nn/block.js';
import type { ModelConfig } from '../nn/model.js';
import { configFor, layoutFor, modelFor } from '../nn/registry.js';
import type { FitResult, ModelOptions } from '../train/fit.js';
import type { EpochInfo } from '../train/loop.js';
import { UsageError } from './args.js';
import { checkOutputPath, fsProblem, writeOrFail } from './common.js';
import type { Io } from './main.js';
import { readPackedRows, type PackedRows, type TextColumn } from './texts.js';
import { autoMaxLen, HELP, tokenizerOptions, trainFlags, type TrainFlags } from './train-flags.js';
import { countsOf, epochRow, History, warnChance, warnUnsuitable } from './train-report.js';
import { printable, Progress, secs, summarise, table } from './ui.js';

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

async function trainRun(file: string, f: TrainFlags, io: Io, st: RunState): Promise<number> {
  if (f.task === 'lm') return (await import('./lm.js')).trainLm(file, f, io, await init(f.backend ? { backend: f.backend } : {}));
  if (f.task === 'tag') return (await import('./tag.js')).trainTagger(file, f, io, await init(f.backend ? { backend: f.backend } : {}));
  if (f.from !== null) return (await import('./finetune.js')).fineTune(file, f, io, await init(f.backend ? { backend: f.backend } : {}));
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
    return { tokens: p.tokens, offsets: p.offsets, labels: p.targets.labels as Int32Array };   // class ids: a 'class' builder
  };
  const trainSet = encode(split.train), valSet = split.val.length ? encode(split.val) : undefined;
  // The search's winner keeps its model options (the pooling, too) through the refit.
  const modelOptions: ModelOptions = search ? { ...search.modelOptions, vocabSize: tokenizer.vocabSize } : f.model === 'transformer'
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
    io.stderr.write('\n' + (hidden > 0 ? `(${hidden.toLocaleString('en')} earlier epochs not shown)\n` : '') + table(['epoch', 'loss', 'acc', 'val loss', 'val acc', 'time'], rows.map(epochRow)));
    if (stoppedEarly) io.stderr.write(`stopped early; ${refitted ? 'refitted for' : 'kept the weights of'} epoch ${bestEpoch} (best validation loss)\n`);
  }
  // What was saved: after a refit, the split model's validation accuracy belongs to other weights,
  // so it is quoted as the score of these settings, not of the saved model.
  const what = `${f.tokenizer} tokenizer, ${modelOptions.kind === 'pooling' && modelOptions.pool === 'mean' ? 'mean-pooling' : f.model} model, weight decay ${f.weightDecay}`;
  const acc = kept?.valAccuracy !== undefined ? `${(kept.valAccuracy * 100).toFixed(1)}%` : null;
  const how = refitted
    ? `trained on all ${data.texts.length} rows for ${training.epochs} epoch${training.epochs === 1 ? '' : 's'}${acc ? `; the same settings scored ${acc} on the validation split before the refit` : ''}`
    : `trained on ${trainSet.labels.length} rows${acc ? `, validation accuracy ${acc}` : ''}`;
  io.stdout.write(`saved ${f.out} (${model.parameterCount.toLocaleString('en')} parameters; ${what}; ${how})\n`);
  return 0;
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
    const set = { ...c, tokenizer: tok, weightDecay: wd, tokenDropout: td };
    return { ...set, name: describeCandidate(set) };
  }).filter((c) => !seen.has(c.name) && !!seen.add(c.name));
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
export function labelsOf(file: string, rows: PackedRows): { classes: string[]; ids: Int32Array } {
  const labels = rows.labels.map((l) => l.trim()), of = rows.labelOf;
  const empty = of.findIndex((k) => labels[k] === '');
  if (empty >= 0) throw new HeedError(`${file}:${rows.lines[empty]}: the label is empty`);
  if (labels.every((l) => l === labels[0])) {
    throw new HeedError(`${file}: every row has the label ${JSON.stringify(labels[0])}; training needs at least 2 classes`);
  }
  const { classes, ids } = indexLabels(labels);
  return { classes, ids: of.map((k) => ids[k]) };
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
