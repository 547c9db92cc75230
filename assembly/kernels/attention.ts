// Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention):
// out = softmax(q·kᵀ·scale + masks)·v.
// q, out, dq, dout: [B,H,T,D]; lse: [B,H,T]; mask: [B,S] (1 keep, 0 padding; read only when
// useMask); p: [B,H,T,S]. k, v, dk, dv: B·H blocks of S rows of D, block bh at bh·kvStride
// (kvStride ≥ S·D; S·D is contiguous [B,H,S,D], Smax·D reads the first S keys of a cache
// [B,H,Smax,D] in place). Query t sits at position t + qOffset: causal lets it see keys
// 0..min(S, t + qOffset + 1) − 1 (qOffset 0: top-left, as torch's is_causal; S − T: bottom-right,
// the KV-cache convention; rows past the end see every key).
//
// Tiled, never a T×S buffer: query rows go in tiles of BR; a tile's scores [BR, S] come from one
// register-tiled GEMM (q_tile · kᵀ), are masked, exponentiated (vectorised exp) and summed per
// row, and out_tile = p · v is a second GEMM. Each row saves lse = m + log l, and the backward
// recomputes p = exp(s − lse) tile by tile (FlashAttention's scheme): scratch is 2·BR·S floats,
// linear in S. A row whose keys are all masked has out = 0 and lse = +Infinity, so every
// recomputed p_j is exp(−Infinity) = 0 and its gradients are zero: no 0/0 anywhere.
import { at, axpy, dot, dotInOrder, exp4, F32_MAX, kf, K_MAX, K_NEG_INF, K_NEG_MAX, scaleBy } from "../simd";
import { gemm } from "./matmul";

/** Query rows per tile: big enough for the GEMMs to run at speed, small enough for L2. */
// @ts-ignore: decorator
@inline const BR = 64;

/** The number of leading keys query t may see (the causal mask cuts the row after its own
 *  position t + qOffset). */
// @ts-ignore: decorator
@inline function keyLimit(t: i32, S: i32, causal: i32, qOffset: i32): i32 {
  return causal ? min(S, t + qOffset + 1) : S;
}

/** A score saturated to ±F32_MAX: q·k past f32's range would be ±Infinity, and the max subtracted
 *  from it would make Infinity − Infinity = NaN, where the f64 reference stays finite. Saturated
 *  scores tie (the reference tells 1e39 from 2e39); NaN stays NaN. */
// @ts-ignore: decorator
@inline function saturate(s: f32): f32 {
  return min(max(s, -F32_MAX), F32_MAX);
}

/** 1 when key j of this batch row is padding. */
// @ts-ignore: decorator
@inline function masked(maskRow: usize, useMask: i32, j: i32): bool {
  return useMask != 0 && load<f32>(at(maskRow, j)) == 0;
}

/** s[j] = scale·(q·k_j) for j < kmax, −Infinity where the key is masked; returns the max
 *  (−Infinity when every key is masked). */
// @ts-ignore: decorator
@inline function rowScores(s: usize, qr: usize, kh: usize, maskRow: usize, useMask: i32,
                           kmax: i32, D: i32, scale: f32): f32 {
  let m: f32 = -Infinity;
  for (let j = 0; j < kmax; j++) {
    let sj: f32 = -Infinity;
    if (!masked(maskRow, useMask, j)) sj = saturate(dot(qr, at(kh, j * D), D) * scale);
    store<f32>(at(s, j), sj);
    m = max(m, sj);
  }
  return m;
}

/** Scores of a tile into st [R, W] (row stride W): scale·q·kᵀ (saturated) with −Infinity where the key is
 *  masked or past the causal limit. W = number of keys any row of the tile may see. */
function tileScores(st: usize, qt: usize, kh: usize, maskRow: usize, useMask: i32,
                    t0: i32, R: i32, W: i32, S: i32, D: i32, scale: f32, causal: i32, qOffset: i32): void {
  gemm(st, qt, kh, R, W, D, 0, 1, 0);
  for (let r = 0; r < R; r++) {
    const row = at(st, r * W), kmax = keyLimit(t0 + r, S, causal, qOffset);
    let j = 0;
    if (ASC_FEATURE_SIMD) {
      const sc = f32x4.splat(scale);
      for (; j + 4 <= kmax; j += 4) {
        v128.store(at(row, j), f32x4.pmin(f32x4.pmax(f32x4.mul(v128.load(at(row, j)), sc), kf(K_NEG_MAX)), kf(K_MAX)));
      }
    }
    for (; j < kmax; j++) store<f32>(at(row, j), saturate(load<f32>(at(row, j)) * scale));
    for (j = kmax; j < W; j++) store<f32>(at(row, j), -Infinity);
    if (useMask) {
      for (j = 0; j < kmax; j++) if (load<f32>(at(maskRow, j)) == 0) store<f32>(at(row, j), -Infinity);
    }
  }
}

/** row[j] = exp(row[j] − shift) over n (exactly 0 where row[j] = −Infinity); returns Σ. */
function expRow(row: usize, n: i32, shift: f32): f32 {
  let j = 0;
  let l: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const sh = f32x4.splat(shift);
    let acc = f32x4.splat(0);
    // exp4 clamps at e^−87, so masked scores (−Infinity) are zeroed explicitly. Two vectors per
    // iteration: independent chains for the out-of-order core to overlap.
    for (; j + 8 <= n; j += 8) {
      const x0 = v128.load(at(row, j)), x1 = v128.load(at(row, j), 16);
      const e0 = v128.andnot(exp4(f32x4.sub(x0, sh)), f32x4.eq(x0, kf(K_NEG_INF)));
      const e1 = v128.andnot(exp4(f32x4.sub(x1, sh)), f32x4.eq(x1, kf(K_NEG_INF)));
      v128.store(at(row, j), e0);
      v128.store(at(row, j), e1, 16);
      acc = f32x4.add(acc, f32x4.add(e0, e1));
    }
    for (; j + 4 <= n; j += 4) {
      const x = v128.load(at(row, j));
      const e = v128.andnot(exp4(f32x4.sub(x, sh)), f32x4.eq(x, kf(K_NEG_INF)));
      v128.store(at(row, j), e);
      acc = f32x4.add(acc, e);
    }
    l = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  }
  for (; j < n; j++) {
    const e = Mathf.exp(load<f32>(at(row, j)) - shift);
    store<f32>(at(row, j), e);
    l += e;
  }
  return l;
}

function rowMax(row: usize, n: i32): f32 {
  let m: f32 = -Infinity;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f32x4.splat(-Infinity);
    for (; j + 4 <= n; j += 4) acc = f32x4.max(acc, v128.load(at(row, j)));
    m = max(max(f32x4.extract_lane(acc, 0), f32x4.extract_lane(acc, 1)), max(f32x4.extract_lane(acc, 2), f32x4.extract_lane(acc, 3)));
  }
  for (; j < n; j++) m = max(m, load<f32>(at(row, j)));
  return m;
}

// Row-wise versions for problems with fewer query rows than a GEMM tile can use (T < 4: decoding,
// and the pooling model's one query per sequence), where packing k and v would cost as much as
// the products themselves.
function rowsForward(out: usize, lse: usize, q: usize, k: usize, v: usize, mask: usize, useMask: i32,
                                  B: i32, H: i32, T: i32, S: i32, D: i32, scale: f32, causal: i32,
                                  qOffset: i32, kvStride: i32): void {
  const s = heap.alloc(<usize>max(S, 1) << 2);        // one row of scores, reused by every query
  for (let b = 0; b < B; b++) {
    const maskRow = at(mask, b * S);
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const kh = at(k, bh * kvStride), vh = at(v, bh * kvStride);
      for (let t = 0; t < T; t++) {
        const row = bh * T + t;
        const qr = at(q, row * D), outr = at(out, row * D);
        const kmax = keyLimit(t, S, causal, qOffset);
        const m = rowScores(s, qr, kh, maskRow, useMask, kmax, D, scale);   // pass 1: scores, max
        memory.fill(outr, 0, <usize>D << 2);
        if (m == -Infinity) {                         // every key masked: out = 0, lse = +Infinity
          store<f32>(at(lse, row), Infinity);
          continue;
        }
        let l: f32 = 0;                               // pass 2: out = Σ p_j v_j, l = Σ p_j
        for (let j = 0; j < kmax; j++) {
          const p = Mathf.exp(load<f32>(at(s, j)) - m);
          if (p == 0) continue;                       // masked (exp(−Infinity)) or underflowed
          l += p;
          axpy(outr, at(vh, j * D), p, D);
        }
        scaleBy(outr, <f32>1 / l, D);                 // l ≥ 1: p = 1 at the max
        store<f32>(at(lse, row), m + Mathf.log(l));
      }
    }
  }
  heap.free(s);
}

/** Row-wise backward for few query rows (same math as the tiled one, without GEMMs). */
function rowsBackward(dq: usize, dk: usize, dv: usize, q: usize, k: usize, v: usize,
                                   out: usize, lse: usize, dout: usize, mask: usize, useMask: i32,
                                   B: i32, H: i32, T: i32, S: i32, D: i32, scale: f32, causal: i32,
                                   qOffset: i32, kvStride: i32): void {
  for (let b = 0; b < B; b++) {
    const maskRow = at(mask, b * S);
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const kh = at(k, bh * kvStride), vh = at(v, bh * kvStride);
      const dkh = at(dk, bh * kvStride), dvh = at(dv, bh * kvStride);
      for (let t = 0; t < T; t++) {
        const row = bh * T + t;
        const L = load<f32>(at(lse, row));
        if (L == Infinity) continue;                  // every key masked: zero gradients
        const qr = at(q, row * D), dqr = at(dq, row * D), dor = at(dout, row * D);
        const Di = dot(dor, at(out, row * D), D);
        const kmax = keyLimit(t, S, causal, qOffset);
        for (let j = 0; j < kmax; j++) {
          if (masked(maskRow, useMask, j)) continue;
          const kj = at(kh, j * D);
          // in the forward pass this was: p = exp(s − m) / l, with lse = m + log l
          const p = Mathf.exp(saturate(dot(qr, kj, D) * scale) - L);
          if (p == 0) continue;
          axpy(at(dvh, j * D), dor, p, D);
          const ds = p * (dot(dor, at(vh, j * D), D) - Di) * scale;
          axpy(dqr, kj, ds, D);
          axpy(at(dkh, j * D), qr, ds, D);
        }
      }
    }
  }
}

/** Tiled forward (see the file comment). */
export function attention_forward(out: usize, lse: usize, q: usize, k: usize, v: usize, mask: usize, useMask: i32,
                                  B: i32, H: i32, T: i32, S: i32, D: i32, scale: f32, causal: i32,
                                  qOffset: i32, kvStride: i32): void {
  if (T < 4) { rowsForward(out, lse, q, k, v, mask, useMask, B, H, T, S, D, scale, causal, qOffset, kvStride); return; }
  // D = 0 still has an lse (every score is 0: log of the visible key count), so no early return.
  const st = heap.alloc(<usize>(BR * max(S, 1)) << 2);   // one tile of scores / probabilities
  const ls = heap.alloc(<usize>BR << 2);                  // Σp per row of the tile
  for (let b = 0; b < B; b++) {
    const maskRow = at(mask, b * S);
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const kh = at(k, bh * kvStride), vh = at(v, bh * kvStride);
      for (let t0 = 0; t0 < T; t0 += BR) {
        const R = min(BR, T - t0), W = keyLimit(t0 + R - 1, S, causal, qOffset);
        const qt = at(q, (bh * T + t0) * D), ot = at(out, (bh * T + t0) * D);
        if (W <= 0) {                                   // no keys at all
          memory.fill(ot, 0, <usize>(R * D) << 2);
          for (let r = 0; r < R; r++) store<f32>(at(lse, bh * T + t0 + r), Infinity);
          continue;
        }
        tileScores(st, qt, kh, maskRow, useMask, t0, R, W, S, D, scale, causal, qOffset);
        for (let r = 0; r < R; r++) {                   // p = exp(s − m) unnormalised; l per row
          const row = at(st, r * W), m = rowMax(row, W);
          if (m == -Infinity) {                         // every key masked: p = 0, lse = +Infinity
            memory.fill(row, 0, <usize>W << 2);
            store<f32>(at(ls, r), 0);
            store<f32>(at(lse, bh * T + t0 + r), Infinity);
            continue;
          }
          const l = expRow(row, W, m);                  // l ≥ 1: p = 1 at the max
          store<f32>(at(ls, r), l);
          store<f32>(at(lse, bh * T + t0 + r), m + Mathf.log(l));
        }
        gemm(ot, st, vh, R, D, W, 0, 0, 0);              // out = p · v, then / l per row
        for (let r = 0; r < R; r++) {
          const l = load<f32>(at(ls, r));
          if (l > 0) scaleBy(at(ot, r * D), <f32>1 / l, D);
        }
      }
    }
  }
  heap.free(ls);
  heap.free(st);
}

/** Accumulates dq, dk, dv. With p = exp(s − lse) and Di = dout·out (= Σ p_j dout·v_j):
 *  dv += pᵀ·dout; dp = dout·vᵀ; ds = p ⊙ (dp − Di); dq += scale·ds·k; dk += scale·dsᵀ·q (five GEMMs per tile). */
export function attention_backward(dq: usize, dk: usize, dv: usize, q: usize, k: usize, v: usize,
                                   out: usize, lse: usize, dout: usize, mask: usize, useMask: i32,
                                   B: i32, H: i32, T: i32, S: i32, D: i32, scale: f32, causal: i32,
                                   qOffset: i32, kvStride: i32): void {
  if (T < 4) { rowsBackward(dq, dk, dv, q, k, v, out, lse, dout, mask, useMask, B, H, T, S, D, scale, causal, qOffset, kvStride); return; }
  if (D <= 0 || S <= 0) return;
  const pt = heap.alloc(<usize>(BR * S) << 2), dst = heap.alloc(<usize>(BR * S) << 2);
  for (let b = 0; b < B; b++) {
    const maskRow = at(mask, b * S);
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const kh = at(k, bh * kvStride), vh = at(v, bh * kvStride);
      const dkh = at(dk, bh * kvStride), dvh = at(dv, bh * kvStride);
      for (let t0 = 0; t0 < T; t0 += BR) {
        const R = min(BR, T - t0), W = keyLimit(t0 + R - 1, S, causal, qOffset);
        if (W <= 0) continue;
        const o = (bh * T + t0) * D;
        const qt = at(q, o), dqt = at(dq, o), dot_ = at(dout, o), ot = at(out, o);
        // in the forward pass this was: p = exp(s − m) / l, with lse = m + log l
        tileScores(pt, qt, kh, maskRow, useMask, t0, R, W, S, D, scale, causal, qOffset);
        for (let r = 0; r < R; r++) {
          const row = at(pt, r * W), L = load<f32>(at(lse, bh * T + t0 + r));
          if (L == Infinity) memory.fill(row, 0, <usize>W << 2);
          else expRow(row, W, L);
        }
        gemm(dvh, pt, dot_, W, D, R, 1, 0, 1);          // dv += pᵀ · dout
        gemm(dst, dot_, vh, R, W, D, 0, 1, 0);          // dp = dout · vᵀ
        for (let r = 0; r < R; r++) {                   // ds = scale · p ⊙ (dp − Di)
          const pr = at(pt, r * W), dr = at(dst, r * W);
          // Di = dout·out summed the way the GEMM summed each dp_j = dout·v_j: where p is one-hot,
          // out = v_j exactly and dp_j − Di must be exactly 0 (with dot's partial sums it was a few
          // ulps, times |k| 5e-5 on scores of ±1e4 with FMA).
          const Di = dotInOrder(at(dot_, r * D), at(ot, r * D), D);
          let j = 0;
          if (ASC_FEATURE_SIMD) {
            const di = f32x4.splat(Di), sc = f32x4.splat(scale);
            for (; j + 4 <= W; j += 4) {
              v128.store(at(dr, j), f32x4.mul(f32x4.mul(v128.load(at(pr, j)), f32x4.sub(v128.load(at(dr, j)), di)), sc));
            }
          }
          for (; j < W; j++) store<f32>(at(dr, j), load<f32>(at(pr, j)) * (load<f32>(at(dr, j)) - Di) * scale);
        }
        gemm(dqt, dst, kh, R, D, W, 0, 0, 1);           // dq += ds · k
        gemm(dkh, dst, qt, W, D, R, 1, 0, 1);           // dk += dsᵀ · q
      }
    }
  }
  heap.free(dst);
  heap.free(pt);
}

/** p [B,H,T,S] = the attention weights (zeros past the causal limit, at masked keys, and for a
 *  row whose keys are all masked). For inspection only; training never builds this. */
export function attention_probs(p: usize, q: usize, k: usize, mask: usize, useMask: i32,
                                B: i32, H: i32, T: i32, S: i32, D: i32, scale: f32, causal: i32,
                                qOffset: i32, kvStride: i32): void {
  for (let b = 0; b < B; b++) {
    const maskRow = at(mask, b * S);
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const kh = at(k, bh * kvStride);
      for (let t = 0; t < T; t++) {
        const row = bh * T + t;
        const qr = at(q, row * D), pr = at(p, row * S);
        const kmax = keyLimit(t, S, causal, qOffset);
        const m = rowScores(pr, qr, kh, maskRow, useMask, kmax, D, scale);
        memory.fill(at(pr, kmax), 0, <usize>(S - kmax) << 2);
        if (m == -Infinity) {
          memory.fill(pr, 0, <usize>kmax << 2);
          continue;
        }
        let l: f32 = 0;
        for (let j = 0; j < kmax; j++) {
          const e = Mathf.exp(load<f32>(at(pr, j)) - m);
          store<f32>(at(pr, j), e);
          l += e;
        }
        scaleBy(pr, <f32>1 / l, kmax);
      }
    }
  }
}
