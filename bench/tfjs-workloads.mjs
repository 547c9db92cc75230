// The reference workloads of bench/README.md written with TensorFlow.js ops, the peer issue 5
// compares heed against: K1 (matmul), K2 (attention forward + backward), W1/W2 (train steps), I1/I2
// (inference), on tfjs's 'wasm' backend (XNNPACK, single-threaded in Node) and its 'cpu' backend
// (plain JS). Same shapes, same token ids and the same FLOP counts as heed's workloads
// (src/bench/workloads.ts), so GFLOP/s and steps/s compare row for row.
//
// Dev-only: @tensorflow/tfjs and @tensorflow/tfjs-backend-wasm are devDependencies, so only bench/
// imports this file; `heed bench` (src/) never does.
//
// Completion: on 'wasm' and 'cpu' every tfjs kernel runs synchronously inside the op call (there is
// no command queue as on WebGL), so when a timed function returns, its work is done. The train
// steps read the loss with dataSync() (heed's trainStep returns it as a number too) and the
// inference calls read the logits; K1/K2 dispose their outputs unread, as heed's rows do (a
// dataSync() there would add an output copy heed's rows do not pay). Never return a typed array
// from tf.tidy(): tidy walks the returned value element by element looking for tensors, which
// costs ~1 ms per 16k elements.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Bench } from 'tinybench';

export const TFJS_BACKENDS = ['wasm', 'cpu'];
export const tfjsVersion = tf.version.tfjs;

// --- inputs (the same generators as src/bench/workloads.ts) -----------------------------------

function randomValues(n, seed) {
  let s = seed >>> 0;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = (s / 2 ** 32 - 0.5) * 2;
  }
  return v;
}

function randomTensor(shape, seed) {
  return tf.tensor(randomValues(shape.reduce((a, d) => a * d, 1), seed), shape);
}

function tokens(n, vocab, seed) {
  let s = seed >>> 0;
  const t = new Int32Array(n);
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; t[i] = 1 + (s % (vocab - 1)); }
  return t;
}

// --- FLOP counts: the formulas of src/bench/workloads.ts, checked against heed's at run time ----

function transformerForwardFlops(N, T, d, ff, layers, C, B) {
  const perLayer = 2 * N * d * 3 * d + 2 * 2 * N * T * d + 2 * N * d * d + 2 * 2 * N * d * ff;
  return layers * perLayer + 2 * B * d * C;
}

// --- model pieces -------------------------------------------------------------------------------

/**
 * Embedding lookup E[ids] with a gradient that works on every backend. tf.gather's gradient needs
 * the UnsortedSegmentSum kernel, which tfjs-backend-wasm 4.22 does not register ("Kernel
 * 'UnsortedSegmentSum' not registered for backend 'wasm'"). Workaround: tf.gather forward inside
 * tf.customGrad, and the gradient as tf.scatterND(ids, dy, [V, d]), which the wasm backend has and
 * which sums the rows of repeated ids (checkModelsAgainstHeed below trains both models side by
 * side with heed's). A one-hot matmul, tf.matMul(tf.oneHot(ids, V), E), would also work but costs
 * 2·N·V·d FLOPs each way: 21× W1's whole step, and 8.6 GFLOP forward for W2's V = 8192 against
 * 11.3 GFLOP for its whole step, so it would be unfair to tfjs. The cpu backend takes the same
 * path so that both tfjs columns run the same model code.
 */
function embeddingLookup(E, ids) {
  const [V, d] = E.shape;
  const idx = ids.reshape([ids.size, 1]);
  const f = tf.customGrad((table) => ({
    value: tf.gather(table, ids),
    gradFunc: (dy) => tf.scatterND(idx, dy, [V, d]),
  }));
  return f(E);
}

/** A Linear layer in tfjs's own layout: W [in, out], as tf.layers.dense stores its kernel, through
 *  tf.fused.matMul as tf.layers.dense computes it. The PyTorch layout [out, in] would need
 *  matMul(x, W, false, true), which falls off XNNPACK's fast path in the forward (K1's transB row);
 *  either layout leaves two of a training step's three matmuls per Linear transposed. */
function linear(x, W, b) {
  return tf.fused.matMul({ a: x, b: W, bias: b });
}

function layerNorm(x, gamma, beta, eps = 1e-5) {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(gamma).add(beta);
}

const GELU_C = Math.sqrt(2 / Math.PI);
/** GELU, tanh approximation (as heed's and torch's approximate='tanh'). */
function gelu(x) {
  const inner = x.add(x.mul(x).mul(x).mul(0.044715)).mul(GELU_C);
  return x.mul(0.5).mul(tf.tanh(inner).add(1));
}

/** A variable from an initial value, which it copies (the initial tensor is then disposed). */
function variable(init) {
  const v = tf.variable(init);
  init.dispose();
  return v;
}
const uniform = (shape, bound, seed) => variable(tf.randomUniform(shape, -bound, bound, 'float32', seed));
const normal = (shape, seed) => variable(tf.randomNormal(shape, 0, 1, 'float32', seed));
const constant = (shape, value) => variable(tf.fill(shape, value));

/**
 * Copies a heed / PyTorch state_dict entry ({ shape, data }) into a variable; Linear weights
 * ([out, in] there) are transposed into tfjs's [in, out]. Used to check these models against heed's.
 */
function assign(v, entry, transpose = false) {
  if (!entry) throw new Error('state dict entry missing');
  tf.tidy(() => {
    const t = tf.tensor(entry.data, entry.shape);
    v.assign(transpose ? t.transpose() : t);
  });
}
function assignLinear(lp, state, prefix) {
  assign(lp.W, state[`${prefix}.weight`], true);
  assign(lp.b, state[`${prefix}.bias`]);
}

/** A Linear's parameters with torch's default init bound 1/√in. */
function linearParams(inDim, outDim, seed) {
  const bound = 1 / Math.sqrt(inDim);
  return { W: uniform([inDim, outDim], bound, seed), b: uniform([outDim], bound, seed + 1) };
}

/**
 * attentionPoolingClassifier (the README's Models section): e = embed(tok); s = attn(e), a Linear(d, 1);
 * softmax of s over non-padding positions; pooled = Σ w·e; head(pooled).
 */
export function poolingModel({ vocabSize, dModel, classes, seed }, state) {
  const p = {
    embed: normal([vocabSize, dModel], seed),
    attn: linearParams(dModel, 1, seed + 10),
    head: linearParams(dModel, classes, seed + 20),
  };
  const vars = [p.embed, p.attn.W, p.attn.b, p.head.W, p.head.b];
  if (state) {
    assign(p.embed, state['embed.weight']);
    assignLinear(p.attn, state, 'attn');
    assignLinear(p.head, state, 'head');
  }
  return {
    vars,
    /** ids: int32 [B*T]; m: masks(tok, B, T, 'pooling'). */
    forward(ids, B, T, m) {
      const e = embeddingLookup(p.embed, ids);                                // [B*T, d]
      const s = linear(e, p.attn.W, p.attn.b).reshape([B, T]).add(m.bias);    // [B, T]
      const w = tf.softmax(s).mul(m.keep).reshape([B, 1, T]);                 // all-padding rows: 0
      const pooled = tf.matMul(w, e.reshape([B, T, dModel])).reshape([B, dModel]);
      return linear(pooled, p.head.W, p.head.b);                              // [B, classes]
    },
    dispose() { for (const v of vars) v.dispose(); },
  };
}

/**
 * transformerClassifier (the README's Models section): embed(tok) + pos_embed(arange(T)); `layers` pre-norm
 * encoder layers (x += SA(LN1(x)) with key padding mask; x += linear2(GELU-tanh(linear1(LN2(x)))));
 * final LayerNorm; mean over non-padding positions; linear head. Dropout 0.
 */
export function transformerModel({ vocabSize, maxLen, dModel, heads, ffDim, layers, classes, seed }, state) {
  const d = dModel, H = heads, Dh = d / H;
  const p = {
    embed: normal([vocabSize, d], seed),
    pos: normal([maxLen, d], seed + 1),
    layers: Array.from({ length: layers }, (_, i) => {
      const s = seed + 100 * (i + 1);
      return {
        n1g: constant([d], 1), n1b: constant([d], 0),
        inProj: linearParams(d, 3 * d, s),
        outProj: linearParams(d, d, s + 10),
        n2g: constant([d], 1), n2b: constant([d], 0),
        lin1: linearParams(d, ffDim, s + 20),
        lin2: linearParams(ffDim, d, s + 30),
      };
    }),
    ng: constant([d], 1), nb: constant([d], 0),
    head: linearParams(d, classes, seed + 1000),
  };
  const vars = [p.embed, p.pos, p.ng, p.nb, p.head.W, p.head.b];
  for (const l of p.layers) {
    vars.push(l.n1g, l.n1b, l.inProj.W, l.inProj.b, l.outProj.W, l.outProj.b, l.n2g, l.n2b, l.lin1.W, l.lin1.b, l.lin2.W, l.lin2.b);
  }
  if (state) {
    assign(p.embed, state['embed.weight']);
    assign(p.pos, state['pos_embed.weight']);
    p.layers.forEach((l, i) => {
      const pre = `layers.${i}.`;
      assign(l.n1g, state[pre + 'norm1.weight']); assign(l.n1b, state[pre + 'norm1.bias']);
      assign(l.n2g, state[pre + 'norm2.weight']); assign(l.n2b, state[pre + 'norm2.bias']);
      assign(l.inProj.W, state[pre + 'self_attn.in_proj_weight'], true); assign(l.inProj.b, state[pre + 'self_attn.in_proj_bias']);
      assignLinear(l.outProj, state, pre + 'self_attn.out_proj');
      assignLinear(l.lin1, state, pre + 'linear1');
      assignLinear(l.lin2, state, pre + 'linear2');
    });
    assign(p.ng, state['norm.weight']); assign(p.nb, state['norm.bias']);
    assignLinear(p.head, state, 'head');
  }
  const scale = 1 / Math.sqrt(Dh);
  const heads4 = (t, B, T) => t.reshape([B, T, H, Dh]).transpose([0, 2, 1, 3]).reshape([B * H, T, Dh]);
  return {
    vars,
    /** ids: int32 [B*T]; m: masks(tok, B, T, 'transformer'). */
    forward(ids, B, T, m) {
      const N = B * T;
      let x = embeddingLookup(p.embed, ids).reshape([B, T, d]).add(p.pos.slice([0, 0], [T, d])).reshape([N, d]);
      for (const l of p.layers) {
        const h = layerNorm(x, l.n1g, l.n1b);
        const [q, k, v] = tf.split(linear(h, l.inProj.W, l.inProj.b), 3, 1);   // each [N, d]
        const scores = tf.matMul(heads4(q.mul(scale), B, T), heads4(k, B, T), false, true); // [B*H, T, T]
        const probs = tf.softmax(scores.reshape([B, H, T, T]).add(m.bias)).reshape([B * H, T, T]);
        const o = tf.matMul(probs, heads4(v, B, T))                              // [B*H, T, Dh]
          .reshape([B, H, T, Dh]).transpose([0, 2, 1, 3]).reshape([N, d]);
        x = x.add(linear(o, l.outProj.W, l.outProj.b));
        const f = linear(gelu(linear(layerNorm(x, l.n2g, l.n2b), l.lin1.W, l.lin1.b)), l.lin2.W, l.lin2.b);
        x = x.add(f);
      }
      x = layerNorm(x, p.ng, p.nb).reshape([B, T, d]);
      const pooled = x.mul(m.keep).sum(1).div(m.count);                         // [B, d]
      return linear(pooled, p.head.W, p.head.b);
    },
    dispose() { for (const v of vars) v.dispose(); },
  };
}

/** Padding masks from token ids (no padding in the timed batches, but the models apply them):
 *  bias 0 (token) / -1e9 (padding) added to the scores, keep 1/0, count of tokens per row (≥ 1). */
export function masks(tok, B, T, kind) {
  return tf.tidy(() => {
    const keep = tf.tensor(Float32Array.from(tok, (t) => (t !== 0 ? 1 : 0)), [B, T]);
    const bias = tf.sub(1, keep).mul(-1e9);
    if (kind === 'pooling') return { bias, keep };
    return { bias: bias.reshape([B, 1, 1, T]), keep: keep.reshape([B, T, 1]), count: tf.maximum(keep.sum(1, true), 1) };
  });
}
export function disposeMasks(m) { for (const t of Object.values(m)) t.dispose(); }

const W2 = { vocabSize: 8192, maxLen: 128, dModel: 128, heads: 4, ffDim: 512, layers: 2, classes: 2, seed: 1 };

// --- the workloads ------------------------------------------------------------------------------

function matmulWorkload(M, N, K, transB) {
  return {
    id: 'K1',
    name: transB ? `matmul [${M},${K}]·[${N},${K}]ᵀ` : `matmul ${M}³`,
    flops: 2 * M * N * K,
    setup() {
      const a = randomTensor([M, K], 1), b = randomTensor(transB ? [N, K] : [K, N], 2);
      return {
        run: () => tf.matMul(a, b, false, transB).dispose(),
        dispose: () => { a.dispose(); b.dispose(); },
      };
    },
  };
}

function attentionWorkload(B, H, T, D) {
  return {
    id: 'K2',
    name: `attention fwd+bwd B${B} H${H} T${T} D${D}`,
    flops: 7 * 2 * B * H * T * T * D,
    slowOnCpu: T >= 1024, // tens of seconds a call on tfjs-cpu
    setup() {
      const shape = [B * H, T, D], scale = 1 / Math.sqrt(D);
      const q = randomTensor(shape, 3), k = randomTensor(shape, 4), v = randomTensor(shape, 5);
      const dout = randomTensor(shape, 6);
      // out = softmax(q·kᵀ/√D)·v with batch dims [B·H, T, D]; tfjs keeps the T×T probabilities
      // for the backward (no recomputation), so it does 6 of the 7 matmul passes heed's count has.
      const f = (q_, k_, v_) => tf.matMul(tf.softmax(tf.matMul(q_.mul(scale), k_, false, true)), v_);
      const fwdBwd = tf.valueAndGrads(f);
      return {
        // forward output and the gradients of sum(out·dout) w.r.t. q, k, v; all disposed by tidy
        run: () => tf.tidy(() => { fwdBwd([q, k, v], dout); }),
        dispose: () => { for (const t of [q, k, v, dout]) t.dispose(); },
      };
    },
  };
}

function trainWorkload(id) {
  const B = 32, T = id === 'W1' ? 64 : 128;
  return {
    id,
    name: id === 'W1' ? 'train step, pooling V128 T64 d64 B32' : 'train step, transformer W2 B32 T128',
    flops: id === 'W1' ? 3 * (2 * 2 * B * T * 64 + 2 * B * 64 * 2) : 3 * transformerForwardFlops(B * T, T, 128, 512, 2, 2, B),
    sequences: B,
    slowOnCpu: id === 'W2',
    setup() {
      const cfg = id === 'W1' ? { vocabSize: 128, dModel: 64, classes: 2, seed: 1 } : W2;
      const model = id === 'W1' ? poolingModel(cfg) : transformerModel(cfg);
      // AdamW with weight decay 0 is Adam; torch's eps (tfjs defaults to 1e-7).
      const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
      const tok = tokens(B * T, cfg.vocabSize, 7);
      const ids = tf.tensor(tok, [B * T], 'int32'), m = masks(tok, B, T, id === 'W1' ? 'pooling' : 'transformer');
      const labels = tf.tidy(() => tf.oneHot(tf.tensor(Int32Array.from({ length: B }, (_, i) => i % 2), [B], 'int32'), 2));
      // mean softmax cross-entropy over the batch
      const loss = () => tf.losses.softmaxCrossEntropy(labels, model.forward(ids, B, T, m));
      return {
        // forward + backward (tf.variableGrads inside minimize) + one Adam update; read the loss
        run: () => { const l = opt.minimize(loss, true, model.vars); l.dataSync(); l.dispose(); },
        dispose: () => { opt.dispose(); model.dispose(); ids.dispose(); labels.dispose(); disposeMasks(m); },
      };
    },
  };
}

function inferWorkload(id) {
  const B = id === 'I1' ? 1 : 32, T = 128;
  return {
    id,
    name: `inference, transformer W2 B${B} T128`,
    flops: transformerForwardFlops(B * T, T, 128, 512, 2, 2, B),
    sequences: B,
    slowOnCpu: id === 'I2',
    setup() {
      const model = transformerModel(W2);
      const tok = tokens(B * T, W2.vocabSize, 9);
      const ids = tf.tensor(tok, [B * T], 'int32');
      const m = masks(tok, B, T, 'transformer');
      return {
        run: () => tf.tidy(() => { model.forward(ids, B, T, m).dataSync(); }),
        dispose: () => { model.dispose(); ids.dispose(); disposeMasks(m); },
      };
    },
  };
}

export const TFJS_WORKLOADS = [
  matmulWorkload(64, 64, 64, false),
  matmulWorkload(128, 128, 128, false),
  matmulWorkload(256, 256, 256, false),
  matmulWorkload(512, 512, 512, false),
  matmulWorkload(4096, 384, 128, true),
  attentionWorkload(32, 4, 128, 32),
  attentionWorkload(1, 4, 2048, 64),
  trainWorkload('W1'),
  trainWorkload('W2'),
  inferWorkload('I1'),
  inferWorkload('I2'),
];

// --- the check: the same models as heed's ---------------------------------------------------------

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Builds small versions of both models in heed (context `h`) and here with the same weights and a
 * batch with padding, then compares the logits, three train steps' losses (heed's AdamW with
 * weight decay 0 against tf.train.adam) and the logits after them, on the current tfjs backend.
 * Returns the largest absolute differences; they are float32 rounding (~1e-6) when the models agree.
 */
export function checkModelsAgainstHeed(h) {
  const out = {};
  const B = 3, T = 16;
  for (const kind of ['pooling', 'transformer']) {
    const cfg = kind === 'pooling'
      ? { vocabSize: 50, dModel: 16, classes: 3, seed: 5 }
      : { vocabSize: 50, maxLen: 20, dModel: 16, heads: 4, ffDim: 32, layers: 2, classes: 3, seed: 5 };
    const hm = kind === 'pooling' ? h.attentionPoolingClassifier(cfg) : h.transformerClassifier(cfg);
    const opt = h.adamwOptimizer(hm, { lr: 1e-3, weightDecay: 0 });
    const tm = kind === 'pooling' ? poolingModel(cfg, hm.stateDict()) : transformerModel(cfg, hm.stateDict());
    const topt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    // rows of 10, 12 and 14 tokens, then padding
    const tok = Int32Array.from({ length: B * T }, (_, i) => (i % T < 10 + 2 * Math.floor(i / T) ? 1 + ((i * 7919) % 49) : 0));
    const labels = Int32Array.from({ length: B }, (_, i) => i % 3);
    const ids = tf.tensor(tok, [B * T], 'int32'), m = masks(tok, B, T, kind);
    const oneHot = tf.tidy(() => tf.oneHot(tf.tensor(labels, [B], 'int32'), 3));
    const logits = () => {
      const l = hm.forward(tok, [B, T]), a = l.toArray();
      l.dispose();
      return [a, tf.tidy(() => tm.forward(ids, B, T, m).dataSync().slice())];
    };
    const [h0, t0] = logits();
    let loss = 0;
    for (let step = 0; step < 3; step++) {
      const lh = h.trainStep(hm, opt, tok, [B, T], labels);
      const lt = topt.minimize(() => tf.losses.softmaxCrossEntropy(oneHot, tm.forward(ids, B, T, m)), true, tm.vars);
      loss = Math.max(loss, Math.abs(lh - lt.dataSync()[0]));
      lt.dispose();
    }
    const [h1, t1] = logits();
    out[kind] = { logits: maxAbsDiff(h0, t0), loss, logitsAfterTraining: maxAbsDiff(h1, t1) };
    opt.dispose(); hm.dispose(); topt.dispose(); tm.dispose(); ids.dispose(); oneHot.dispose(); disposeMasks(m);
  }
  return out;
}

/** checkModelsAgainstHeed on each tfjs backend; throws when a difference exceeds `tolerance`. */
export async function checkTfjsBackends(h, { backends = TFJS_BACKENDS, tolerance = 1e-4 } = {}) {
  const out = {};
  for (const backend of backends) {
    if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialise`);
    await tf.ready();
    out[backend] = checkModelsAgainstHeed(h);
    for (const [kind, diffs] of Object.entries(out[backend])) {
      for (const [what, d] of Object.entries(diffs)) {
        if (!(d <= tolerance)) throw new Error(`tfjs-${backend} ${kind} model differs from heed's: ${what} by ${d}`);
      }
    }
  }
  return out;
}

// --- the runner ---------------------------------------------------------------------------------

/**
 * Times the tfjs version of each of heed's `workloads` (matched by name; the FLOP counts must
 * agree) on each tfjs backend: a timed warm-up call, then tinybench as src/bench/run.ts times
 * heed's rows (median latency); calls of over 2 s get a median of as many more calls as fit in
 * about 10 s instead, and on the cpu backend a call of over `singleCallSeconds` (10) is the row on
 * its own (`cold: true` on the row), as heed's js rows of the slow workloads are one timed call.
 * `skipSlowCpu` skips the cpu backend on the workloads that take tens of seconds there. Rows have
 * heed's BenchRow form with backend 'tfjs-wasm' / 'tfjs-cpu'; a workload that leaks tensors throws.
 */
export async function runTfjsBench(workloads, options = {}) {
  const backends = options.backends ?? TFJS_BACKENDS;
  const log = options.log ?? (() => {});
  const quick = !!options.quick;
  const singleCall = (options.singleCallSeconds ?? 10) * 1000;
  const rows = [];
  for (const hw of workloads) {
    const w = TFJS_WORKLOADS.find((t) => t.name === hw.name);
    if (!w) throw new Error(`no tfjs version of workload "${hw.name}"`);
    if (w.flops !== hw.flops || w.sequences !== hw.sequences) {
      throw new Error(`tfjs workload "${w.name}": FLOPs ${w.flops} / sequences ${w.sequences} differ from heed's ${hw.flops} / ${hw.sequences}`);
    }
    for (const backend of backends) {
      if (backend === 'cpu' && w.slowOnCpu && options.skipSlowCpu) continue;
      if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} failed to initialise`);
      await tf.ready();
      const tensorsBefore = tf.memory().numTensors;
      const { run, dispose } = w.setup();
      // A timed warm-up call first: it decides how the row is timed.
      const t0 = performance.now();
      run();
      const first = performance.now() - t0;
      let ms, samples, cold = false;
      if (backend === 'cpu' && first > singleCall) {
        // plain JS at tens of seconds a call: that one cold call is the row (heed's js rows of the
        // slow workloads are one call too)
        ms = first;
        samples = 1;
        cold = true;
      } else if (first > 2000) {
        // seconds a call: median of a few more calls, about 10 s in all
        const times = [];
        const n = Math.max(1, Math.min(5, Math.round(10000 / first)));
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          run();
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        ms = n % 2 ? times[n >> 1] : (times[n / 2 - 1] + times[n / 2]) / 2;
        samples = n;
      } else {
        // as src/bench/run.ts times heed's rows
        const bench = new Bench({
          time: quick ? 150 : 1000,
          iterations: quick ? 2 : 5,
          warmup: true,
          warmupIterations: 1,
          warmupTime: quick ? 20 : 100,
          throws: true,
        });
        bench.add(`${w.name} tfjs-${backend}`, run);
        await bench.run();
        const r = bench.tasks[0].result;
        if (!r || !('latency' in r)) throw new Error(`benchmark ${w.name} on tfjs-${backend} produced no result`);
        ms = r.latency.p50 ?? r.latency.mean;
        samples = r.latency.samples?.length ?? 0;
      }
      dispose();
      const leaked = tf.memory().numTensors - tensorsBefore;
      if (leaked !== 0) throw new Error(`tfjs workload "${w.name}" on ${backend} leaked ${leaked} tensors`);
      const row = { id: w.id, name: w.name, backend: `tfjs-${backend}`, ms, gflops: w.flops / (ms * 1e6), samples };
      if (w.sequences) row.seqPerSec = (w.sequences * 1000) / ms;
      if (cold) row.cold = true;
      rows.push(row);
      log(`${w.id.padEnd(3)} ${w.name.padEnd(40)} ${row.backend.padEnd(12)} ${ms.toFixed(3).padStart(10)} ms ${row.gflops.toFixed(2).padStart(8)} GFLOP/s` +
        (row.seqPerSec ? ` ${row.seqPerSec.toFixed(1).padStart(9)} seq/s ${(1000 / ms).toFixed(2).padStart(8)} steps/s` : '') +
        (cold ? ' (one cold call)' : samples < 5 ? ` (warm-up + ${samples} timed call${samples > 1 ? 's' : ''})` : ''));
    }
  }
  return rows;
}
