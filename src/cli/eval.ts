// heed eval <model> <data.csv>: accuracy, loss, per-class precision / recall / F1 and the
// confusion matrix on labelled data; --json prints one JSON object.
import { resolve } from 'node:path';
import { evalBatches } from '../data/dataset.js';
import { HeedError } from '../errors.js';
import { init } from '../index.js';
import { readLabeledCsv } from '../io/csv.js';
import { predictBatches } from '../train/evaluate.js';
import { delimiterFlag, parse, UsageError } from './args.js';
import { loadModelFile } from './common.js';
import type { Io } from './main.js';
import { jsonLine, printable, summarise, table } from './ui.js';

const HELP = `usage: heed eval <model.safetensors> <data.csv> [--json] [--label-col NAME] [--text-col NAME] [--delimiter C] [--batch-size N]\n`;

export interface ClassMetrics { label: string; precision: number; recall: number; f1: number; support: number }

export function metrics(labels: readonly string[], truth: Int32Array, predicted: Int32Array): { classes: ClassMetrics[]; confusion: number[][]; macroF1: number } {
  const K = labels.length, confusion = labels.map(() => new Array<number>(K).fill(0));
  for (let i = 0; i < truth.length; i++) confusion[truth[i]][predicted[i]]++;
  const classes = labels.map((label, c) => {
    const tp = confusion[c][c], support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedC = confusion.reduce((a, r) => a + r[c], 0);
    const precision = predictedC ? tp / predictedC : 0, recall = support ? tp / support : 0;
    return { label, precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0, support };
  });
  return { classes, confusion, macroF1: classes.reduce((a, c) => a + c.f1, 0) / K };
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
  const { model, tokenizer, labels, maxLen } = loadModelFile(h, modelPath);
  const data = await readLabeledCsv(csvPath, { labelCol: String(v['label-col'] ?? 'label'), textCol: String(v['text-col'] ?? 'sequence'), delimiter });
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
    io.stdout.write(jsonLine({ accuracy: pr.accuracy, loss: pr.loss, n: pr.n, macroF1: m.macroF1, classes: m.classes, confusion: m.confusion, labels }));
    return 0;
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  io.stdout.write(`${csvPath}: ${pr.n} rows\naccuracy ${pct(pr.accuracy)}   loss ${pr.loss.toFixed(4)}   macro F1 ${m.macroF1.toFixed(3)}\n\n`);
  io.stdout.write(table(['class', 'precision', 'recall', 'F1', 'support'], m.classes.map((c) => [printable(c.label), c.precision.toFixed(3), c.recall.toFixed(3), c.f1.toFixed(3), c.support])));
  io.stdout.write('\nconfusion matrix (rows: true class, columns: predicted)\n');
  const shown = labels.map(printable);
  io.stdout.write(table(['', ...shown], m.confusion.map((r, i) => [shown[i], ...r])));
  return 0;
}
