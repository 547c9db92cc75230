// Decoding speed of a causalLM (issue 14): KV-cache decoding against recomputing the prefix for
// every token, and tokens/s of generate() at batch 1.
//
//   node bench/decode.mjs [--backend wasm|wasm-relaxed|wasm-scalar|js] [--layers 4] [--d 128]
//     [--heads 4] [--vocab 256] [--context 256] [--runs 5] [--torch PYTHON]   (after npm run build)
//
// Model: --layers pre-norm causal blocks of width --d (ffDim 4·d), --vocab tokens, maxLen =
// --context, tied LM head, random weights (speed does not depend on them). Each run, alternating
// between the ways so that a shared machine's drift hits both alike:
//   cache      a prefill of 1 token, then context − 1 steps of one token over the KV cache
//              (KvCache.step: the model's work only, no sampling)
//   recompute  for every n = 1 … context, model.forward over the whole prefix [1, n], keeping only
//              the last position's logits: what decoding without a cache costs
//   generate   model.generate([1], { maxTokens: context, temperature: 1, seed }) end to end:
//              prefill, sampling from the full softmax, reading logits, the async iteration
// Reported: the median over --runs of ms per token (averaged over the context's tokens), and the
// last token's cost alone (position context − 1: one cache step against a forward over all context
// positions), as the medians of 50 single calls. With --torch (a Python with PyTorch), the same
// model's KV-cache decoding in PyTorch, one thread (bench/decode_torch.py), runs after heed's and
// joins the table.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';

// Node 20 validates relaxed SIMD only behind this V8 flag (as bench/kernels.bench.mjs): set before
// anything compiles, so that --backend wasm-relaxed runs here too.
if (Number(process.versions.node.split('.')[0]) < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const { values: o } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' }, layers: { type: 'string', default: '4' }, d: { type: 'string', default: '128' },
    heads: { type: 'string', default: '4' }, vocab: { type: 'string', default: '256' }, context: { type: 'string', default: '256' },
    runs: { type: 'string', default: '5' }, torch: { type: 'string' },
  },
});
const { init } = await import('../dist/index.js');
const { KvCache } = await import('../dist/nn/kv-cache.js');

const L = Number(o.layers), d = Number(o.d), H = Number(o.heads), V = Number(o.vocab), C = Number(o.context), runs = Number(o.runs);
const h = await init({ backend: o.backend });
const m = h.causalLM({ vocabSize: V, maxLen: C, dModel: d, heads: H, layers: L, seed: 1 });
const ids = Int32Array.from({ length: C }, (_, i) => (i * 7 + 1) % V);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

const cache = new KvCache(m, 1, C);
function withCache() {
  cache.reset();
  const t0 = performance.now();
  cache.step(ids.subarray(0, 1), 1);
  for (let n = 1; n < C; n++) cache.step(ids.subarray(n, n + 1), 1);
  return (performance.now() - t0) / C;
}
function recompute() {
  const t0 = performance.now();
  for (let n = 1; n <= C; n++) {
    const logits = m.forward(ids.subarray(0, n), [1, n]);
    logits.dispose();
  }
  return (performance.now() - t0) / C;
}
async function generate(seed) {
  const t0 = performance.now();
  let n = 0;
  for await (const piece of m.generate([1], { maxTokens: C, temperature: 1, seed })) n += piece.tokens.length;
  return (performance.now() - t0) / n;
}

withCache(); recompute(); await generate(0);   // warm-up: V8's tiers, the arenas of every shape
const cacheMs = [], recomputeMs = [], generateMs = [];
for (let r = 0; r < runs; r++) {
  cacheMs.push(withCache());
  recomputeMs.push(recompute());
  generateMs.push(await generate(r + 1));
}
const lastCache = [], lastRecompute = [];
for (let i = 0; i < 50; i++) {
  cache.reset();
  cache.step(ids.subarray(0, C - 1), C - 1);
  let t0 = performance.now();
  cache.step(ids.subarray(C - 1, C), 1);
  lastCache.push(performance.now() - t0);
  t0 = performance.now();
  m.forward(ids, [1, C]).dispose();
  lastRecompute.push(performance.now() - t0);
}

const c = median(cacheMs), r = median(recomputeMs), g = median(generateMs), lc = median(lastCache), lr = median(lastRecompute);
console.log(`causalLM layers ${L}, d ${d}, heads ${H}, ffDim ${4 * d}, vocab ${V}, context ${C}, batch 1, backend ${h.backend}, ${m.parameterCount} parameters; median of ${runs} runs`);
console.log(`| way | ms/token over ${C} tokens | tokens/s | last token (position ${C - 1}) ms |`);
console.log('|---|---|---|---|');
console.log(`| KV cache (KvCache.step) | ${c.toFixed(3)} | ${(1000 / c).toFixed(0)} | ${lc.toFixed(3)} |`);
console.log(`| recompute the prefix (forward over [1, n]) | ${r.toFixed(3)} | ${(1000 / r).toFixed(0)} | ${lr.toFixed(3)} |`);
console.log(`| generate() (cache + sampling), temperature 1 | ${g.toFixed(3)} | ${(1000 / g).toFixed(0)} | – |`);
if (o.torch) {
  const args = ['layers', 'd', 'heads', 'vocab', 'context', 'runs'].flatMap((k) => [`--${k}`, o[k]]);
  const out = execFileSync(o.torch, [new URL('./decode_torch.py', import.meta.url).pathname, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = out.trim().split('\n'), row = lines.at(-1), pt = Number(row.split('|')[2]);
  console.log(row);
  console.log(`${lines.at(-2)}; heed's KV cache ÷ PyTorch's: ${(pt / c).toFixed(2)}× the tokens/s (generate(): ${(pt / g).toFixed(2)}×)`);
}
console.log(`KV cache speed-up: ${(r / c).toFixed(1)}× per token over the context, ${(lr / lc).toFixed(1)}× for the last token`);
cache.dispose();
m.dispose();
