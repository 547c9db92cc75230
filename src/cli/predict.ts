// heed predict <model> [text ...]: label and probability for each text (stdin lines when no text
// is given), tab-separated: label, probability, text. --json prints one JSON object per line.
import { resolve } from 'node:path';
import { argmaxRows } from '../infer/probabilities.js';
import { predictProbabilities } from '../infer/classifier.js';
import { init } from '../infer.js';
import { parse } from './args.js';
import { loadModelFile, readStdin } from './common.js';
import type { Io } from './main.js';
import { UsageError } from './args.js';

const HELP = `usage: heed predict <model.safetensors> [text ...] [--json]\n  Reads one text per line from stdin when no text is given.\n`;

export async function predict(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('predict', args, { json: { type: 'boolean' }, backend: { type: 'string' } });
  if (v.help) { io.stdout.write(HELP); return 0; }
  if (positionals.length < 1) throw new UsageError('predict: missing the model file (heed predict <model.safetensors> [text ...])');
  const h = await init(v.backend ? { backend: v.backend as 'wasm' } : {});
  const file = loadModelFile(h, resolve(io.cwd, positionals[0])), { labels } = file;
  let texts = positionals.slice(1);
  if (texts.length === 0) {
    if (!io.stdin) throw new UsageError('predict: no text given and no stdin to read');
    texts = (await readStdin(io.stdin)).split(/\r?\n/);
    if (texts.length && texts[texts.length - 1] === '') texts.pop();
  }
  const K = labels.length;
  for (let start = 0; start < texts.length; start += 256) {
    const chunk = texts.slice(start, start + 256);
    const probs = predictProbabilities(file, chunk), predicted = argmaxRows(probs, chunk.length, K);
    let out = '';
    for (let i = 0; i < chunk.length; i++) {
      const c = predicted[i], p = probs[i * K + c];
      if (v.json) {
        const probabilities = Object.fromEntries(labels.map((l, k) => [l, Number(probs[i * K + k].toFixed(6))]));
        out += JSON.stringify({ text: chunk[i], label: labels[c], probability: Number(p.toFixed(6)), probabilities }) + '\n';
      } else {
        out += `${labels[c]}\t${p.toFixed(4)}\t${chunk[i].replace(/[\t\r\n]+/g, ' ')}\n`;
      }
    }
    io.stdout.write(out);
  }
  return 0;
}
