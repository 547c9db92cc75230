// heed explain <model> <text> [--html FILE]: the prediction and which tokens the model attended
// to. Pooling model: its attention weights over the tokens. Transformer: attention rollout
// (Abnar & Zuidema 2020) — each layer's head-averaged weights mixed with the identity for the
// residual path, multiplied through the layers, then averaged over the positions mean pooling
// reads — so a token's share says how much of the pooled representation flows from it.
import { resolve } from 'node:path';
import { init } from '../index.js';
import { probabilities } from '../train/evaluate.js';
import type { Tensor } from '../tensor.js';
import { parse, UsageError } from './args.js';
import { checkOutputPath, loadModelFile, writeOrFail } from './common.js';
import type { Io } from './main.js';
import { bar, heat, useColor } from './ui.js';

const HELP = `usage: heed explain <model.safetensors> <text> [--html FILE] [--json]\n`;

export interface Explanation { label: string; probability: number; probabilities: Record<string, number>; pieces: string[]; weights: number[] }

/** Attention rollout over layers of [H,T,T] weights (batch of one), read by mean pooling. */
export function rollout(layers: Float32Array[], H: number, T: number): number[] {
  let R: Float64Array | null = null;
  for (const A of layers) {
    const M = new Float64Array(T * T);
    for (let h = 0; h < H; h++) for (let i = 0; i < T * T; i++) M[i] += A[h * T * T + i] / H;
    for (let i = 0; i < T; i++) {
      let s = 0;
      for (let j = 0; j < T; j++) { M[i * T + j] = 0.5 * M[i * T + j] + (i === j ? 0.5 : 0); s += M[i * T + j]; }
      if (s > 0) for (let j = 0; j < T; j++) M[i * T + j] /= s;
    }
    if (!R) { R = M; continue; }
    const P = new Float64Array(T * T);   // R ← M · R (later layers act after earlier ones)
    for (let i = 0; i < T; i++) for (let k = 0; k < T; k++) {
      const m = M[i * T + k];
      if (m) for (let j = 0; j < T; j++) P[i * T + j] += m * R[k * T + j];
    }
    R = P;
  }
  const w = new Array<number>(T).fill(0);
  if (!R) return w;
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) w[j] += R[i * T + j] / T;
  return w;
}

export async function explainText(h: Awaited<ReturnType<typeof init>>, file: ReturnType<typeof loadModelFile>, text: string): Promise<Explanation> {
  const { model, tokenizer, labels, maxLen } = file;
  const { pieces, ids } = tokenizer.encodeWithPieces(text, maxLen);
  const T = Math.max(1, ids.length), tokens = new Int32Array(T);
  tokens.set(ids);
  const { logits, attention } = model.forward(tokens, [1, T], { returnAttention: true });
  const probs = probabilities(logits.toArray(), 1, model.config.classes);
  logits.dispose();
  let weights: number[];
  if (Array.isArray(attention)) {
    const H = model.config.kind === 'transformer' ? model.config.heads : 1;
    weights = rollout(attention.map((a: Tensor) => a.toArray()), H, T);
    attention.forEach((a: Tensor) => a.dispose());
  } else {
    weights = Array.from((attention as Tensor).toArray());
    (attention as Tensor).dispose();
  }
  let c = 0;
  for (let k = 1; k < probs.length; k++) if (probs[k] > probs[c]) c = k;
  return {
    label: labels[c], probability: probs[c], probabilities: Object.fromEntries(labels.map((l, k) => [l, probs[k]])),
    pieces, weights: weights.slice(0, pieces.length),
  };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

export function explanationHtml(e: Explanation, text: string): string {
  const max = Math.max(1e-12, ...e.weights);
  const spans = e.pieces.map((p, i) => `<span title="${e.weights[i].toFixed(4)}" style="background:rgba(255,140,0,${(e.weights[i] / max).toFixed(3)})">${esc(p)}</span>`).join(' ');
  const probs = Object.entries(e.probabilities).map(([l, p]) => `<tr><td>${esc(l)}</td><td>${(p * 100).toFixed(1)}%</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>heed explain: ${esc(e.label)}</title>
<style>body{font:16px/1.6 system-ui,sans-serif;max-width:50em;margin:2em auto;padding:0 1em;color:#222}
.tokens span{padding:.1em .2em;border-radius:.2em}.tokens{line-height:2.2}table{border-collapse:collapse}td{padding:.1em .8em .1em 0}
.src{color:#666;font-size:.9em}</style></head>
<body><h1>Prediction: ${esc(e.label)} <small>(${(e.probability * 100).toFixed(1)}%)</small></h1>
<p class="tokens">${spans}</p>
<p>Darker tokens received more attention (hover for the weight).</p>
<table>${probs}</table>
<p class="src">Input: ${esc(text)}</p>
</body></html>
`;
}

export async function explain(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('explain', args, { html: { type: 'string' }, json: { type: 'boolean' }, backend: { type: 'string' } });
  if (v.help) { io.stdout.write(HELP); return 0; }
  if (positionals.length < 2) throw new UsageError('explain: expected <model.safetensors> <text>');
  const text = positionals.slice(1).join(' ');
  const htmlPath = v.html === undefined ? null : resolve(io.cwd, String(v.html));
  if (htmlPath) checkOutputPath(htmlPath, '--html');
  const h = await init(v.backend ? { backend: v.backend as 'wasm' } : {});
  const file = loadModelFile(h, resolve(io.cwd, positionals[0]));
  const e = await explainText(h, file, text);
  if (htmlPath) writeOrFail(htmlPath, 'the HTML page', explanationHtml(e, text));
  if (v.json) {
    io.stdout.write(JSON.stringify(e) + '\n');
    return 0;
  }
  const color = useColor(io.stdout), max = Math.max(1e-12, ...e.weights);
  io.stdout.write(`prediction: ${e.label} (${(e.probability * 100).toFixed(1)}%)\n`);
  if (e.pieces.length === 0) { io.stdout.write('(no tokens)\n'); return 0; }
  if (color) io.stdout.write(e.pieces.map((p, i) => heat(p, e.weights[i] / max, true)).join(' ') + '\n');
  const top = e.pieces.map((p, i) => [p, e.weights[i]] as const).sort((a, b) => b[1] - a[1]).slice(0, 8);
  const w = Math.max(...top.map(([p]) => [...p].length));
  io.stdout.write('most attended tokens:\n' + top.map(([p, x]) => `  ${p.padEnd(w)}  ${x.toFixed(3)} ${bar(x / max, 20)}`).join('\n') + '\n');
  if (htmlPath) io.stdout.write(`wrote ${htmlPath}\n`);
  return 0;
}
