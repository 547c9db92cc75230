// Matrix multiply reference: the oracle for assembly/kernels/matmul.ts (same layout and flags).
// Plain loops in a cache-friendly order (a row of op(a) against rows of b), accumulated in f64.
type F32 = Float32Array;

export function matmul_forward(c: F32, a: F32, b: F32, batch: number, M: number, N: number, K: number,
                               transA: number, transB: number, strideB: number, accumulate: number): void {
  const arow = new Float64Array(K), acc = new Float64Array(N);
  for (let bi = 0; bi < batch; bi++) {
    const ao = bi * M * K, bo = bi * strideB, co = bi * M * N;
    for (let i = 0; i < M; i++) {
      for (let k = 0; k < K; k++) arow[k] = transA ? a[ao + k * M + i] : a[ao + i * K + k];
      if (transB) {
        // op(b)[k, j] = b[j*K + k]: a dot product of two contiguous rows per output.
        for (let j = 0; j < N; j++) {
          let s = 0;
          const br = bo + j * K;
          for (let k = 0; k < K; k++) s += arow[k] * b[br + k];
          acc[j] = s;
        }
      } else {
        acc.fill(0);
        for (let k = 0; k < K; k++) {
          const aik = arow[k], br = bo + k * N;
          for (let j = 0; j < N; j++) acc[j] += aik * b[br + j];
        }
      }
      for (let j = 0; j < N; j++) c[co + i * N + j] = accumulate ? c[co + i * N + j] + acc[j] : acc[j];
    }
  }
}
