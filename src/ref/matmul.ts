// Matrix multiply reference: the oracle for assembly/kernels/matmul.ts (same layout and flags).
type F32 = Float32Array;

export function matmul_forward(c: F32, a: F32, b: F32, batch: number, M: number, N: number, K: number,
                               transA: number, transB: number, strideB: number, accumulate: number): void {
  for (let bi = 0; bi < batch; bi++) {
    const ao = bi * M * K, bo = bi * strideB, co = bi * M * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const aik = transA ? a[ao + k * M + i] : a[ao + i * K + k];
          const bkj = transB ? b[bo + j * K + k] : b[bo + k * N + j];
          s += aik * bkj;
        }
        c[co + i * N + j] = accumulate ? c[co + i * N + j] + s : s;
      }
    }
  }
}
