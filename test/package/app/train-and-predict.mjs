// test/package/pack.test.ts runs this in a fresh project where the packed heed is installed: train
// with heed (on a worker, which must be found inside the installed package), save the model file,
// predict with heed/infer from its bytes, and again from a module compiled from heed/wasm/simd.wasm
// as edge runtimes do, and take one data-parallel step on two threads. Prints one JSON line for the
// test to check.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { init, Tokenizer, HeedError } from 'heed';
import * as infer from 'heed/infer';

const words = { pos: ['good', 'great', 'fine', 'nice', 'happy'], neg: ['bad', 'awful', 'poor', 'sad', 'grim'] };
const texts = [], labels = [];
for (let i = 0; i < 80; i++) {
  const c = i % 2, w = c ? words.pos : words.neg;
  texts.push(`the day was ${w[i % 5]} and ${w[(i * 3 + 1) % 5]}`);
  labels.push(c);
}
const tokenizer = Tokenizer.build(texts, { minFreq: 1 });
const h = await init();
let steps = 0;
const run = h.fit({
  modelOptions: { kind: 'pooling', vocabSize: tokenizer.toJSON().vocab.length, dModel: 16, classes: 2, seed: 1 },
  data: { sequences: texts.map((t) => tokenizer.encode(t)), labels: Int32Array.from(labels) },
  epochs: 8, batchSize: 16, lr: 0.05, seed: 1, worker: true, onStep: () => { steps++; },
});
const { model, history } = await run.done;
writeFileSync('model.safetensors', h.saveModel(model, { tokenizer: tokenizer.toJSON(), labels: ['neg', 'pos'] }));

const bytes = readFileSync('model.safetensors');
const clf = infer.loadClassifier(await infer.init(), bytes);
const predictions = clf.predict(['the day was great and happy', 'the day was awful and sad']);
const explanation = clf.explain('the day was great');

const simd = fileURLToPath(import.meta.resolve('heed/wasm/simd.wasm'));
const edge = infer.loadClassifier(await infer.init({ module: await WebAssembly.compile(readFileSync(simd)) }), bytes);

// Data-parallel from the installed bundle: the helper worker is the bundle's own worker chunk.
const dpModel = h.transformerClassifier({ vocabSize: tokenizer.toJSON().vocab.length, maxLen: 8, dModel: 8, heads: 2, ffDim: 16, layers: 1, seed: 1 });
const dpOpt = h.adamwOptimizer(dpModel), dp = await h.dataParallel(dpModel, dpOpt, { threads: 2 });
const dpTokens = Int32Array.from({ length: 4 * 8 }, (_, i) => 1 + (i % 5));
const dpLoss = await dp.step(dpTokens, [4, 8], Int32Array.of(0, 1, 0, 1));
await dp.close();

let error = null;
try { clf.predict('not an array'); } catch (e) { error = { heed: e instanceof HeedError, message: e.message }; }

console.log(JSON.stringify({
  resolved: { heed: import.meta.resolve('heed'), infer: import.meta.resolve('heed/infer'), worker: import.meta.resolve('heed/worker'), simd },
  backend: h.backend, steps, epochs: history.length, accuracy: history.at(-1).accuracy,
  predictions: predictions.map((p) => p.label), edge: edge.predict(['the day was great and happy'])[0].label,
  explanation: { label: explanation.label, pieces: explanation.pieces }, error,
  dataParallel: { threads: dp.threads, finiteLoss: Number.isFinite(dpLoss), step: dpOpt.step },
}));
