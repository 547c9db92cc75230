// heed's language-model commands: `heed train --task lm` (a causalLM on a plain text file, one
// example per line or windows of a running text: src/data/corpus.ts), `heed generate` (samples
// from the model it saves) and what `heed eval` (loss in nats per predicted token) and `heed
// explain` (the next token and the attention of that prediction over its context) do with it.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { corpusLines, corpusStream, decodeIds, lineExamples, MARKER, unknownTargets, windowExamples, windowStarts, type CorpusMode } from '../data/corpus.js';
import { packedInOrder, stratifiedSplit, type PackedDataset } from '../data/dataset.js';
import { Tokenizer, UNK_ID } from '../data/tokenizer.js';
import { HeedError } from '../errors.js';
import type { Context } from '../context.js';
import { explanationHtml, type Explanation } from '../classifier/explain.js';
import type { Tensor } from '../tensor.js';
import { generate as generateIds } from '../generate.js';
import { init } from '../index.js';
import { loadModel, saveModel } from '../io/model-file.js';
import { decodeSafetensors } from '../io/safetensors.js';
import type { DecoderConfig, Model } from '../nn/model.js';
import { predictBatches } from '../train/evaluate.js';
import type { FitResult, ModelOptions } from '../train/fit.js';
import type { EpochInfo, StepInfo } from '../train/loop.js';
import { floatFlag, intFlag, parse, UsageError } from './args.js';
import { fsProblem, writeOrFail } from './common.js';
import type { Io } from './main.js';
import { tokenizerOptions, type TrainFlags } from './train-flags.js';
import { History } from './train-report.js';
import { bar, duration, heat, jsonLine, printable, secs, table, useColor } from './ui.js';

/** Line mode's longest context when --max-len is not given: lines past it are cut. */
const LINE_CAP = 256;

/** What a language-model file stores besides the weights (metadata "training"): how its text was
 *  read, so generate and eval read text the same way. */
interface LmTraining { task: 'lm'; mode: CorpusMode; marker: number; tokenizer: 'char' | 'word'; context: number }

function readCorpus(file: string): string[] {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new HeedError(`${file}: ${fsProblem(e)}`);
  }
  return corpusLines(bytes, file);
}

/** Characters the text of `lines` holds, a line break counted for each: bits/char's denominator. */
const charsOf = (lines: readonly string[], rows: ArrayLike<number>) => Array.from(rows, (i) => [...lines[i]].length + 1).reduce((a, b) => a + b, 0);

/** The examples of `rows` (lines or windows); `cut` counts the lines longer than the context. */
interface Examples { data: PackedDataset; cut: number }

const perplexity = (loss: number) => Math.exp(loss);

/** Progress for a language model: loss per token and perplexity (accuracy says little here). */
class LmProgress {
  #last = 0;
  #active = false;
  constructor(private readonly out: Io['stderr']) {}
  step(i: StepInfo): void {
    if (!this.out.isTTY) return;
    const now = Date.now();
    if (now - this.#last < 80 && i.step !== i.steps) return;
    this.#last = now;
    this.out.write(`\r\x1b[2Kepoch ${i.epoch}/${i.epochs} ${bar(i.step / i.steps, 24)} ${i.step}/${i.steps}  loss/token ${i.loss.toFixed(4)}  ppl ${perplexity(i.loss).toFixed(2)}  ETA ${duration(i.etaSeconds)}`);
    this.#active = true;
  }
  epoch(e: EpochInfo, epochs: number): void {
    this.clear();
    const val = e.valLoss !== undefined ? `  val loss/token ${e.valLoss.toFixed(4)}  val ppl ${perplexity(e.valLoss).toFixed(2)}` : '';
    this.out.write(`epoch ${e.epoch}/${epochs}  loss/token ${e.loss.toFixed(4)}  ppl ${perplexity(e.loss).toFixed(2)}${val}  ${secs(e.seconds)}\n`);
  }
  clear(): void {
    if (this.#active) this.out.write('\r\x1b[2K');
    this.#active = false;
  }
}

/** heed train --task lm. */
export async function trainLm(file: string, f: TrainFlags, io: Io, h: Context): Promise<number> {
  const log = (s: string) => { if (!f.quiet) io.stderr.write(s); };
  const lines = readCorpus(file);
  const mode: CorpusMode = f.context === null ? 'lines' : 'windows';
  const tokType = f.tokenizer === 'word' ? 'word' : 'char';
  // The vocabulary is every piece of the file (makemore's): a character seen only in the
  // validation lines is not an unknown the model could never predict.
  const tokenizer = Tokenizer.build(lines, tokenizerOptions(f));
  if (tokenizer.vocabSize <= 2) throw new HeedError(`${file}: the ${tokType} tokenizer finds no piece seen often enough to learn (${tokType === 'word' ? 'words seen once are left out; try --tokenizer char' : 'no characters'})`);
  let maxLen: number, count: number, examples: (rows: ArrayLike<number>) => Examples, chars: (rows: ArrayLike<number>) => number;
  if (mode === 'lines') {
    const longest = lines.reduce((m, l) => Math.max(m, tokenizer.encode(l).length + 1), 1);
    maxLen = f.maxLen ?? Math.min(LINE_CAP, longest);
    count = lines.length;
    examples = (rows) => lineExamples(tokenizer, lines, rows, maxLen);
    chars = (rows) => charsOf(lines, rows);
  } else {
    const stream = corpusStream(tokenizer, lines), context = f.context!;
    maxLen = context;
    count = windowStarts(stream.length, context).length;
    if (count < 2 && f.valSplit > 0) throw new HeedError(`${file}: ${stream.length} tokens make ${count} window${count === 1 ? '' : 's'} of --context ${context}; give more text or a shorter --context`);
    examples = (rows) => ({ data: windowExamples(stream, context, rows), cut: 0 });
    // A window predicts the ids after its first; their text is a share of the file's characters.
    const perToken = charsOf(lines, Int32Array.from(lines.keys())) / Math.max(1, stream.length);
    chars = (rows) => Array.from(rows, (k) => Math.min(context, stream.length - 1 - k * context)).reduce((a, b) => a + b, 0) * perToken;
  }
  const split = stratifiedSplit(new Int32Array(count), f.valSplit, f.seed);
  const train = examples(split.train), val = split.val.length ? examples(split.val) : null;
  const unk = unknownTargets(train.data);
  if (unk.unknown > 0.5 * unk.targets) io.stderr.write(`heed: warning: ${Math.round((100 * unk.unknown) / unk.targets)}% of the tokens to predict are unknown to the ${tokType} vocabulary; try --tokenizer char\n`);
  const modelOptions: ModelOptions = { kind: 'decoder', vocabSize: tokenizer.vocabSize, maxLen, dModel: f.dModel, heads: 4, layers: 2, seed: f.seed };
  log(`${lines.length} lines; ${mode === 'lines' ? `one example per line, max length ${maxLen}` : `${count} windows of ${maxLen} tokens`}; ${tokType} vocabulary ${tokenizer.vocabSize}\n`);
  log(`train ${split.train.length} ${mode === 'lines' ? 'lines' : 'windows'}, validation ${split.val.length}; causal LM, d ${f.dModel}, 4 heads, 2 layers on ${h.backend}\n`);
  if (train.cut > 0) log(`heed: ${train.cut} training lines are longer than ${maxLen} tokens and are cut there\n`);
  const progress = new LmProgress(io.stderr), history = new History();
  const packed = (d: PackedDataset) => ({ tokens: d.tokens, offsets: d.offsets, labels: d.targets.labels as Int32Array });
  const settings = {
    batchSize: f.batchSize, lr: f.lr, warmup: 0.05, schedule: 'cosine' as const, weightDecay: f.weightDecay, tokenDropout: 0,
    clipNorm: 1, maxLen, seed: f.seed, threads: f.threads, onStep: f.quiet ? undefined : (i: StepInfo) => progress.step(i),
  };
  const fitted = async (run: { done: Promise<FitResult> }) => { try { return await run.done; } finally { progress.clear(); } };
  const first = await fitted(h.fit({
    ...settings, modelOptions, data: packed(train.data), validation: val ? packed(val.data) : undefined, epochs: f.epochs, patience: val ? f.patience : 0,
    onEpoch: (e: EpochInfo) => { history.add(e); if (!f.quiet) progress.epoch(e, f.epochs); },
  }));
  let model: Model = first.model;
  const epochs = first.bestEpoch ?? first.history.length;
  const kept = first.history.find((e) => e.epoch === epochs);
  const valLoss = kept?.valLoss ?? null;
  // bits/char: the validation text's nats over its characters (a line break each), in bits.
  const bitsPerChar = valLoss !== null && val ? (valLoss * unknownTargets(val.data).targets) / Math.LN2 / chars(split.val) : null;
  const refitted = f.refit && !!val;
  if (refitted) {
    log(`refitting on all ${count} ${mode === 'lines' ? 'lines' : 'windows'} for ${epochs} epoch${epochs === 1 ? '' : 's'} (the best on validation)\n`);
    const all = examples(Int32Array.from({ length: count }, (_, i) => i));
    const again = await fitted(h.fit({ ...settings, modelOptions, data: packed(all.data), epochs }));
    model.dispose();
    model = again.model;
  }
  const training: LmTraining & Record<string, unknown> = {
    task: 'lm', mode, marker: MARKER, tokenizer: tokType, context: maxLen, lr: f.lr, weightDecay: f.weightDecay, epochs,
    examples: refitted ? count : split.train.length, validationLoss: valLoss, validationBitsPerChar: bitsPerChar,
  };
  writeOrFail(f.out, 'the model', saveModel(model, { tokenizer: tokenizer.toJSON(), labels: vocabLabels(tokenizer), training }));
  const rows = history.rows();
  if (!f.quiet && rows.length) {
    io.stderr.write('\n' + table(['epoch', 'loss/token', 'val loss/token', 'val ppl', 'time'], rows.map((e) => [
      e.epoch, e.loss.toFixed(4), e.valLoss?.toFixed(4) ?? '', e.valLoss === undefined ? '' : perplexity(e.valLoss).toFixed(2), secs(e.seconds)])));
  }
  const score = valLoss !== null ? `validation loss ${valLoss.toFixed(4)} nats/token (perplexity ${perplexity(valLoss).toFixed(2)}, ${bitsPerChar!.toFixed(3)} bits/char)` : null;
  const how = refitted ? `trained on all ${count} for ${epochs} epoch${epochs === 1 ? '' : 's'}${score ? `; before the refit, ${score}` : ''}`
    : `trained on ${split.train.length}${score ? `, ${score}` : ''}`;
  io.stdout.write(`saved ${f.out} (${model.parameterCount.toLocaleString('en')} parameters; ${tokType} tokenizer, causal LM, context ${maxLen}; ${how})\n`);
  model.dispose();
  return 0;
}

/** A language model's "labels": one per logit, the vocabulary entry it predicts (the marker's
 *  reads '<end>'). */
function vocabLabels(t: Tokenizer): string[] {
  return Array.from({ length: t.vocabSize }, (_, i) => (i === MARKER ? '<end>' : t.pieceOf(i)));
}

/** A model file's causal LM, its tokenizer and how it reads text; anything else is refused,
 *  naming the file and what it is. */
export function openLm(h: Context, path: string, command: string): { model: Model<DecoderConfig>; tokenizer: Tokenizer; mode: CorpusMode } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new HeedError(`${path}: ${fsProblem(e)}`);
  }
  const loaded = h.atomic(() => loadModel(h, bytes, path));
  const model = loaded.model;
  if (model.config.kind !== 'decoder') {
    model.dispose();
    throw new HeedError(`${path}: this is a ${model.config.kind} model, not a language model; ${command} reads the causal LMs 'heed train --task lm' saves`);
  }
  const meta = trainingOf(bytes);
  let tokenizer: Tokenizer;
  try {
    tokenizer = Tokenizer.fromJSON(loaded.tokenizer);
  } catch (e) {
    model.dispose();
    throw new HeedError(`${path}: the tokenizer in the file is invalid: ${(e as Error).message}`);
  }
  return { model: model as Model<DecoderConfig>, tokenizer, mode: meta?.mode === 'windows' ? 'windows' : 'lines' };
}

/** The "training" metadata of a model file (null when absent or not JSON). */
function trainingOf(bytes: Uint8Array): Partial<LmTraining> | null {
  try {
    const training = decodeSafetensors(bytes).metadata.training;
    return training === undefined ? null : JSON.parse(training) as Partial<LmTraining>;
  } catch {
    return null;
  }
}

const GENERATE_HELP = `usage: heed generate <model.safetensors> [options]

Samples text from a language model trained with 'heed train --task lm', one sample per line (a
model trained with --context: samples of running text, separated by a blank line).

  --prompt TEXT          the text each sample continues (default: none, a new line)
  -n N                   samples (default 5)
  --temperature T        divides the logits before sampling (default 1; 0 or less: greedy, the most
                         likely token every step, so every sample is the same)
  --top-k K              sample among the K most likely tokens only (default: all)
  --top-p P              sample among the most likely tokens whose probabilities add up to P, in (0, 1]
                         (default 1: all)
  --seed S               the same seed gives the same text (default 0)
  --max-tokens M         new tokens per sample at most (default: what the model's context leaves)
  --backend B            wasm-relaxed, wasm, wasm-scalar or js
`;

/** heed generate. */
export async function generate(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('generate', args, {
    prompt: { type: 'string' }, n: { type: 'string', short: 'n' }, temperature: { type: 'string' }, 'top-k': { type: 'string' },
    'top-p': { type: 'string' }, seed: { type: 'string' }, 'max-tokens': { type: 'string' }, backend: { type: 'string' },
  });
  if (v.help) { io.stdout.write(GENERATE_HELP); return 0; }
  if (positionals.length !== 1) throw new UsageError(`generate: expected one model file (heed generate <model.safetensors>), got ${positionals.length} arguments`);
  const samples = intFlag(v.n, 'n', 5, 1, 10000);
  const temperature = floatFlag(v.temperature, 'temperature', 1, (x) => Number.isFinite(x), 'a finite number (0 or less: greedy)');
  const topP = floatFlag(v['top-p'], 'top-p', 1, (x) => x > 0 && x <= 1, 'a number in (0, 1]');
  const topK = v['top-k'] === undefined ? undefined : intFlag(v['top-k'], 'top-k', 0, 1);
  const seed = intFlag(v.seed, 'seed', 0, 0, 2 ** 31 - 1);
  const maxTokens = v['max-tokens'] === undefined ? undefined : intFlag(v['max-tokens'], 'max-tokens', 0, 1);
  const prompt = v.prompt === undefined ? '' : String(v.prompt);
  const h = await init(v.backend ? { backend: v.backend as 'wasm' } : {});
  const path = resolve(io.cwd, positionals[0]);
  const { model, tokenizer, mode } = openLm(h, path, 'generate');
  try {
    const ids = tokenizer.encode(prompt);
    const unknown = ids.filter((t) => t === UNK_ID).length;
    if (unknown > 0) io.stderr.write(`heed: the prompt has ${unknown} piece${unknown === 1 ? '' : 's'} the model never saw (read as unknown)\n`);
    const start = Int32Array.from([MARKER, ...ids]);
    const maxLen = model.config.maxLen;
    // A prompt longer than the context keeps its end: what the next token depends on.
    const context = start.length > maxLen ? start.subarray(start.length - maxLen) : start;
    if (start.length > maxLen) io.stderr.write(`heed: the prompt has more than the model's ${maxLen - 1} tokens of context; only its last ${maxLen} tokens are read\n`);
    const room = maxLen - context.length + 1;
    if (maxTokens !== undefined && maxTokens > room) io.stderr.write(`heed: the model's context of ${maxLen} tokens leaves room for ${room} new tokens after the prompt; --max-tokens ${maxTokens} is cut to ${room}\n`);
    const steps = Math.min(maxTokens ?? room, room);
    const out: number[][] = Array.from({ length: samples }, () => []);
    for await (const piece of generateIds(model, context, { samples, temperature, topK, topP, seed, maxTokens: steps, stop: mode === 'lines' ? MARKER : undefined })) {
      piece.tokens.forEach((t, s) => { if (t >= 0) out[s].push(t); });
    }
    const head = decodeIds(tokenizer, ids, mode);
    const join = (tail: number[]) => {
      const rest = decodeIds(tokenizer, tail, mode);
      const sep = tokenizer.type === 'word' && head && rest && !rest.startsWith('\n') ? ' ' : '';
      return head + sep + rest;
    };
    io.stdout.write(mode === 'lines' ? out.map((s) => printable(join(s)) + '\n').join('') : out.map(join).join('\n\n') + '\n');
    return 0;
  } finally {
    model.dispose();
  }
}

/** heed eval on a causal LM: mean nats per predicted token over a text file read the way the
 *  model was trained (line mode: each line's pieces and its end marker; the begin marker is not
 *  predicted), perplexity and bits per character. */
export async function evaluateLm(h: Context, modelPath: string, textPath: string, json: boolean, batchSize: number, io: Io): Promise<number> {
  const { model, tokenizer, mode } = openLm(h, modelPath, 'eval');
  try {
    const lines = readCorpus(textPath), all = Int32Array.from(lines.keys());
    let data: PackedDataset, cut = 0, chars: number;
    const maxLen = model.config.maxLen;
    if (mode === 'lines') {
      ({ data, cut } = lineExamples(tokenizer, lines, all, maxLen));
      chars = charsOf(lines, all);
    } else {
      const stream = corpusStream(tokenizer, lines);
      data = windowExamples(stream, maxLen, windowStarts(stream.length, maxLen).map((_, k) => k));
      chars = charsOf(lines, all) * (stream.length - 1) / stream.length;
    }
    const { targets, unknown } = unknownTargets(data);
    if (targets === 0) throw new HeedError(`${textPath}: has no token to predict`);
    const pr = predictBatches(model, packedInOrder(data, batchSize, maxLen));
    const bitsPerChar = (pr.loss * pr.n) / Math.LN2 / chars;
    if (json) {
      io.stdout.write(jsonLine({ loss: pr.loss, perplexity: perplexity(pr.loss), bitsPerChar, tokens: pr.n, unknownTokens: unknown, lines: lines.length, cutLines: cut, mode }));
      return 0;
    }
    io.stdout.write(`${textPath}: ${lines.length} lines, ${pr.n} predicted tokens${unknown ? ` (${unknown} unknown to the model's vocabulary)` : ''}${cut ? `; ${cut} lines longer than the model's ${maxLen} tokens, cut there` : ''}\n`
      + `loss ${pr.loss.toFixed(4)} nats/token   perplexity ${perplexity(pr.loss).toFixed(2)}   ${bitsPerChar.toFixed(3)} bits/char\n`);
    return 0;
  } finally {
    model.dispose();
  }
}

/** Attention rollout (src/classifier/explain.ts's: head-averaged weights mixed half and half with
 *  the identity for the residual path, rows renormalised) read at the last position only: that
 *  row of M_L ⋯ M_1 is e_last · M_L ⋯ M_1, a vector times each layer's matrix from the top down,
 *  so one row costs L·T² rather than the full product's L·T³. */
export function lastRowRollout(layers: Float32Array[], H: number, T: number): number[] {
  let v = new Float64Array(T);
  v[T - 1] = 1;
  for (let l = layers.length - 1; l >= 0; l--) {
    const A = layers[l], next = new Float64Array(T);
    for (let i = 0; i < T; i++) {
      if (v[i] === 0) continue;
      const row = new Float64Array(T);
      let s = 0;
      for (let j = 0; j < T; j++) {
        let a = 0;
        for (let h = 0; h < H; h++) a += A[(h * T + i) * T + j] / H;
        s += row[j] = 0.5 * a + (i === j ? 0.5 : 0);
      }
      for (let j = 0; j < T; j++) next[j] += (v[i] * row[j]) / s;
    }
    v = next;
  }
  return Array.from(v);
}

/** How many next-token candidates explain lists. */
const EXPLAIN_TOP = 5;

/** heed explain on a causal LM: the most likely next tokens after a text, and the attention
 *  (rollout, read at the last position) of that prediction over the text's tokens. */
export async function explainLm(path: string, text: string, htmlPath: string | null, json: boolean, backend: string | boolean | undefined, io: Io): Promise<number> {
  const h = await init(backend ? { backend: backend as 'wasm' } : {});
  const { model, tokenizer, mode } = openLm(h, path, 'explain');
  try {
    const enc = tokenizer.encodeWithPieces(text), maxLen = model.config.maxLen, V = model.config.vocabSize;
    // The start marker, then the text's last maxLen − 1 tokens: what the next token depends on.
    const keep = Math.min(enc.ids.length, maxLen - 1), truncated = keep < enc.ids.length;
    const ids = Int32Array.from([MARKER, ...enc.ids.subarray(enc.ids.length - keep)]);
    const pieces = [mode === 'lines' ? '<start>' : '<line break>', ...enc.pieces.slice(enc.pieces.length - keep)];
    const T = ids.length;
    const { logits, attention } = model.forward(ids, [1, T], { returnAttention: true });
    const z = logits.toArray().subarray((T - 1) * V, T * V);
    logits.dispose();
    const maps = attention as Tensor[];
    const weights = lastRowRollout(maps.map((a) => a.toArray()), maps[0].shape[1], T);
    maps.forEach((a) => a.dispose());
    const top = Math.max(...z), exp = Array.from(z, (x) => Math.exp(x - top)), total = exp.reduce((a, b) => a + b, 0);
    const next = exp.map((e, id) => ({ token: id === MARKER ? (mode === 'lines' ? '<end>' : '\n') : tokenizer.pieceOf(id), probability: e / total }))
      .sort((a, b) => b.probability - a.probability).slice(0, EXPLAIN_TOP);
    const e: Explanation = {
      label: next[0].token, probability: next[0].probability, probabilities: Object.fromEntries(next.map((n) => [n.token, n.probability])), truncated, pieces, weights,
    };
    if (htmlPath) writeOrFail(htmlPath, 'the HTML page', explanationHtml(e, text));
    if (json) {
      io.stdout.write(jsonLine({ next, pieces, weights, truncated }));
      return 0;
    }
    const color = useColor(io.stdout), max = Math.max(1e-12, ...weights), shownPieces = pieces.map(printable);
    io.stdout.write(`next token: ${next.map((n) => `${JSON.stringify(printable(n.token))} ${(n.probability * 100).toFixed(1)}%`).join(', ')}\n`);
    if (truncated) io.stdout.write(`note: the text has more than the model's ${maxLen - 1} tokens of context; only its last ${keep} were read\n`);
    if (color) io.stdout.write(shownPieces.map((p, i) => heat(p, weights[i] / max, true)).join(' ') + '\n');
    const ranked = shownPieces.map((p, i) => [`${p} (${i})`, weights[i]] as const).sort((a, b) => b[1] - a[1]).slice(0, 8);
    const w = Math.max(...ranked.map(([p]) => [...p].length));
    io.stdout.write('attention of that prediction over its context (rollout), most attended tokens:\n'
      + ranked.map(([p, x]) => `  ${p.padEnd(w)}  ${x.toFixed(3)} ${bar(x / max, 20)}`).join('\n') + '\n');
    if (htmlPath) io.stdout.write(`wrote ${htmlPath}\n`);
    return 0;
  } finally {
    model.dispose();
  }
}
