// The reference workloads of bench/README.md as data: each builds its inputs on a context
// and returns the function to time: K1 (matmul), K2 (attention), W1/W2 (train steps), I1/I2
// (inference).
import type { Context } from '../context.js';
import type { Tensor } from '../tensor.js';
import type { BackendName } from '../backends/backend.js';

export interface Workload {
  id: string;
  name: string;
  /** Floating-point operations per call (multiply-adds count 2), for GFLOP/s. */
  flops: number;
  /** Sequences per call (train and inference workloads), for seq/s. */
  sequences?: number;
  /** Rough cost on the js backend in seconds, so the runner can cap its iterations. */
  slow?: boolean;
  /** Threads used (data-parallel workloads); absent: one. */
  threads?: number;
  /** Backends this workload runs on (default: all the runner was given). */
  backends?: BackendName[];
  setup(h: Context): Instance | Promise<Instance>;
}

export interface Instance { run(): void | Promise<void>; dispose(): void | Promise<void> }

function randomTensor(h: Context, shape: number[], seed: number): Tensor {
  let s = seed >>> 0;
  const n = shape.reduce((a, d) => a * d, 1), v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = (s / 2 ** 32 - 0.5) * 2;
  }
  return h.tensor(v, shape);
}

function matmulWorkload(M: number, N: number, K: number, transB: boolean): Workload {
  return {
    id: 'K1',
    name: transB ? `matmul [${M},${K}]·[${N},${K}]ᵀ` : `matmul ${M}³`,
    flops: 2 * M * N * K,
    slow: M * N * K >= 256 ** 3,
    setup(h) {
      const a = randomTensor(h, [M, K], 1), b = randomTensor(h, transB ? [N, K] : [K, N], 2);
      return {
        run: () => h.ops.matmul(a, b, { transB }).dispose(),
        dispose: () => { a.dispose(); b.dispose(); },
      };
    },
  };
}

function attentionWorkload(B: number, H: number, T: number, D: number): Workload {
  // Forward 2 matmuls of T·T·D, backward 5 (recomputed scores, dV, dP, dQ, dK): 7 × 2·T·T·D per head.
  // The backward takes the forward's saved out and log-sum-exps, as training does (an autodiff
  // tape, tfjs's included, keeps the forward's results the same way).
  return {
    id: 'K2',
    name: `attention fwd+bwd B${B} H${H} T${T} D${D}`,
    flops: 7 * 2 * B * H * T * T * D,
    slow: true,
    setup(h) {
      const shape = [B, H, T, D];
      const q = randomTensor(h, shape, 3), k = randomTensor(h, shape, 4), v = randomTensor(h, shape, 5);
      const dout = randomTensor(h, shape, 6);
      return {
        run: () => {
          const saved = h.ops.attentionWithLse(q, k, v);
          const g = h.ops.attentionBackward(q, k, v, dout, { saved });
          for (const t of [saved.out, saved.lse, g.dq, g.dk, g.dv]) t.dispose();
        },
        dispose: () => { for (const t of [q, k, v, dout]) t.dispose(); },
      };
    },
  };
}

function tokens(n: number, vocab: number, seed: number): Int32Array {
  let s = seed >>> 0;
  const t = new Int32Array(n);
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; t[i] = 1 + (s % (vocab - 1)); }
  return t;
}

/** Matmul FLOPs of one transformer forward over N tokens (projections, attention, FF, head). */
function transformerForwardFlops(N: number, T: number, d: number, ff: number, layers: number, C: number, B: number): number {
  const perLayer = 2 * N * d * 3 * d + 2 * 2 * N * T * d + 2 * N * d * d + 2 * 2 * N * d * ff;
  return layers * perLayer + 2 * B * d * C;
}

const W2 = { vocabSize: 8192, maxLen: 128, dModel: 128, heads: 4, ffDim: 512, layers: 2, classes: 2, seed: 1 };

function trainWorkload(id: 'W1' | 'W2'): Workload {
  const B = 32, T = id === 'W1' ? 64 : 128;
  return {
    id,
    name: id === 'W1' ? 'train step, pooling V128 T64 d64 B32' : 'train step, transformer W2 B32 T128',
    // forward + backward ≈ 3 × forward (the backward's two matmuls per forward matmul)
    flops: id === 'W1' ? 3 * (2 * 2 * B * T * 64 + 2 * B * 64 * 2) : 3 * transformerForwardFlops(B * T, T, 128, 512, 2, 2, B),
    sequences: B,
    slow: id === 'W2',
    setup(h) {
      const model = id === 'W1' ? h.attentionPoolingClassifier({ vocabSize: 128, dModel: 64, classes: 2, seed: 1 }) : h.transformerClassifier(W2);
      const opt = h.adamwOptimizer(model, { lr: 1e-3, weightDecay: 0 });
      const tok = tokens(B * T, model.config.vocabSize, 7), labels = Int32Array.from({ length: B }, (_, i) => i % 2);
      return {
        run: () => { h.trainStep(model, opt, tok, [B, T], labels); },
        dispose: () => { opt.dispose(); model.dispose(); },
      };
    },
  };
}

/** W2 on `threads` threads with the data-parallel trainer (wasm only: the mode's point is speed). */
function trainParallelWorkload(threads: number): Workload {
  const B = 32, T = 128, w2 = trainWorkload('W2');
  return {
    id: 'W2',
    name: `train step, transformer W2 B32 T128, ${threads} threads`,
    flops: w2.flops,
    sequences: B,
    slow: true,
    threads,
    backends: ['wasm'],
    async setup(h) {
      const model = h.transformerClassifier(W2);
      const opt = h.adamwOptimizer(model, { lr: 1e-3, weightDecay: 0 });
      const dp = await h.dataParallel(model, opt, { threads });
      const tok = tokens(B * T, model.config.vocabSize, 7), labels = Int32Array.from({ length: B }, (_, i) => i % 2);
      return {
        run: async () => { await dp.step(tok, [B, T], labels); },
        dispose: async () => { await dp.close(); opt.dispose(); model.dispose(); },
      };
    },
  };
}

function inferWorkload(id: 'I1' | 'I2'): Workload {
  const B = id === 'I1' ? 1 : 32, T = 128;
  return {
    id,
    name: `inference, transformer W2 B${B} T128`,
    flops: transformerForwardFlops(B * T, T, 128, 512, 2, 2, B),
    sequences: B,
    slow: id === 'I2',
    setup(h) {
      const model = h.transformerClassifier(W2);
      const tok = tokens(B * T, W2.vocabSize, 9);
      return { run: () => model.forward(tok, [B, T]).dispose(), dispose: () => model.dispose() };
    },
  };
}

export const MODEL_WORKLOADS: Workload[] = [trainWorkload('W1'), trainWorkload('W2'), trainParallelWorkload(2), inferWorkload('I1'), inferWorkload('I2')];

export const KERNEL_WORKLOADS: Workload[] = [
  matmulWorkload(64, 64, 64, false),
  matmulWorkload(128, 128, 128, false),
  matmulWorkload(256, 256, 256, false),
  matmulWorkload(512, 512, 512, false),
  matmulWorkload(4096, 384, 128, true),
  attentionWorkload(32, 4, 128, 32),
  attentionWorkload(1, 4, 2048, 64),
];
