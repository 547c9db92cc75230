// Matrix multiply: c[b] (=|+=) op(a[b]) · op(b[b]).
// c [batch, M, N]; a [batch, M, K], or [batch, K, M] when transA; b [K, N], or [N, K] when transB
// (PyTorch's Linear weight layout), with batch stride strideB elements (0: shared by every batch).
//
// SIMD path: b is packed once into 8-column panels (panel[k*8 + j] = op(b)[k, n0 + j], zero-padded
// past N) so that every transpose form runs the same 4×8 register tile: 8 f32x4 accumulators
// (V8 keeps that many in registers), a row of op(a) broadcast with load32_splat. Row tails clamp
// the row pointers (the duplicate rows are computed and not stored); column tails store lane by
// lane. Scalar path: b is packed row-major [K, N] and each output row is an axpy over k.
import { at } from "../simd";

// @ts-ignore: decorator
@inline const NR = 8;
// @ts-ignore: decorator
@inline const MR = 4;

/** Packs op(b) [K,N] into ceil(N/8) panels of [K,8], zero-padded. */
function packPanels(dst: usize, b: usize, N: i32, K: i32, transB: i32): void {
  const panels = (N + NR - 1) / NR;
  for (let p = 0; p < panels; p++) {
    const n0 = p * NR, w = min(NR, N - n0);
    const panel = at(dst, p * K * NR);
    if (w < NR) memory.fill(panel, 0, <usize>(K * NR) << 2);
    if (transB) {
      // op(b)[k, n] = b[n*K + k]: walk each source row once.
      for (let j = 0; j < w; j++) {
        const src = at(b, (n0 + j) * K);
        for (let k = 0; k < K; k++) store<f32>(at(panel, k * NR + j), load<f32>(at(src, k)));
      }
    } else {
      for (let k = 0; k < K; k++) {
        const src = at(b, k * N + n0), d = at(panel, k * NR);
        if (w == NR) {
          v128.store(d, v128.load(src));
          v128.store(d, v128.load(src, 16), 16);
        } else {
          for (let j = 0; j < w; j++) store<f32>(at(d, j), load<f32>(at(src, j)));
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function storeRow(c: usize, lo: v128, hi: v128, w: i32, accumulate: i32, tmp: usize): void {
  if (w == NR) {
    if (accumulate) {
      lo = f32x4.add(lo, v128.load(c));
      hi = f32x4.add(hi, v128.load(c, 16));
    }
    v128.store(c, lo);
    v128.store(c, hi, 16);
  } else {
    v128.store(tmp, lo);
    v128.store(tmp, hi, 16);
    for (let j = 0; j < w; j++) {
      const v = load<f32>(at(tmp, j));
      store<f32>(at(c, j), accumulate ? load<f32>(at(c, j)) + v : v);
    }
  }
}

/** One batch on the SIMD path: packed panels of op(b) at `pb`. */
function gemmSimd(c: usize, a: usize, pb: usize, M: i32, N: i32, K: i32, transA: i32, accumulate: i32, tmp: usize): void {
  // Address of op(a)[i, k] is a + 4·(i·rs + k·ks).
  const rs = transA ? 1 : K;
  const ks: usize = transA ? <usize>M << 2 : 4;
  const panels = (N + NR - 1) / NR;
  for (let i0 = 0; i0 < M; i0 += MR) {
    const rows = min(MR, M - i0);
    const a0 = at(a, i0 * rs);
    const a1 = at(a, min(i0 + 1, M - 1) * rs);
    const a2 = at(a, min(i0 + 2, M - 1) * rs);
    const a3 = at(a, min(i0 + 3, M - 1) * rs);
    for (let p = 0; p < panels; p++) {
      const n0 = p * NR, w = min(NR, N - n0);
      let pp = at(pb, p * K * NR);
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let off: usize = 0;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pp), b1 = v128.load(pp, 16);
        let av = v128.load32_splat(a0 + off);
        c00 = f32x4.add(c00, f32x4.mul(av, b0)); c01 = f32x4.add(c01, f32x4.mul(av, b1));
        av = v128.load32_splat(a1 + off);
        c10 = f32x4.add(c10, f32x4.mul(av, b0)); c11 = f32x4.add(c11, f32x4.mul(av, b1));
        av = v128.load32_splat(a2 + off);
        c20 = f32x4.add(c20, f32x4.mul(av, b0)); c21 = f32x4.add(c21, f32x4.mul(av, b1));
        av = v128.load32_splat(a3 + off);
        c30 = f32x4.add(c30, f32x4.mul(av, b0)); c31 = f32x4.add(c31, f32x4.mul(av, b1));
        pp += NR << 2;
        off += ks;
      }
      const cr = at(c, i0 * N + n0);
      storeRow(cr, c00, c01, w, accumulate, tmp);
      if (rows > 1) storeRow(at(cr, N), c10, c11, w, accumulate, tmp);
      if (rows > 2) storeRow(at(cr, 2 * N), c20, c21, w, accumulate, tmp);
      if (rows > 3) storeRow(at(cr, 3 * N), c30, c31, w, accumulate, tmp);
    }
  }
}

/** Packs op(b) row-major into dst [K, N]. */
function packRows(dst: usize, b: usize, N: i32, K: i32, transB: i32): void {
  if (transB) {
    for (let n = 0; n < N; n++) {
      const src = at(b, n * K);
      for (let k = 0; k < K; k++) store<f32>(at(dst, k * N + n), load<f32>(at(src, k)));
    }
  } else {
    memory.copy(dst, b, <usize>(K * N) << 2);
  }
}

/** One batch on the scalar path: op(b) row-major at `rb`. */
function gemmScalar(c: usize, a: usize, rb: usize, M: i32, N: i32, K: i32, transA: i32, accumulate: i32): void {
  const rs = transA ? 1 : K, ks = transA ? M : 1;
  for (let i = 0; i < M; i++) {
    const cr = at(c, i * N);
    if (!accumulate) memory.fill(cr, 0, <usize>N << 2);
    for (let k = 0; k < K; k++) {
      const aik = load<f32>(at(a, i * rs + k * ks));
      const br = at(rb, k * N);
      let j = 0;
      for (; j + 4 <= N; j += 4) {
        store<f32>(at(cr, j), load<f32>(at(cr, j)) + aik * load<f32>(at(br, j)));
        store<f32>(at(cr, j + 1), load<f32>(at(cr, j + 1)) + aik * load<f32>(at(br, j + 1)));
        store<f32>(at(cr, j + 2), load<f32>(at(cr, j + 2)) + aik * load<f32>(at(br, j + 2)));
        store<f32>(at(cr, j + 3), load<f32>(at(cr, j + 3)) + aik * load<f32>(at(br, j + 3)));
      }
      for (; j < N; j++) store<f32>(at(cr, j), load<f32>(at(cr, j)) + aik * load<f32>(at(br, j)));
    }
  }
}

/** One (unbatched) product: c (=|+=) op(a) · op(b), all contiguous. Used by matmul_forward and by
 *  the attention kernels for their tiles. */
export function gemm(c: usize, a: usize, b: usize, M: i32, N: i32, K: i32, transA: i32, transB: i32, accumulate: i32): void {
  matmul_forward(c, a, b, 1, M, N, K, transA, transB, 0, accumulate);
}

export function matmul_forward(c: usize, a: usize, b: usize, batch: i32, M: i32, N: i32, K: i32,
                               transA: i32, transB: i32, strideB: i32, accumulate: i32): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) memory.fill(c, 0, <usize>(batch * M * N) << 2);
    return;
  }
  if (ASC_FEATURE_SIMD) {
    const panels = (N + NR - 1) / NR;
    const pb = heap.alloc(<usize>(panels * NR * K) << 2);
    const tmp = heap.alloc(NR << 2);
    for (let bi = 0; bi < batch; bi++) {
      if (bi == 0 || strideB != 0) packPanels(pb, at(b, bi * strideB), N, K, transB);
      gemmSimd(at(c, bi * M * N), at(a, bi * M * K), pb, M, N, K, transA, accumulate, tmp);
    }
    heap.free(tmp);
    heap.free(pb);
  } else {
    const rb = heap.alloc(<usize>(K * N) << 2);
    for (let bi = 0; bi < batch; bi++) {
      if (bi == 0 || strideB != 0) packRows(rb, at(b, bi * strideB), N, K, transB);
      gemmScalar(at(c, bi * M * N), at(a, bi * M * K), rb, M, N, K, transA, accumulate);
    }
    heap.free(rb);
  }
}
