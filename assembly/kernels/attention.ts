// Scaled dot-product attention (torch.nn.functional.scaled_dot_product_attention):
// out = softmax(q·kᵀ·scale + masks)·v.
// q, out, dq, dout: [B,H,T,D]; k, v, dk, dv: [B,H,S,D]; lse: [B,H,T]; mask: [B,S] (1 keep,
// 0 padding; read only when useMask); p: [B,H,T,S]. causal aligns top-left: query t sees keys
// 0..t, also when T ≠ S.
//
// Row-wise, never a T×S buffer: each query row computes its S scores into a scratch row, takes
// the max m, p_j = exp(s_j − m), l = Σp_j, out = Σ p_j v_j / l, and saves lse = m + log l. The
// backward recomputes p_j = exp(s_j − lse) from that one float per row (FlashAttention's trick).
// A row whose keys are all masked has out = 0 and lse = +Infinity, so every recomputed p_j is
// exp(−Infinity) = 0 and its gradients are zero: no 0/0 anywhere.
import { at, axpy, dot, scaleBy } from "../simd";

/** The number of leading keys query t may see (the causal mask cuts the row at t + 1). */
// @ts-ignore: decorator
@inline function keyLimit(t: i32, S: i32, causal: i32): i32 {
  return causal ? min(S, t + 1) : S;
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
    if (!masked(maskRow, useMask, j)) sj = dot(qr, at(kh, j * D), D) * scale;
    store<f32>(at(s, j), sj);
    m = max(m, sj);
  }
  return m;
}

export function attention_forward(out: usize, lse: usize, q: usize, k: usize, v: usize, mask: usize, useMask: i32,
                                  B: i32, H: i32, T: i32, S: i32, D: i32, scale: f32, causal: i32): void {
  const s = heap.alloc(<usize>max(S, 1) << 2);        // one row of scores, reused by every query
  for (let b = 0; b < B; b++) {
    const maskRow = at(mask, b * S);
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const kh = at(k, bh * S * D), vh = at(v, bh * S * D);
      for (let t = 0; t < T; t++) {
        const row = bh * T + t;
        const qr = at(q, row * D), outr = at(out, row * D);
        const kmax = keyLimit(t, S, causal);
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

/** Accumulates dq, dk, dv. With p_j = exp(s_j − lse) and Di = dout·out (= Σ p_j dout·v_j):
 *  dv_j += p_j dout; ds_j = p_j (dout·v_j − Di); dq += scale Σ ds_j k_j; dk_j += scale ds_j q. */
export function attention_backward(dq: usize, dk: usize, dv: usize, q: usize, k: usize, v: usize,
                                   out: usize, lse: usize, dout: usize, mask: usize, useMask: i32,
                                   B: i32, H: i32, T: i32, S: i32, D: i32, scale: f32, causal: i32): void {
  for (let b = 0; b < B; b++) {
    const maskRow = at(mask, b * S);
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const kh = at(k, bh * S * D), vh = at(v, bh * S * D);
      const dkh = at(dk, bh * S * D), dvh = at(dv, bh * S * D);
      for (let t = 0; t < T; t++) {
        const row = bh * T + t;
        const L = load<f32>(at(lse, row));
        if (L == Infinity) continue;                  // every key masked: zero gradients
        const qr = at(q, row * D), dqr = at(dq, row * D), dor = at(dout, row * D);
        const Di = dot(dor, at(out, row * D), D);
        const kmax = keyLimit(t, S, causal);
        for (let j = 0; j < kmax; j++) {
          if (masked(maskRow, useMask, j)) continue;
          const kj = at(kh, j * D);
          // in the forward pass this was: p = exp(s − m) / l, with lse = m + log l
          const p = Mathf.exp(dot(qr, kj, D) * scale - L);
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

/** p [B,H,T,S] = the attention weights (zeros past the causal limit, at masked keys, and for a
 *  row whose keys are all masked). For inspection only; training never builds this. */
export function attention_probs(p: usize, q: usize, k: usize, mask: usize, useMask: i32,
                                B: i32, H: i32, T: i32, S: i32, D: i32, scale: f32, causal: i32): void {
  for (let b = 0; b < B; b++) {
    const maskRow = at(mask, b * S);
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const kh = at(k, bh * S * D);
      for (let t = 0; t < T; t++) {
        const row = bh * T + t;
        const qr = at(q, row * D), pr = at(p, row * S);
        const kmax = keyLimit(t, S, causal);
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
