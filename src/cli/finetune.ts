// heed train --from <dir|model-id>: fine-tune a pretrained BERT-family checkpoint on a labelled CSV.
// The checkpoint's WordPiece tokenizer ([CLS] text [SEP], cut to --max-len), its encoder with a
// fresh classification head (BertForSequenceClassification's names), AdamW with a linear decay as
// Hugging Face's Trainer has it, validation and early stopping as for every heed run, then a refit
// from the pretrained weights on every row; the model file keeps the tokenizer files, so predict,
// eval and explain tokenize exactly as at training.
import { PackedBuilder, stratifiedSplit } from '../data/dataset.js';
import { WordPieceText } from '../data/wordpiece-text.js';
import type { Context } from '../context.js';
import { HeedError } from '../errors.js';
import { loadPretrained } from '../io/hf.js';
import { openCheckpoint, type CheckpointFiles } from '../io/hub.js';
import { saveModel } from '../io/model-file.js';
import type { FitResult, PackedFitData } from '../train/fit.js';
import type { EpochInfo } from '../train/loop.js';
import { writeOrFail } from './common.js';
import type { Io } from './main.js';
import { readPackedRows } from './texts.js';
import { autoMaxLen, type TrainFlags } from './train-flags.js';
import { epochRow, History, warnChance } from './train-report.js';
import { labelsOf } from './train.js';
import { printable, Progress, summarise, table } from './ui.js';

/** Texts longer than this many WordPiece ids are cut unless --max-len says otherwise: BERT's cost
 *  grows with the square of the length, and 128 is where Hugging Face's examples cut. */
const DEFAULT_CAP = 128;

function tokenizerOf(files: CheckpointFiles): WordPieceText {
  const f = { ...(files.tokenizerJson !== null ? { 'tokenizer.json': files.tokenizerJson } : {}),
    ...(files.vocabTxt !== null ? { 'vocab.txt': files.vocabTxt } : {}),
    ...(files.tokenizerConfig !== null ? { 'tokenizer_config.json': files.tokenizerConfig } : {}) };
  if (!f['tokenizer.json'] && !f['vocab.txt']) throw new HeedError(`${files.where}: no tokenizer.json or vocab.txt: heed cannot tokenize text for this checkpoint`);
  return new WordPieceText(f, files.where);
}

export async function fineTune(file: string, f: TrainFlags, io: Io, h: Context): Promise<number> {
  const log = (s: string) => { if (!f.quiet) io.stderr.write(s); };
  const files = await openCheckpoint(f.from!);
  const tokenizer = tokenizerOf(files);
  const data = await readPackedRows(file, { labelCol: f.labelCol, textCol: f.textCol, delimiter: f.delimiter });
  const { classes, ids } = labelsOf(file, data);
  const split = stratifiedSplit(ids, f.valSplit, f.seed);
  const pretrained = () => loadPretrained(h, { config: files.config, weights: files.weights }, { classes: classes.length, labels: classes, seed: f.seed, what: files.where });
  let first = pretrained();
  const positions = first.model.config.maxLen;
  if (tokenizer.vocabSize > first.model.config.vocabSize) {
    first.model.dispose();
    throw new HeedError(`${files.where}: the tokenizer has ${tokenizer.vocabSize} entries but the model embeds only ${first.model.config.vocabSize} (vocab_size)`);
  }
  const maxLen = Math.min(positions, f.maxLen ?? autoMaxLen(Int32Array.from(split.train, (i) => tokenizer.encode(data.texts.at(i), positions).length), DEFAULT_CAP));
  const encode = (rows: Int32Array): PackedFitData => {
    const out = new PackedBuilder(rows.length);
    for (const i of rows) out.push(tokenizer.encode(data.texts.at(i), maxLen), ids[i]);
    const p = out.finish();
    return { tokens: p.tokens, offsets: p.offsets, labels: p.targets.labels };
  };
  const counts = new Array<number>(classes.length).fill(0);
  for (const y of ids) counts[y]++;
  log(`${data.texts.length} rows, ${classes.length} classes (${summarise(classes.map((c, k) => `${printable(c)}: ${counts[k]}`))})\n`);
  log(`fine-tuning ${files.where}: ${first.model.parameterCount.toLocaleString('en')} parameters, ${first.model.config.layers} layers, d ${first.model.config.dModel}; `
    + `WordPiece vocabulary ${tokenizer.vocabSize}; max length ${maxLen}; train ${split.train.length}, validation ${split.val.length}; on ${h.backend}`
    + `${f.freeze === undefined ? '' : `; frozen: the embeddings and ${f.freeze === 'encoder' ? 'every layer' : `the first ${f.freeze} layer${f.freeze === 1 ? '' : 's'}`}`}\n`);
  const trainSet = encode(split.train), valSet = split.val.length ? encode(split.val) : undefined;
  const progress = new Progress(io.stderr), history = new History();
  const settings = {
    batchSize: f.batchSize, lr: f.lr, schedule: 'linear' as const, weightDecay: f.weightDecay, clipNorm: 1, maxLen, seed: f.seed, threads: f.threads, freeze: f.freeze,
    onStep: f.quiet ? undefined : (i: Parameters<Progress['step']>[0]) => progress.step(i),
  };
  const fitted = async (run: { done: Promise<FitResult> }) => { try { return await run.done; } finally { progress.clear(); } };
  const r = await fitted(h.fit({
    ...settings, model: first.model, data: trainSet, validation: valSet, epochs: f.epochs, patience: valSet ? f.patience : 0,
    onEpoch: (e: EpochInfo) => { history.add(e); if (!f.quiet) progress.epoch(e, f.epochs); },
  }));
  let model = r.model;
  const epochs = r.bestEpoch ?? r.history.length;
  const kept = r.history.find((e) => e.epoch === epochs);
  if (kept?.valAccuracy !== undefined && valSet) warnChance(io, kept.valAccuracy, valSet.labels as Int32Array, classes.length, f);
  const refitted = f.refit && !!valSet;
  if (refitted) {
    // The refit starts from the pretrained weights again, for the epoch count validation chose.
    log(`refitting on all ${data.texts.length} rows for ${epochs} epoch${epochs === 1 ? '' : 's'} (the best on validation)\n`);
    model.dispose();
    first = pretrained();
    model = (await fitted(h.fit({ ...settings, model: first.model, data: encode(Int32Array.from(ids.keys())), epochs }))).model;
  }
  const training = {
    from: f.from, ...(f.freeze === undefined ? {} : { freeze: f.freeze }), tokenizer: 'wordpiece', model: 'bert', lr: f.lr, weightDecay: f.weightDecay, maxLen, epochs,
    rows: refitted ? data.texts.length : split.train.length, validationAccuracy: kept?.valAccuracy ?? null,
  };
  writeOrFail(f.out, 'the model', saveModel(model, { tokenizer: tokenizer.toJSON(), labels: classes, training }));
  if (!f.quiet && history.rows().length) io.stderr.write('\n' + table(['epoch', 'loss', 'acc', 'val loss', 'val acc', 'time'], history.rows().map(epochRow)));
  const acc = kept?.valAccuracy !== undefined ? `${(kept.valAccuracy * 100).toFixed(1)}%` : null;
  const how = refitted ? `trained on all ${data.texts.length} rows for ${epochs} epoch${epochs === 1 ? '' : 's'}${acc ? `; the same settings scored ${acc} on the validation split before the refit` : ''}`
    : `trained on ${split.train.length} rows${acc ? `, validation accuracy ${acc}` : ''}`;
  io.stdout.write(`saved ${f.out} (${model.parameterCount.toLocaleString('en')} parameters; fine-tuned from ${f.from}; ${how})\n`);
  return 0;
}
