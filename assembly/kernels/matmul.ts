// Matrix multiply: c[b] (=|+=) op(a[b]) · op(b[b]).
// c [batch, M, N]; a [batch, M, K], or [batch, K, M] when transA; b [K, N], or [N, K] when transB
// (PyTorch's Linear weight layout), with batch stride strideB elements (0: shared by every batch).
//
// SIMD path: both operands are packed so that every transpose form runs the same 4×8 register tile
// from two unit-stride streams: op(b) into 8-column panels (panel[k*8 + j] = op(b)[k, n0 + j]) and
// op(a) into 4-row strips (strip[k*4 + r] = op(a)[i0 + r, k]), both zero-padded past the edge. The
// tile keeps 8 f32x4 accumulators (V8 spills beyond that) and broadcasts op(a) with load32_splat.
// Tiles that overhang the edge of c are computed into a scratch tile and copied in.
// Scalar path: b is packed row-major [K, N] and each output row is an axpy over k.
import { at, madd } from "../simd";

// @ts-ignore: decorator
@inline const NR = 8;
// @ts-ignore: decorator
@inline const MR = 4;
/** Rows of op(a) packed per pass: 16 strips, 64·K floats of scratch. */
// @ts-ignore: decorator
@inline const STRIPS = 16;

/** Writes the transpose of the 4×4 block at src (rows `srcStride` bytes apart) to dst (rows
 *  `dstStride` bytes apart). */
// @ts-ignore: decorator
@inline function transpose4(dst: usize, dstStride: usize, src: usize, srcStride: usize): void {
  const x0 = v128.load(src), x1 = v128.load(src + srcStride);
  const x2 = v128.load(src + 2 * srcStride), x3 = v128.load(src + 3 * srcStride);
  const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
  v128.store(dst + dstStride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * dstStride, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * dstStride, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
}

/** Packs op(b) [K,N] into ceil(N/8) panels of [K,8], zero-padded. */
function packPanels(dst: usize, b: usize, N: i32, K: i32, transB: i32): void {
  const panels = (N + NR - 1) / NR;
  for (let p = 0; p < panels; p++) {
    const n0 = p * NR, w = min(NR, N - n0);
    const panel = at(dst, p * K * NR);
    if (w < NR) memory.fill(panel, 0, <usize>(K * NR) << 2);
    if (transB) {
      // op(b)[k, n] = b[n*K + k]: a full panel is two 4×4 transposes per 4 values of k.
      let k0 = 0;
      if (w == NR) {
        const s0 = at(b, n0 * K);
        for (; k0 + 4 <= K; k0 += 4) {
          transpose4(at(panel, k0 * NR), NR << 2, at(s0, k0), <usize>K << 2);
          transpose4(at(panel, k0 * NR + 4), NR << 2, at(s0, 4 * K + k0), <usize>K << 2);
        }
      }
      // The rest (a narrow panel, or k past the last multiple of 4) walks each source row once.
      for (let j = 0; j < w; j++) {
        const src = at(b, (n0 + j) * K);
        for (let k = k0; k < K; k++) store<f32>(at(panel, k * NR + j), load<f32>(at(src, k)));
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

/** Packs rows i0..i0+rows-1 of op(a) into one strip [K,4], zero-padded past `rows`. */
function packStrip(dst: usize, a: usize, i0: i32, rows: i32, M: i32, K: i32, transA: i32): void {
  if (rows < MR) memory.fill(dst, 0, <usize>(K * MR) << 2);
  if (transA) {
    // op(a)[i, k] = a[k*M + i]. Full transposed strips are packed a chunk at a time (gemmSimd);
    // this is the partial one.
    for (let k = 0; k < K; k++) {
      for (let r = 0; r < rows; r++) store<f32>(at(dst, k * MR + r), load<f32>(at(a, k * M + i0 + r)));
    }
    return;
  }
  if (rows < MR) {
    for (let r = 0; r < rows; r++) {
      const src = at(a, (i0 + r) * K);
      for (let k = 0; k < K; k++) store<f32>(at(dst, k * MR + r), load<f32>(at(src, k)));
    }
    return;
  }
  const r0 = at(a, i0 * K), r1 = at(r0, K), r2 = at(r1, K), r3 = at(r2, K);
  let k = 0;
  for (; k + 4 <= K; k += 4) transpose4(dst + (<usize>k << 4), 16, at(r0, k), <usize>K << 2);
  for (; k < K; k++) {
    const o = <usize>k << 2, d = dst + (<usize>k << 4);
    store<f32>(d, load<f32>(r0 + o));
    store<f32>(d, load<f32>(r1 + o), 4);
    store<f32>(d, load<f32>(r2 + o), 8);
    store<f32>(d, load<f32>(r3 + o), 12);
  }
}

/** The 4×8 tiles of `strips` packed strips (at `pa`, K·4 floats apart) times `panels` packed panels
 *  (at `pb`, K·8 floats apart), each written to c (=|+=) at row stride `ldc` bytes. The k loop sits
 *  two loops deep on purpose: V8 unrolls an inner loop more the deeper it is nested (three copies
 *  here, against none for a loop at depth one), which is worth ~15% on this kernel. */
function tiles(c: usize, ldc: usize, pa: usize, pb: usize, K: i32, strips: i32, panels: i32, accumulate: i32): void {
  const stripBytes = <usize>K << 4;
  for (let s = 0; s < strips; s++) {
    const a0 = pa + <usize>s * stripBytes, aEnd = a0 + stripBytes;
    let q = pb;
    let cr = c + <usize>s * (ldc << 2);
    for (let p = 0; p < panels; p++) {
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let ap = a0;
      do {
        const b0 = v128.load(q), b1 = v128.load(q, 16);
        let av = v128.load32_splat(ap);
        c00 = madd(av, b0, c00); c01 = madd(av, b1, c01);
        av = v128.load32_splat(ap, 4);
        c10 = madd(av, b0, c10); c11 = madd(av, b1, c11);
        av = v128.load32_splat(ap, 8);
        c20 = madd(av, b0, c20); c21 = madd(av, b1, c21);
        av = v128.load32_splat(ap, 12);
        c30 = madd(av, b0, c30); c31 = madd(av, b1, c31);
        q += NR << 2;
        ap += MR << 2;
      } while (ap < aEnd);
      // One load and one store at a time: reading all of c first would need 16 live vectors.
      const r1 = cr + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
      if (accumulate) {
        v128.store(cr, f32x4.add(c00, v128.load(cr))); v128.store(cr, f32x4.add(c01, v128.load(cr, 16)), 16);
        v128.store(r1, f32x4.add(c10, v128.load(r1))); v128.store(r1, f32x4.add(c11, v128.load(r1, 16)), 16);
        v128.store(r2, f32x4.add(c20, v128.load(r2))); v128.store(r2, f32x4.add(c21, v128.load(r2, 16)), 16);
        v128.store(r3, f32x4.add(c30, v128.load(r3))); v128.store(r3, f32x4.add(c31, v128.load(r3, 16)), 16);
      } else {
        v128.store(cr, c00); v128.store(cr, c01, 16);
        v128.store(r1, c10); v128.store(r1, c11, 16);
        v128.store(r2, c20); v128.store(r2, c21, 16);
        v128.store(r3, c30); v128.store(r3, c31, 16);
      }
      cr += NR << 2;
    }
  }
}

/** One tile that overhangs c: computed into `tmp` [4,8], then its rows × w corner copied in. */
function edgeTile(c: usize, N: i32, pa: usize, pb: usize, K: i32, rows: i32, w: i32, accumulate: i32, tmp: usize): void {
  tiles(tmp, NR << 2, pa, pb, K, 1, 1, 0);
  for (let r = 0; r < rows; r++) {
    const cr = at(c, r * N), tr = at(tmp, r * NR);
    for (let j = 0; j < w; j++) {
      const v = load<f32>(at(tr, j));
      store<f32>(at(cr, j), accumulate ? load<f32>(at(cr, j)) + v : v);
    }
  }
}

/** One batch on the SIMD path: packed panels of op(b) at `pb`, strip scratch at `pa`. */
function gemmSimd(c: usize, a: usize, pb: usize, M: i32, N: i32, K: i32, transA: i32, accumulate: i32, pa: usize, tmp: usize): void {
  const fullPanels = N / NR, tailW = N - fullPanels * NR;
  const stripBytes = <usize>K << 4, panelBytes = <usize>K << 5;
  const ldc = <usize>N << 2;
  for (let i0 = 0; i0 < M; i0 += MR * STRIPS) {
    const rowsHere = min(MR * STRIPS, M - i0);
    const strips = (rowsHere + MR - 1) / MR, fullStrips = rowsHere / MR;
    if (transA && fullStrips > 0) {
      // op(a) rows are columns of a: one pass over k copies the 4 columns of every full strip from
      // the same row of a, so each cache line of a is read once per chunk, not once per strip.
      for (let k = 0; k < K; k++) {
        const src = at(a, k * M + i0);
        let d = pa + (<usize>k << 4);
        for (let s = 0; s < fullStrips; s++, d += stripBytes) v128.store(d, v128.load(src + (<usize>s << 4)));
      }
      if (fullStrips < strips) {
        packStrip(pa + <usize>fullStrips * stripBytes, a, i0 + fullStrips * MR, rowsHere - fullStrips * MR, M, K, transA);
      }
    } else {
      for (let s = 0; s < strips; s++) {
        packStrip(pa + <usize>s * stripBytes, a, i0 + s * MR, min(MR, rowsHere - s * MR), M, K, transA);
      }
    }
    const c0 = at(c, i0 * N);
    if (fullStrips > 0 && fullPanels > 0) tiles(c0, ldc, pa, pb, K, fullStrips, fullPanels, accumulate);
    if (tailW > 0) {
      for (let s = 0; s < fullStrips; s++) {
        edgeTile(at(c0, s * MR * N + fullPanels * NR), N, pa + <usize>s * stripBytes,
                 pb + <usize>fullPanels * panelBytes, K, MR, tailW, accumulate, tmp);
      }
    }
    if (fullStrips < strips) {
      const rows = rowsHere - fullStrips * MR;
      const sa = pa + <usize>fullStrips * stripBytes, cs = at(c0, fullStrips * MR * N);
      for (let p = 0; p < fullPanels + (tailW > 0 ? 1 : 0); p++) {
        edgeTile(at(cs, p * NR), N, sa, pb + <usize>p * panelBytes, K, rows, min(NR, N - p * NR), accumulate, tmp);
      }
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
    const pa = heap.alloc(<usize>(min(M + MR - 1, MR * STRIPS) / MR * MR * K) << 2);
    const tmp = heap.alloc(MR * NR << 2);
    for (let bi = 0; bi < batch; bi++) {
      if (bi == 0 || strideB != 0) packPanels(pb, at(b, bi * strideB), N, K, transB);
      gemmSimd(at(c, bi * M * N), at(a, bi * M * K), pb, M, N, K, transA, accumulate, pa, tmp);
    }
    heap.free(tmp);
    heap.free(pa);
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
