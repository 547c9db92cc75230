// The reference workloads of shared/spec/WORKLOADS.md as data: each builds its inputs on a context
// and returns the function to time. K1 and K2 so far (kernels); W1, W2, I1, I2 come with the models.
import type { Context } from '../context.js';
import type { Tensor } from '../tensor.js';

export interface Workload {
  id: string;
  name: string;
  /** Floating-point operations per call (multiply-adds count 2), for GFLOP/s. */
  flops: number;
  /** Rough cost on the js backend in seconds, so the runner can cap its iterations. */
  slow?: boolean;
  setup(h: Context): { run(): void; dispose(): void };
}

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
          h.ops.attention(q, k, v).dispose();
          const g = h.ops.attentionBackward(q, k, v, dout);
          g.dq.dispose(); g.dk.dispose(); g.dv.dispose();
        },
        dispose: () => { for (const t of [q, k, v, dout]) t.dispose(); },
      };
    },
  };
}

export const KERNEL_WORKLOADS: Workload[] = [
  matmulWorkload(64, 64, 64, false),
  matmulWorkload(128, 128, 128, false),
  matmulWorkload(256, 256, 256, false),
  matmulWorkload(512, 512, 512, false),
  matmulWorkload(4096, 384, 128, true),
  attentionWorkload(32, 4, 128, 32),
  attentionWorkload(1, 4, 2048, 64),
];
