// heed's tagging commands: `heed train --task tag` (a tokenClassifier on rows of words with one tag
// per word), and what `heed predict` and `heed eval` do with the tagger it saves. The data format
// and the word-to-piece alignment are src/data/tagging.ts's.
import { indexLabels, makeBatch, PackedBuilder, packedInOrder, stratifiedSplit, type PackedDataset } from '../data/dataset.js';
import { encodeWords, idLabels, splitTagged, wordsOf, type EncodedWords } from '../data/tagging.js';
import { Tokenizer } from '../data/tokenizer.js';
import { HeedError } from '../errors.js';
import type { Context } from '../context.js';
import { argmaxRows, probabilities } from '../classifier/probabilities.js';
import type { Loaded } from '../classifier/explain.js';
import { saveModel } from '../io/model-file.js';
import type { Model } from '../nn/model.js';
import { predictBatches } from '../train/evaluate.js';
import type { FitResult, ModelOptions } from '../train/fit.js';
import type { EpochInfo } from '../train/loop.js';
import { writeOrFail } from './common.js';
import { DENSE_CONFUSION_MAX, denseConfusion, metrics } from './eval.js';
import type { Io } from './main.js';
import { readPackedRows } from './texts.js';
import { autoMaxLen, tokenizerOptions, type TrainFlags } from './train-flags.js';
import { epochRow, History } from './train-report.js';
import { jsonLine, printable, Progress, summarise, table } from './ui.js';

/** Rows of words and their tag ids, flat: row i's words are words[wordOffsets[i] ..
 *  wordOffsets[i+1]) with tags tagIds[…] of the same range. */
interface TaggedRows { texts: string[]; words: string[]; wordOffsets: Int32Array; tagIds: Int32Array; tags: string[] }

/** Splits each row into words and tags (one per word), checked, with the file and line named. */
function readTagged(texts: readonly string[], tagTexts: readonly string[], where: (i: number) => string, known?: readonly string[]): TaggedRows {
  const words: string[] = [], tagsFlat: string[] = [], wordOffsets = new Int32Array(texts.length + 1);
  for (let i = 0; i < texts.length; i++) {
    const r = splitTagged(texts[i], tagTexts[i], where(i));
    for (let w = 0; w < r.words.length; w++) { words.push(r.words[w]); tagsFlat.push(r.tags[w]); }
    wordOffsets[i + 1] = words.length;
  }
  if (known) {
    const index = new Map(known.map((t, k) => [t, k]));
    const tagIds = new Int32Array(tagsFlat.length);
    for (let i = 0, w = 0; i < texts.length; i++) {
      for (; w < wordOffsets[i + 1]; w++) {
        const k = index.get(tagsFlat[w]);
        if (k === undefined) throw new HeedError(`${where(i)}: tag '${printable(tagsFlat[w])}' is not one the model knows (${summarise(known.map(printable))})`);
        tagIds[w] = k;
      }
    }
    return { texts: [...texts], words, wordOffsets, tagIds, tags: [...known] };
  }
  const distinct = new Set(tagsFlat);
  if (distinct.size < 2) throw new HeedError(`${where(-1)}: every word has the tag ${JSON.stringify(tagsFlat[0])}; tagging needs at least 2 tags`);
  const { classes, ids } = indexLabels(tagsFlat);
  return { texts: [...texts], words, wordOffsets, tagIds: ids, tags: classes };
}

const wordsOfRow = (d: TaggedRows, i: number) => d.words.slice(d.wordOffsets[i], d.wordOffsets[i + 1]);

/** Rows `rows` as packed ids with a label on each word's first id; `cut` counts the words past maxLen. */
function encodeRows(d: TaggedRows, rows: ArrayLike<number>, tokenizer: Pick<Tokenizer, 'encode'>, maxLen: number): { data: PackedDataset; cut: number } {
  const out = new PackedBuilder(rows.length, 'token');
  let cut = 0;
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k], e = encodeWords(tokenizer, wordsOfRow(d, i), maxLen);
    for (const f of e.first) if (f < 0) cut++;
    out.push(e.ids, idLabels(e, d.tagIds.subarray(d.wordOffsets[i], d.wordOffsets[i + 1])));
  }
  return { data: out.finish(), cut };
}

/** Accuracy on `rows` of tagging each word with its most frequent tag in `train` (the overall most
 *  frequent tag for a word never seen): the baseline a tagger must beat. */
export function mostFrequentTagAccuracy(d: TaggedRows, train: Int32Array, rows: Int32Array, key: (w: string) => string): number {
  const byWord = new Map<string, Map<number, number>>(), overall = new Map<number, number>();
  const bump = (m: Map<number, number>, t: number) => m.set(t, (m.get(t) ?? 0) + 1);
  const best = (m: Map<number, number>) => [...m].reduce((a, b) => (b[1] > a[1] || (b[1] === a[1] && b[0] < a[0]) ? b : a))[0];
  for (const i of train) {
    for (let w = d.wordOffsets[i]; w < d.wordOffsets[i + 1]; w++) {
      const k = key(d.words[w]);
      let m = byWord.get(k);
      if (!m) byWord.set(k, (m = new Map()));
      bump(m, d.tagIds[w]);
      bump(overall, d.tagIds[w]);
    }
  }
  const fallback = best(overall), guess = new Map<string, number>();
  let right = 0, n = 0;
  for (const i of rows) {
    for (let w = d.wordOffsets[i]; w < d.wordOffsets[i + 1]; w++, n++) {
      const k = key(d.words[w]);
      let g = guess.get(k);
      if (g === undefined) { const m = byWord.get(k); guess.set(k, (g = m ? best(m) : fallback)); }
      if (g === d.tagIds[w]) right++;
    }
  }
  return n ? right / n : 0;
}

/** heed train --task tag. */
export async function trainTagger(file: string, f: TrainFlags, io: Io, h: Context): Promise<number> {
  const log = (s: string) => { if (!f.quiet) io.stderr.write(s); };
  const csv = await readPackedRows(file, { labelCol: f.labelCol, textCol: f.textCol, delimiter: f.delimiter });
  const n = csv.texts.length;
  const d = readTagged([...csv.texts], Array.from(csv.labelOf, (k) => csv.labels[k]), (i) => (i < 0 ? file : `${file}:${csv.lines[i]}`));
  const split = stratifiedSplit(new Int32Array(n), f.valSplit, f.seed);
  const trainTexts = Array.from(split.train, (i) => d.texts[i]);
  let tokenizer = Tokenizer.build(trainTexts, tokenizerOptions(f));
  const pieces = (t: Tokenizer, i: number) => encodeWords(t, wordsOfRow(d, i), 1 << 20).ids.length;
  const maxLen = f.maxLen ?? autoMaxLen(Int32Array.from(split.train, (i) => pieces(tokenizer, i)), 256);
  const counts = new Array<number>(d.tags.length).fill(0);
  for (const t of d.tagIds) counts[t]++;
  log(`${n} rows, ${d.words.length} words, ${d.tags.length} tags (${summarise(d.tags.map((t, k) => `${printable(t)}: ${counts[k]}`))})\n`);
  const train = encodeRows(d, split.train, tokenizer, maxLen), val = split.val.length ? encodeRows(d, split.val, tokenizer, maxLen).data : undefined;
  const modelOptions: ModelOptions = { kind: 'tagger', vocabSize: tokenizer.vocabSize, maxLen, dModel: f.dModel, heads: 4, ffDim: 2 * f.dModel, layers: 2, classes: d.tags.length, seed: f.seed };
  log(`train ${split.train.length} rows, validation ${split.val.length}; ${f.tokenizer} vocabulary ${tokenizer.vocabSize}; max length ${maxLen}; tagger on ${h.backend}\n`);
  if (train.cut > 0) log(`heed: ${train.cut} training words lie past --max-len ${maxLen} pieces and are not learned from\n`);
  const progress = new Progress(io.stderr), history = new History();
  const settings = {
    batchSize: f.batchSize, lr: f.lr, warmup: 0.05, schedule: 'cosine' as const, weightDecay: f.weightDecay, tokenDropout: f.tokenDropout,
    clipNorm: 1, maxLen, seed: f.seed, threads: f.threads, onStep: f.quiet ? undefined : (i: Parameters<Progress['step']>[0]) => progress.step(i),
  };
  const fitted = async (run: { done: Promise<FitResult> }) => { try { return await run.done; } finally { progress.clear(); } };
  const first = await fitted(h.fit({
    ...settings, modelOptions, data: { tokens: train.data.tokens, offsets: train.data.offsets, labels: train.data.targets.labels },
    validation: val && { tokens: val.tokens, offsets: val.offsets, labels: val.targets.labels }, epochs: f.epochs, patience: val ? f.patience : 0,
    onEpoch: (e: EpochInfo) => { history.add(e); if (!f.quiet) progress.epoch(e, f.epochs); },
  }));
  let model: Model = first.model;
  const epochs = first.bestEpoch ?? first.history.length;
  const kept = first.history.find((e) => e.epoch === epochs);
  const lower = (w: string) => (tokenizer.lowercase ? w.toLowerCase() : w);
  const baseline = split.val.length ? mostFrequentTagAccuracy(d, split.train, split.val, lower) : null;
  if (kept?.valAccuracy !== undefined && baseline !== null && kept.valAccuracy <= baseline) {
    io.stderr.write(`heed: warning: the tagger tags ${(kept.valAccuracy * 100).toFixed(1)}% of validation words right, no better than tagging each word with its most frequent tag (${(baseline * 100).toFixed(1)}%); more rows or epochs may help\n`);
  }
  const refitted = f.refit && !!val;
  if (refitted) {
    log(`refitting on all ${n} rows for ${epochs} epoch${epochs === 1 ? '' : 's'} (the best on validation)\n`);
    tokenizer = Tokenizer.build(d.texts, tokenizerOptions(f));
    const all = encodeRows(d, Int32Array.from(d.texts.keys()), tokenizer, maxLen).data;
    const again = await fitted(h.fit({ ...settings, modelOptions: { ...modelOptions, vocabSize: tokenizer.vocabSize }, data: { tokens: all.tokens, offsets: all.offsets, labels: all.targets.labels }, epochs }));
    model.dispose();
    model = again.model;
  }
  const training = {
    task: 'tag', tokenizer: f.tokenizer, model: 'tagger', weightDecay: f.weightDecay, lr: f.lr, maxLen, epochs,
    rows: refitted ? n : split.train.length, validationAccuracy: kept?.valAccuracy ?? null, baselineAccuracy: baseline,
  };
  writeOrFail(f.out, 'the model', saveModel(model, { tokenizer: tokenizer.toJSON(), labels: d.tags, training }));
  if (!f.quiet && history.rows().length) io.stderr.write('\n' + table(['epoch', 'loss/word', 'acc', 'val loss', 'val acc', 'time'], history.rows().map(epochRow)));
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const score = kept?.valAccuracy !== undefined ? `${pct(kept.valAccuracy)} of validation words tagged right${baseline !== null ? ` (most-frequent-tag baseline ${pct(baseline)})` : ''}` : null;
  const how = refitted ? `trained on all ${n} rows for ${epochs} epoch${epochs === 1 ? '' : 's'}${score ? `; before the refit, ${score}` : ''}`
    : `trained on ${split.train.length} rows${score ? `, ${score}` : ''}`;
  io.stdout.write(`saved ${f.out} (${model.parameterCount.toLocaleString('en')} parameters; ${f.tokenizer} tokenizer, tagger, ${d.tags.length} tags; ${how})\n`);
  return 0;
}

/** Tags of texts: per text its words, the tag and its probability per word ('' and NaN for a word
 *  past maxLen pieces), and whether any word was past it. */
export interface TaggedText { words: string[]; tags: string[]; probabilities: number[]; truncated: boolean }

export function tagTexts(loaded: Loaded, texts: readonly string[], batch = 64): TaggedText[] {
  const { model, tokenizer, labels, maxLen } = loaded, K = labels.length, C = model.outputs;
  const out: TaggedText[] = [];
  for (let s = 0; s < texts.length; s += batch) {
    const group = texts.slice(s, s + batch).map((t) => ({ words: wordsOf(t), e: null as EncodedWords | null }));
    for (const g of group) g.e = encodeWords(tokenizer, g.words, maxLen);
    const tagged = group.filter((g) => g.e!.ids.length > 0);
    let probs: Float32Array = new Float32Array(0), T = 0;
    if (tagged.length) {
      const b = makeBatch(tagged.map((g) => g.e!.ids), new Int32Array(tagged.length), Int32Array.from(tagged.keys()), maxLen);
      T = b.shape[1];
      const logits = model.forward(b.tokens, b.shape);
      try { probs = probabilities(logits.toArray(), b.tokens.length, C); } finally { logits.dispose(); }
    }
    const best = argmaxRows(probs, probs.length / K, K);
    let r = 0;
    for (const g of group) {
      const e = g.e!, row = e.ids.length > 0 ? r++ : -1;
      const at = Array.from(e.first, (f) => (f < 0 || row < 0 ? -1 : row * T + f));
      out.push({
        words: g.words, tags: at.map((i) => (i < 0 ? '' : labels[best[i]])),
        probabilities: at.map((i) => (i < 0 ? NaN : probs[i * K + best[i]])), truncated: e.first.includes(-1),
      });
    }
  }
  return out;
}

/** heed eval on a tagger: accuracy per word, loss per word, per-tag precision / recall / F1. */
export async function evaluateTagger(loaded: Loaded, csvPath: string, rows: { labels: string[]; texts: string[]; lines: number[] }, json: boolean, batchSize: number, io: Io): Promise<number> {
  const { model, tokenizer, labels, maxLen } = loaded;
  const d = readTagged(rows.texts, rows.labels, (i) => `${csvPath}:${rows.lines[i]}`, labels);
  const { data, cut } = encodeRows(d, Int32Array.from(d.texts.keys()), tokenizer, maxLen);
  const pr = predictBatches(model, packedInOrder(data, batchSize, maxLen));
  const m = metrics(labels, pr.labels, pr.predicted);
  if (json) {
    io.stdout.write(jsonLine({
      accuracy: pr.accuracy, loss: pr.loss, n: pr.n, rows: d.texts.length, words: d.words.length, unscoredWords: cut, macroF1: m.macroF1, classes: m.classes,
      confusion: labels.length <= DENSE_CONFUSION_MAX ? denseConfusion(labels.length, m.cells) : null, confusionCells: m.cells, labels,
    }));
    return 0;
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  io.stdout.write(`${csvPath}: ${d.texts.length} rows, ${d.words.length} words${cut ? ` (${cut} past the model's ${maxLen} pieces per row, not scored)` : ''}\n`
    + `accuracy per word ${pct(pr.accuracy)}   loss per word ${pr.loss.toFixed(4)}   macro F1 ${m.macroF1.toFixed(3)}\n\n`);
  io.stdout.write(table(['tag', 'precision', 'recall', 'F1', 'support'], m.classes.map((c) => [printable(c.label), c.precision.toFixed(3), c.recall.toFixed(3), c.f1.toFixed(3), c.support])));
  return 0;
}
