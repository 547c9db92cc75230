// heed explain <model> <text> [--html FILE]: the prediction and which tokens the model attended
// to (attention rollout for the transformer, the pooling weights for the pooling model; see
// src/infer/explain.ts, which heed/infer shares). A language model's next token: src/cli/lm.ts.
import { resolve } from 'node:path';
import { explanationHtml } from '../classifier/explain.js';
import { init } from '../infer.js';
import { isLanguageModel } from './lm-file.js';
import { parse, UsageError } from './args.js';
import { checkOutputPath, fileFlag, loadModelFile, writeOrFail } from './common.js';
import type { Io } from './main.js';
import { bar, heat, jsonLine, printable, useColor } from './ui.js';

const HELP = `usage: heed explain <model.safetensors> <text> [--html FILE] [--json]\n`;

export async function explain(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('explain', args, { html: { type: 'string' }, json: { type: 'boolean' }, backend: { type: 'string' } });
  if (v.help) { io.stdout.write(HELP); return 0; }
  if (positionals.length < 2) throw new UsageError('explain: expected <model.safetensors> <text>');
  const text = positionals.slice(1).join(' ');
  const htmlPath = v.html === undefined ? null : resolve(io.cwd, fileFlag(String(v.html), '--html'));
  if (htmlPath) checkOutputPath(htmlPath, '--html', [resolve(io.cwd, positionals[0])]);
  if (isLanguageModel(resolve(io.cwd, positionals[0]))) return (await import('./lm.js')).explainLm(resolve(io.cwd, positionals[0]), text, htmlPath, !!v.json, v.backend, io);
  const h = await init(v.backend ? { backend: v.backend as 'wasm' } : {});
  const file = loadModelFile(h, resolve(io.cwd, positionals[0]), 'explain');
  const e = file.explain(text);
  if (htmlPath) writeOrFail(htmlPath, 'the HTML page', explanationHtml(e, text));
  if (v.json) {
    io.stdout.write(jsonLine(e));
    return 0;
  }
  const color = useColor(io.stdout), max = Math.max(1e-12, ...e.weights);
  io.stdout.write(`prediction: ${printable(e.label)} (${(e.probability * 100).toFixed(1)}%)\n`);
  if (e.truncated) io.stdout.write(`note: the text has more than ${file.maxLen} tokens; only the first ${file.maxLen} were read\n`);
  const pieces = e.pieces.map(printable);
  if (color) io.stdout.write(pieces.map((p, i) => heat(p, e.weights[i] / max, true)).join(' ') + '\n');
  const top = pieces.map((p, i) => [p, e.weights[i]] as const).sort((a, b) => b[1] - a[1]).slice(0, 8);
  const w = Math.max(...top.map(([p]) => [...p].length));
  io.stdout.write('most attended tokens:\n' + top.map(([p, x]) => `  ${p.padEnd(w)}  ${x.toFixed(3)} ${bar(x / max, 20)}`).join('\n') + '\n');
  if (htmlPath) io.stdout.write(`wrote ${htmlPath}\n`);
  return 0;
}
