// heed eval <model> <data.csv>: accuracy, loss, per-class precision / recall / F1 and the
// confusion matrix on labelled data; --json prints one JSON object. A tagger is scored per word
// (src/cli/tag.ts).
import { resolve } from 'node:path';
import { evalBatches } from '../data/dataset.js';
import { HeedError } from '../errors.js';
import { init } from '../index.js';
import { readLabeledCsv } from '../io/csv.js';
import { predictBatches } from '../train/evaluate.js';
import { delimiterFlag, parse, UsageError } from './args.js';
import { openModelFile } from './common.js';
import type { Io } from './main.js';
import { jsonLine, printable, summarise, table } from './ui.js';

const HELP = `usage: heed eval <model.safetensors> <data.csv> [--json] [--label-col NAME] [--text-col NAME] [--delimiter C] [--batch-size N]\n`;

export interface ClassMetrics { label: string; precision: number; recall: number; f1: number; support: number }

/** Classes up to which the confusion matrix is printed (text) or given in full (--json); above it,
 *  K² cells would dwarf the data (10,000 labels: 10⁸ cells), so --json lists the non-zero cells. */
export const DENSE_CONFUSION_MAX = 100;

export function metrics(labels: readonly string[], truth: Int32Array, predicted: Int32Array): { classes: ClassMetrics[]; cells: [number, number, number][]; macroF1: number } {
  const K = labels.length, tp = new Float64Array(K), support = new Float64Array(K), predictedC = new Float64Array(K);
  const cellCount = new Map<number, number>();
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i], p = predicted[i];
    support[t]++; predictedC[p]++;
    if (t === p) tp[t]++;
    const key = t * K + p;
    cellCount.set(key, (cellCount.get(key) ?? 0) + 1);
  }
  const classes = labels.map((label, c) => {
    const precision = predictedC[c] ? tp[c] / predictedC[c] : 0, recall = support[c] ? tp[c] / support[c] : 0;
    return { label, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, support: support[c] };
  });
  const cells = [...cellCount].sort((a, b) => a[0] - b[0]).map(([key, n]) => [Math.floor(key / K), key % K, n] as [number, number, number]);
  return { classes, cells, macroF1: classes.reduce((a, c) => a + c.f1, 0) / K };
}

/** The K×K confusion matrix (rows: true class) from its non-zero cells. */
export function denseConfusion(K: number, cells: readonly [number, number, number][]): number[][] {
  const m = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (const [t, p, n] of cells) m[t][p] = n;
  return m;
}

export async function evaluate(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('eval', args, {
    json: { type: 'boolean' }, 'label-col': { type: 'string' }, 'text-col': { type: 'string' }, backend: { type: 'string' }, 'batch-size': { type: 'string' }, delimiter: { type: 'string' },
  });
  if (v.help) { io.stdout.write(HELP); return 0; }
  if (positionals.length !== 2) throw new UsageError(`eval: expected <model.safetensors> <data.csv>, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}`);
  const [modelPath, csvPath] = positionals.map((p) => resolve(io.cwd, p));
  const batchSize = v['batch-size'] === undefined ? 64 : Number(v['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch-size must be a positive integer, got '${String(v['batch-size'])}'`);
  const delimiter = delimiterFlag(v.delimiter);
  const h = await init(v.backend ? { backend: v.backend as 'wasm' } : {});
  const loaded = openModelFile(h, modelPath), { model, tokenizer, labels, maxLen } = loaded;
  if (model.config.kind === 'decoder') { model.dispose(); return (await import('./lm.js')).evaluateLm(h, modelPath, csvPath, !!v.json, batchSize, io); }
  const data = await readLabeledCsv(csvPath, { labelCol: String(v['label-col'] ?? 'label'), textCol: String(v['text-col'] ?? 'sequence'), delimiter });
  if (model.target === 'token') return (await import('./tag.js')).evaluateTagger(loaded, csvPath, data, !!v.json, batchSize, io);
  const index = new Map(labels.map((l, i) => [l, i]));
  const truth = Int32Array.from(data.labels, (l, i) => {
    const c = index.get(l.trim());
    if (c === undefined) throw new HeedError(`${csvPath}:${data.lines[i]}: label '${printable(l)}' is not one the model knows (${summarise(labels.map(printable))})`);
    return c;
  });
  const seqs = data.texts.map((t) => tokenizer.encode(t, maxLen));
  const pr = predictBatches(model, evalBatches(seqs, truth, Int32Array.from(truth.keys()), batchSize, maxLen));
  const m = metrics(labels, pr.labels, pr.predicted);
  if (v.json) {
    const dense = labels.length <= DENSE_CONFUSION_MAX;
    io.stdout.write(jsonLine({
      accuracy: pr.accuracy, loss: pr.loss, n: pr.n, macroF1: m.macroF1, classes: m.classes,
      confusion: dense ? denseConfusion(labels.length, m.cells) : null, confusionCells: m.cells, labels,
    }));
    return 0;
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  io.stdout.write(`${csvPath}: ${pr.n} rows\naccuracy ${pct(pr.accuracy)}   loss ${pr.loss.toFixed(4)}   macro F1 ${m.macroF1.toFixed(3)}\n\n`);
  io.stdout.write(table(['class', 'precision', 'recall', 'F1', 'support'], m.classes.map((c) => [printable(c.label), c.precision.toFixed(3), c.recall.toFixed(3), c.f1.toFixed(3), c.support])));
  if (labels.length > DENSE_CONFUSION_MAX) {
    io.stdout.write(`\nconfusion matrix not shown for ${labels.length.toLocaleString('en')} classes (--json lists its non-zero cells)\n`);
    return 0;
  }
  io.stdout.write('\nconfusion matrix (rows: true class, columns: predicted)\n');
  const shown = labels.map(printable);
  io.stdout.write(table(['', ...shown], denseConfusion(labels.length, m.cells).map((r, i) => [shown[i], ...r])));
  return 0;
}
