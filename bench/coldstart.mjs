// Cold start of the edge handler: a fresh Node process, from its first line to the first answer of
// POST /predict, for heed (examples/edge/handler.mjs) and for TensorFlow.js running the same model
// (same weights, vocabulary, dModel and classes) behind the same kind of fetch handler.
//
// Each run spawns `node --input-type=module -e <script>`; the script notes performance.now() (ms
// since Node's time origin, i.e. process start) on its first line, imports the handler module,
// gives it the wasm and the model file (read from disk and compiled inside the timed region: in
// Node nobody compiles them for us), sends one POST /predict {"text": ...} and reads the JSON
// answer. Reported per variant: "import → answer" (first line of the script to the parsed answer),
// "start → answer" (process time origin to the same point) and "spawn → answer" (the parent's
// clock, from spawn() to the answer's line on stdout: also counts exec and Node's bootstrap before
// its time origin). Runs alternate between variants so drift on a shared machine hits all alike;
// one untimed warm-up round first (disk cache). Median and p90 (nearest rank) over --runs.
//
// Variants:
//   heed          examples/edge/handler.mjs (heed/infer bundle + heed/wasm/simd.wasm, init({ module }))
//   tfjs          @tensorflow/tfjs-core + @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD build): the
//                 same model written with tfjs ops over the weights from a model.json + weights.bin
//                 (tfjs's artifact layout, Linear weights stored [in, out] as tf.layers.dense keeps
//                 them); the leanest tfjs setup, no tfjs-layers
//   tfjs-full     the same, importing the @tensorflow/tfjs umbrella package as most users do
//   node          an empty script: Node's own start, for reference
// With heed, each round also runs one process per model that calls heed/infer directly and times
// its phases (import, first Request, reads, compile, init, loadClassifier, first and second
// explain): where heed's cold start goes.
// Both handlers tokenize with heed's Tokenizer (pure JS, dist/data/tokenizer.js) and compute the
// transformer's attention rollout with heed's rollout(), so only the model runtime differs. Each
// variant's first answer is checked against heed's (probabilities and attention weights).
//
// Models: the edge example's (make_model.mjs: heed train on examples/fortunes5.csv, pooling, d 64,
// vocab 4,404, 5 classes) and a transformer of the CLI's default shape on the same data (d 64,
// 4 heads, ff 128, 2 layers, maxLen 61; one epoch: the weights' values do not change the timing).
//
// Usage: npm run build && node bench/coldstart.mjs [--runs 10] [--models pooling,transformer]
//          [--variants heed,tfjs,tfjs-full,node] [--write bench/coldstart.md] [--json]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TEXT = 'My program compiles, but the unit tests keep failing on the new server.';
const usage = 'usage: node bench/coldstart.mjs [--runs N] [--models pooling,transformer] [--variants heed,tfjs,tfjs-full,node] [--write FILE] [--json]';

let opts;
try {
  opts = parseArgs({
    options: {
      runs: { type: 'string', default: '10' }, models: { type: 'string', default: 'pooling,transformer' },
      variants: { type: 'string', default: 'heed,tfjs,tfjs-full,node' }, write: { type: 'string' }, json: { type: 'boolean', default: false },
    },
  }).values;
} catch (e) {
  console.error(`${e.message}\n${usage}`);
  process.exit(2);
}
const RUNS = Number(opts.runs);
const MODELS = opts.models.split(',').filter(Boolean);
const VARIANTS = opts.variants.split(',').filter(Boolean);
if (!Number.isInteger(RUNS) || RUNS < 1) { console.error(`--runs must be a positive integer\n${usage}`); process.exit(2); }
for (const m of MODELS) if (!['pooling', 'transformer'].includes(m)) { console.error(`unknown model ${m}\n${usage}`); process.exit(2); }
for (const v of VARIANTS) if (!['heed', 'tfjs', 'tfjs-full', 'node'].includes(v)) { console.error(`unknown variant ${v}\n${usage}`); process.exit(2); }
for (const f of ['dist/bundle/infer.js', 'dist/index.js', 'dist/cli/main.js', 'build/simd.wasm']) {
  if (!existsSync(join(ROOT, f))) { console.error(`${f} is missing: run npm run build first`); process.exit(1); }
}
const log = opts.json ? () => {} : (s) => console.log(s);

// --- setup (not timed): the model files, the tfjs artifacts, the tfjs handler module -----------

const tmp = mkdtempSync(join(os.tmpdir(), 'heed-coldstart-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const url = (p) => pathToFileURL(p).href;
const resolved = (spec) => import.meta.resolve(spec);   // file: URLs, so children need no resolver

const { makeModel } = await import('../examples/edge/make_model.mjs');
const heed = await import('../dist/index.js');
const h = await heed.init({ backend: 'wasm' });

/** The tfjs artifacts of a heed model file: model.json (config, labels, tokenizer, weights
 *  manifest) and weights.bin, Linear weights transposed to tfjs's [in, out]. */
function toTfjs(file, dir) {
  const { model, tokenizer, labels } = h.loadModel(readFileSync(file));
  const dict = model.stateDict(), specs = [], parts = [];
  const linear = (name) => /(^|\.)(head|attn|out_proj|linear1|linear2)\.weight$|in_proj_weight$/.test(name);
  for (const [name, { shape, data }] of Object.entries(dict)) {
    let s = shape, d = data;
    if (linear(name)) {                       // [out, in] → [in, out]
      const [o, i] = shape;
      d = new Float32Array(o * i);
      for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) d[c * o + r] = data[r * i + c];
      s = [i, o];
    }
    specs.push({ name, shape: s, dtype: 'float32' });
    parts.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
  }
  const config = model.config;
  model.dispose();
  writeFileSync(join(dir, 'weights.bin'), Buffer.concat(parts));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({
    format: 'heed-coldstart-tfjs', config, labels, tokenizer,
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  }));
  return { config, params: Object.values(dict).reduce((n, t) => n + t.data.length, 0) };
}

// The tfjs handler: the same routes and answer as examples/edge/handler.mjs for POST /predict,
// with tfjs doing the model. Written into the temp directory with its imports as file: URLs.
const tfjsHandler = (core, extra) => `
import * as tf from ${JSON.stringify(core)};
${extra.map((u) => `import ${JSON.stringify(u)};`).join('\n')}
import { Tokenizer } from ${JSON.stringify(url(join(ROOT, 'dist/data/tokenizer.js')))};
import { rollout } from ${JSON.stringify(url(join(ROOT, 'dist/classifier/explain.js')))};

const layerNorm = (x, g, b) => { const { mean, variance } = tf.moments(x, -1, true); return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b); };
const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3)))))));
const dense = (x, W, name) => tf.add(tf.matMul(x, W[name + '.weight'] ?? W[name + '_weight']), W[name + '.bias'] ?? W[name + '_bias']);

/** Pooling: e = embed(tok); w = softmax(attn(e)); logits = head(Σ w·e). Returns [probs, weights]. */
function pooling(W, ids) {
  return tf.tidy(() => {
    const e = tf.gather(W['embed.weight'], tf.tensor1d(ids, 'int32'));
    const w = tf.softmax(tf.reshape(dense(e, W, 'attn'), [1, -1]));
    return [tf.softmax(dense(tf.matMul(w, e), W, 'head')), w];
  });
}

/** The pre-norm transformer (heed's transformerClassifier) for one text: [probs, ...attention [H,T,T]]. */
function transformer(W, ids, c) {
  return tf.tidy(() => {
    const T = ids.length, d = c.dModel, H = c.heads, D = d / H, atts = [];
    let x = tf.add(tf.gather(W['embed.weight'], tf.tensor1d(ids, 'int32')), tf.slice(W['pos_embed.weight'], [0, 0], [T, d]));
    const heads = (t) => tf.transpose(tf.reshape(t, [T, H, D]), [1, 0, 2]);
    for (let l = 0; l < c.layers; l++) {
      const p = 'layers.' + l + '.';
      const [q, k, v] = tf.split(dense(layerNorm(x, W[p + 'norm1.weight'], W[p + 'norm1.bias']), W, p + 'self_attn.in_proj'), 3, 1).map(heads);
      const a = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)));
      atts.push(a);
      const o = tf.reshape(tf.transpose(tf.matMul(a, v), [1, 0, 2]), [T, d]);
      x = tf.add(x, dense(o, W, p + 'self_attn.out_proj'));
      const f = dense(gelu(dense(layerNorm(x, W[p + 'norm2.weight'], W[p + 'norm2.bias']), W, p + 'linear1')), W, p + 'linear2');
      x = tf.add(x, f);
    }
    const pooled = tf.mean(layerNorm(x, W['norm.weight'], W['norm.bias']), 0, true);
    return [tf.softmax(dense(pooled, W, 'head')), ...atts];
  });
}

export function createHandler({ modelJson, weights }) {
  let ready = null;
  async function load() {
    await tf.setBackend('wasm');
    await tf.ready();
    const [json, bin] = await Promise.all([modelJson(), weights()]);
    const art = JSON.parse(json);
    const W = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), art.weightsManifest[0].weights);
    const maxLen = art.config.kind === 'transformer' ? art.config.maxLen : 4096;
    return { ...art, W, maxLen, tokenizer: Tokenizer.fromJSON(art.tokenizer) };
  }
  function predict(m, text) {
    const { pieces, ids } = m.tokenizer.encodeWithPieces(text, m.maxLen);
    const [probs, ...att] = m.config.kind === 'transformer' ? transformer(m.W, Array.from(ids), m.config) : pooling(m.W, Array.from(ids));
    const p = probs.dataSync(), T = ids.length;
    const weights = m.config.kind === 'transformer' ? rollout(att.map((a) => a.dataSync()), m.config.heads, T) : Array.from(att[0].dataSync());
    tf.dispose([probs, ...att]);
    let best = 0;
    for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
    return {
      label: m.labels[best], probability: p[best],
      probabilities: Object.fromEntries(m.labels.map((l, k) => [l, p[k]])),
      attention: pieces.map((token, i) => ({ token, weight: weights[i] })),
    };
  }
  return {
    async fetch(request) {
      if (new URL(request.url).pathname !== '/predict' || request.method !== 'POST') return Response.json({ error: { status: 404 } }, { status: 404 });
      let body;
      try { body = await request.json(); } catch { return Response.json({ error: { status: 400, message: 'not JSON' } }, { status: 400 }); }
      const texts = typeof body?.text === 'string' ? [body.text] : body?.texts;
      if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) return Response.json({ error: { status: 400 } }, { status: 400 });
      ready ??= load();
      const m = await ready;
      return Response.json({ predictions: texts.map((t) => predict(m, t)) });
    },
  };
}
`;

const tfjsCore = resolved('@tensorflow/tfjs-core'), tfjsFull = resolved('@tensorflow/tfjs'), tfjsWasm = resolved('@tensorflow/tfjs-backend-wasm');
writeFileSync(join(tmp, 'tfjs-handler.mjs'), tfjsHandler(tfjsCore, [tfjsWasm]));
writeFileSync(join(tmp, 'tfjs-full-handler.mjs'), tfjsHandler(tfjsFull, [tfjsWasm]));

const models = {};
for (const kind of MODELS) {
  const file = join(tmp, `${kind}.safetensors`);
  log(`setup: training the ${kind} model (examples/edge/make_model.mjs${kind === 'transformer' ? ' --model transformer --epochs 1 --no-refit' : ''})`);
  await makeModel(['--out', file, ...(kind === 'transformer' ? ['--model', 'transformer', '--epochs', '1', '--no-refit'] : [])]);
  const dir = join(tmp, `${kind}-tfjs`);
  mkdirSync(dir);
  const converted = toTfjs(file, dir);
  models[kind] = { file, dir, ...converted, bytes: statSync(file).size, tfjsBytes: statSync(join(dir, 'weights.bin')).size + statSync(join(dir, 'model.json')).size };
}

// --- the child scripts -------------------------------------------------------------------------

const request = `new Request('http://localhost/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: ${JSON.stringify(TEXT)} }) })`;
const finish = `
const res = await handler.fetch(${request}, {});
const body = await res.json();
const t1 = performance.now();
console.log(JSON.stringify({ t0, tImport: tImport - t0, importToAnswer: t1 - t0, startToAnswer: t1, status: res.status, prediction: body.predictions?.[0] }));`;

function childScript(variant, kind) {
  const m = models[kind];
  if (variant === 'node') return 'const t0 = performance.now(); console.log(JSON.stringify({ t0, tImport: 0, importToAnswer: 0, startToAnswer: performance.now(), status: 200 }));';
  if (variant === 'heed') {
    return `const t0 = performance.now();
const { createHandler } = await import(${JSON.stringify(url(join(ROOT, 'examples/edge/handler.mjs')))});
const { readFile } = await import('node:fs/promises');
const tImport = performance.now();
const handler = createHandler({
  module: async () => WebAssembly.compile(await readFile(${JSON.stringify(fileURLToPath(resolved('heed/wasm/simd.wasm')))})),
  modelBytes: () => readFile(${JSON.stringify(m.file)}),
});${finish}`;
  }
  return `const t0 = performance.now();
const { createHandler } = await import(${JSON.stringify(url(join(tmp, `${variant}-handler.mjs`)))});
const { readFile } = await import('node:fs/promises');
const tImport = performance.now();
const handler = createHandler({
  modelJson: () => readFile(${JSON.stringify(join(m.dir, 'model.json'))}, 'utf8'),
  weights: () => readFile(${JSON.stringify(join(m.dir, 'weights.bin'))}),
});${finish}`;
}

/** heed's cold start in phases, in a fresh process, calling heed/infer directly (no handler). */
function phasesScript(kind) {
  return `const t = [performance.now()];
const infer = await import(${JSON.stringify(resolved('heed/infer'))});
const { readFile } = await import('node:fs/promises');
t.push(performance.now());
new Request('http://localhost/predict', { method: 'POST', body: '{}' });   // Node loads its fetch implementation (undici) on first use
t.push(performance.now());
const [wasm, model] = await Promise.all([readFile(${JSON.stringify(fileURLToPath(resolved('heed/wasm/simd.wasm')))}), readFile(${JSON.stringify(models[kind].file)})]);
t.push(performance.now());
const module = await WebAssembly.compile(wasm);
t.push(performance.now());
const ctx = await infer.init({ module });
t.push(performance.now());
const clf = infer.loadClassifier(ctx, model);
t.push(performance.now());
clf.explain(${JSON.stringify(TEXT)});
t.push(performance.now());
clf.explain('a second text, warm');
t.push(performance.now());
console.log(JSON.stringify({ t0: t[0], phases: t.slice(1).map((x, i) => x - t[i]) }));`;
}
const PHASES = ['import heed/infer', 'first Request (undici)', 'read wasm + model', 'WebAssembly.compile', 'init({ module })', 'loadClassifier', 'first explain()', 'second explain()'];

/** One fresh process: its report, plus the parent's spawn → answer time. */
function runChild(variant, kind) {
  return new Promise((res, rej) => {
    const start = performance.now();
    const script = variant === 'phases' ? phasesScript(kind) : childScript(variant, kind);
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '', answered;
    child.stdout.setEncoding('utf8').on('data', (s) => {
      out += s;
      if (answered === undefined && /^\{"t0".*\n/m.test(out)) answered = performance.now() - start;
    });
    child.stderr.setEncoding('utf8').on('data', (s) => { err += s; });
    child.on('error', rej);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"t0"'));
      if (code !== 0 || !line) return rej(new Error(`${variant}/${kind}: exit ${code}\n${err || out}`));
      const r = JSON.parse(line);
      if (variant === 'phases') return res(r);
      if (r.status !== 200) return rej(new Error(`${variant}/${kind}: status ${r.status}: ${line}`));
      res({ ...r, spawnToAnswer: answered, spawnToExit: performance.now() - start });
    });
  });
}

// --- run ---------------------------------------------------------------------------------------

const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]; };
const cells = (xs) => ({ median: quantile(xs, 0.5), p90: quantile(xs, 0.9) });
const pairs = MODELS.flatMap((kind) => VARIANTS.filter((v) => v !== 'node').map((v) => [v, kind]));
if (VARIANTS.includes('node')) pairs.push(['node', MODELS[0]]);
const samples = new Map(pairs.map((p) => [p.join('/'), []]));
const checks = {}, phaseSamples = {};
const loadavg = [os.loadavg()];
const started = Date.now();

log(`warm-up round, then ${RUNS} timed rounds of ${pairs.length} fresh processes`);
for (let round = 0; round <= RUNS; round++) {
  for (const [variant, kind] of pairs) {
    const r = await runChild(variant, kind);
    if (round === 0) {
      if (variant !== 'node') checks[`${variant}/${kind}`] = r.prediction;
      continue;
    }
    samples.get(`${variant}/${kind}`).push(r);
  }
  if (VARIANTS.includes('heed')) {
    for (const kind of MODELS) {
      const r = await runChild('phases', kind);
      if (round > 0) (phaseSamples[kind] ??= []).push(r.phases);
    }
  }
  loadavg.push(os.loadavg());
  if (round > 0) log(`round ${round}/${RUNS}: ${pairs.map(([v, k]) => `${v}/${k} ${samples.get(`${v}/${k}`).at(-1).importToAnswer.toFixed(0)} ms`).join(', ')}`);
}

// The answers agree: every variant's first prediction against heed's for the same model.
const agreement = {};
for (const kind of MODELS) {
  const ref = checks[`heed/${kind}`];
  for (const v of VARIANTS.filter((x) => x !== 'heed' && x !== 'node')) {
    const p = checks[`${v}/${kind}`];
    if (!ref || !p) continue;
    const dp = Math.max(...ref.attention.map((a, i) => Math.abs(a.weight - p.attention[i].weight)),
      ...Object.keys(ref.probabilities).map((l) => Math.abs(ref.probabilities[l] - p.probabilities[l])));
    agreement[`${v}/${kind}`] = { sameLabel: ref.label === p.label, sameTokens: ref.attention.map((a) => a.token).join(' ') === p.attention.map((a) => a.token).join(' '), maxAbsDiff: dp };
    if (!(ref.label === p.label && dp < 1e-3)) { console.error(`${v}/${kind} disagrees with heed: ${JSON.stringify(agreement[`${v}/${kind}`])}`); process.exitCode = 1; }
  }
}

const results = pairs.map(([variant, kind]) => {
  const s = samples.get(`${variant}/${kind}`);
  return {
    variant, model: variant === 'node' ? null : kind,
    importToAnswer: cells(s.map((r) => r.importToAnswer)), startToAnswer: cells(s.map((r) => r.startToAnswer)),
    spawnToAnswer: cells(s.map((r) => r.spawnToAnswer)), import: cells(s.map((r) => r.tImport)), timeOrigin: cells(s.map((r) => r.t0)),
  };
});

const sizeOf = (p) => statSync(p).size;
const files = {
  heed: ['dist/bundle/infer.js', 'build/simd.wasm', 'examples/edge/handler.mjs',
    ...readFileSync(join(ROOT, 'dist/bundle/infer.js'), 'utf8').match(/chunks\/[\w-]+\.js/g).map((c) => `dist/bundle/${c}`)].map((f) => join(ROOT, f)),
  tfjs: [fileURLToPath(tfjsCore), fileURLToPath(tfjsWasm), join(dirname(fileURLToPath(tfjsWasm)), 'tfjs-backend-wasm-simd.wasm')],
};
const loaded = Object.fromEntries(Object.entries(files).map(([k, fs]) => [k, [...new Set(fs)].reduce((n, f) => n + sizeOf(f), 0)]));
const tfjsVersion = JSON.parse(readFileSync(join(dirname(fileURLToPath(tfjsCore)), '..', 'package.json'), 'utf8')).version;

const report = {
  date: new Date(started).toISOString(), seconds: (Date.now() - started) / 1000, runs: RUNS,
  node: process.version, v8: process.versions.v8, cpu: os.cpus()[0]?.model, cores: os.cpus().length, memGiB: os.totalmem() / 2 ** 30,
  loadavg: { before: loadavg[0], after: loadavg.at(-1), max1m: Math.max(...loadavg.map((l) => l[0])) },
  tfjs: tfjsVersion, text: TEXT,
  models: Object.fromEntries(Object.entries(models).map(([k, m]) => [k, { config: m.config, params: m.params, heedFileBytes: m.bytes, tfjsFilesBytes: m.tfjsBytes }])),
  loadedBytes: loaded, agreement, results,
  heedPhases: Object.fromEntries(Object.entries(phaseSamples).map(([k, rows]) => [k, Object.fromEntries(PHASES.map((p, i) => [p, cells(rows.map((r) => r[i]))]))])),
};

if (opts.json) { console.log(JSON.stringify(report, null, 2)); process.exit(); }

const ms = (x) => x.toFixed(0);
const name = { heed: 'heed (heed/infer + simd.wasm)', tfjs: `tfjs ${tfjsVersion} core + wasm backend`, 'tfjs-full': `tfjs ${tfjsVersion} (@tensorflow/tfjs) + wasm backend`, node: 'node, empty script' };
const modelName = (k) => { const c = models[k].config; return k === 'pooling' ? `pooling V${c.vocabSize} d${c.dModel} C${c.classes}` : `transformer V${c.vocabSize} d${c.dModel} h${c.heads} ff${c.ffDim} L${c.layers} T${c.maxLen} C${c.classes}`; };
const lines = [
  '| runtime | model | import → answer, median | p90 | start → answer, median | p90 | spawn → answer, median | p90 | of which import, median |',
  '|---|---|--:|--:|--:|--:|--:|--:|--:|',
  ...results.map((r) => `| ${name[r.variant]} | ${r.model ? modelName(r.model) : '—'} | ${ms(r.importToAnswer.median)} | ${ms(r.importToAnswer.p90)} | ${ms(r.startToAnswer.median)} | ${ms(r.startToAnswer.p90)} | ${ms(r.spawnToAnswer.median)} | ${ms(r.spawnToAnswer.p90)} | ${ms(r.import.median)} |`),
];
const ratioLines = MODELS.flatMap((kind) => {
  const get = (v) => results.find((r) => r.variant === v && r.model === kind);
  const hr = get('heed');
  return hr ? VARIANTS.filter((v) => v.startsWith('tfjs')).map((v) => get(v)).filter(Boolean)
    .map((t) => `- ${kind}: ${name[t.variant]} takes ${(t.importToAnswer.median / hr.importToAnswer.median).toFixed(1)}× heed's import → answer (${ms(t.importToAnswer.median)} vs ${ms(hr.importToAnswer.median)} ms), ${(t.startToAnswer.median / hr.startToAnswer.median).toFixed(1)}× from process start`) : [];
});
const md = `# Cold start: edge handler, fresh process → first answer

- Date: ${report.date.slice(0, 10)} (${report.seconds.toFixed(0)} s for the run)
- Machine: ${report.cpu}, ${report.cores} cores, ${report.memGiB.toFixed(0)} GiB; load average (1 min) ${report.loadavg.before[0].toFixed(2)} before, ${report.loadavg.after[0].toFixed(2)} after, ${report.loadavg.max1m.toFixed(2)} at most
- Node ${report.node}, V8 ${report.v8}; TensorFlow.js ${tfjsVersion}
- Command: \`npm run build && node bench/coldstart.mjs${process.argv.slice(2).filter((a, i, all) => a !== '--write' && all[i - 1] !== '--write').map((a) => ` ${a}`).join('')}\` (${RUNS} timed runs per row after a warm-up round, rows interleaved)
- Request: \`POST /predict {"text": ${JSON.stringify(TEXT)}}\`, answered with label, probabilities and attention weights

${lines.join('\n')}

Milliseconds. *import → answer*: from the child script's first line (before importing the handler)
to the parsed JSON answer: importing the handler and the runtime, reading and compiling the wasm,
reading the model file, initialising, one prediction with attention. *start → answer*: the same
point measured from Node's time origin (process start). *spawn → answer*: the parent's clock from
\`spawn()\` to the answer's line on its stdout, so it also counts exec and Node's bootstrap.

${ratioLines.join('\n')}

Models (same weights in both runtimes; the tfjs copy is model.json + weights.bin):
${MODELS.map((k) => `- ${k}: ${modelName(k)}, ${models[k].params.toLocaleString('en-US')} parameters; heed file ${(models[k].bytes / 1024).toFixed(0)} KiB, tfjs files ${(models[k].tfjsBytes / 1024).toFixed(0)} KiB`).join('\n')}

${Object.keys(agreement).length ? `Answers agree (each variant's warm-up answer for the text against heed's; max |Δ| over probabilities and attention weights): ${Object.entries(agreement).map(([k, a]) => `${k} ${a.sameLabel ? 'same label' : 'DIFFERENT LABEL'}${a.sameTokens ? '' : ', different tokens'}, ${a.maxAbsDiff.toExponential(1)}`).join('; ')}.
` : ''}
${Object.keys(report.heedPhases).length ? `heed's cold start in phases (separate fresh processes calling heed/infer directly, median of ${RUNS}, ms):

| model | ${PHASES.join(' | ')} |
|---|${PHASES.map(() => '--:').join('|')}|
${Object.entries(report.heedPhases).map(([k, ph]) => `| ${k} | ${PHASES.map((p) => ph[p].median.toFixed(1)).join(' | ')} |`).join('\n')}

` : ''}Code and wasm the runtime loads from disk (uncompressed): heed ${(loaded.heed / 1024).toFixed(0)} KiB
(handler, heed/infer bundle and chunk, simd.wasm); tfjs ${(loaded.tfjs / 1024).toFixed(0)} KiB (tfjs-core and
tfjs-backend-wasm Node bundles, tfjs-backend-wasm-simd.wasm; the full \`@tensorflow/tfjs\` loads more).

Notes:
- Shared machine: other sessions run tests and benchmarks on these ${report.cores} vCPUs; the load average above
  is the 1-minute figure around the run (the benchmark's own processes included). p90 shows the spread.
- Node creates \`Request\` / \`Response\` lazily: the first use loads its fetch implementation (undici)${report.heedPhases.pooling ? `, ${report.heedPhases.pooling['first Request (undici)'].median.toFixed(0)} ms in the phases table` : ''}.
  Both handlers pay it inside import → answer; edge runtimes have these classes built in.
- In Node each process compiles the wasm itself (V8 compiles lazily, so \`WebAssembly.compile\` returns in about a
  millisecond and functions compile on first call); on Cloudflare the module is compiled when the Worker is uploaded.
- tfjs's handler does the same work as heed's for one text (tokenize, forward pass with attention, JSON answer) and
  runs the model as tfjs ops on the wasm backend, the leanest way to run it; a \`tf.LayersModel\` would add tfjs-layers.
`;
console.log('\n' + md);
if (opts.write) { writeFileSync(resolve(opts.write), md); console.log(`wrote ${opts.write}`); }
