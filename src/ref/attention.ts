// Scaled dot-product attention reference: the oracle for assembly/kernels/attention.ts (same
// names, argument order and row-wise algorithm, in f64). q, out, dq, dout [B,H,T,D]; lse [B,H,T];
// mask [B,S] (0 = padding, read only when useMask); p [B,H,T,S]. k, v, dk, dv: B·H blocks of S
// rows of D, block bh starting at bh·kvStride (≥ S·D: a cache [B,H,Smax,D] holding S valid keys
// is read in place with kvStride = Smax·D). causal: query t sits at position t + qOffset and sees
// keys 0..min(S, t + qOffset + 1) − 1 (qOffset 0: top-left, as torch's is_causal). A row whose
// keys are all masked has out = 0, lse = +Infinity, zero weights and zero gradients.
type F32 = Float32Array;

function dot(a: F32, ao: number, b: F32, bo: number, D: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) s += a[ao + d] * b[bo + d];
  return s;
}

/** s[j] = scale·(q_row·k_j) for j < kmax (−Infinity where masked); returns the max. */
function rowScores(s: Float64Array, q: F32, qo: number, k: F32, ko: number, mask: F32, mo: number,
                   useMask: number, kmax: number, D: number, scale: number): number {
  let m = -Infinity;
  for (let j = 0; j < kmax; j++) {
    s[j] = useMask && mask[mo + j] === 0 ? -Infinity : saturate(dot(q, qo, k, ko + j * D, D) * scale);
    m = Math.max(m, s[j]);
  }
  return m;
}

/** The largest finite f32. */
const F32_MAX = 3.4028234663852886e38;

/** A score saturated to ±F32_MAX, as the kernels do: lse is stored in f32, so a score past f32's
 *  range would make it +Infinity (read as "every key masked") here and NaN (∞ − ∞) there. The
 *  saturation is part of the op's definition, so every backend agrees on such rows. */
const saturate = (s: number) => Math.min(Math.max(s, -F32_MAX), F32_MAX);

const keyLimit = (t: number, S: number, causal: number, qOffset: number) => (causal ? Math.min(S, t + qOffset + 1) : S);

/** The kernels trust their callers (the op layer validates); the twin checks what would make it
 *  read or write outside k and v, so that a misuse fails here instead of silently aliasing heads. */
function checkLayout(S: number, D: number, qOffset: number, kvStride: number): void {
  if (!(Number.isInteger(qOffset) && qOffset >= 0)) throw new RangeError(`attention: qOffset ${qOffset} must be an integer ≥ 0`);
  if (!(Number.isInteger(kvStride) && kvStride >= S * D)) throw new RangeError(`attention: kvStride ${kvStride} must be an integer ≥ S·D = ${S * D}`);
}

export function attention_forward(out: F32, lse: F32, q: F32, k: F32, v: F32, mask: F32, useMask: number,
                                  B: number, H: number, T: number, S: number, D: number,
                                  scale: number, causal: number, qOffset: number, kvStride: number): void {
  checkLayout(S, D, qOffset, kvStride);
  const s = new Float64Array(S), acc = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h, ko = bh * kvStride;
      for (let t = 0; t < T; t++) {
        const row = bh * T + t, kmax = keyLimit(t, S, causal, qOffset);
        const m = rowScores(s, q, row * D, k, ko, mask, b * S, useMask, kmax, D, scale);
        if (m === -Infinity) {
          out.fill(0, row * D, row * D + D);
          lse[row] = Infinity;
          continue;
        }
        let l = 0;
        acc.fill(0);
        for (let j = 0; j < kmax; j++) {
          const p = Math.exp(s[j] - m);
          l += p;
          for (let d = 0; d < D; d++) acc[d] += p * v[ko + j * D + d];
        }
        for (let d = 0; d < D; d++) out[row * D + d] = acc[d] / l;
        lse[row] = m + Math.log(l);
      }
    }
  }
}

/** Accumulates dq, dk, dv (+=), recomputing p_j = exp(s_j − lse) from the forward's lse. */
export function attention_backward(dq: F32, dk: F32, dv: F32, q: F32, k: F32, v: F32, out: F32, lse: F32,
                                   dout: F32, mask: F32, useMask: number, B: number, H: number, T: number,
                                   S: number, D: number, scale: number, causal: number, qOffset: number, kvStride: number): void {
  checkLayout(S, D, qOffset, kvStride);
  const dkh = new Float64Array(S * D), dvh = new Float64Array(S * D), dqr = new Float64Array(D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h, ko = bh * kvStride;
      dkh.fill(0);
      dvh.fill(0);
      for (let t = 0; t < T; t++) {
        const row = bh * T + t, L = lse[row], qo = row * D;
        if (L === Infinity) continue;
        const Di = dot(dout, qo, out, qo, D), kmax = keyLimit(t, S, causal, qOffset);
        dqr.fill(0);
        for (let j = 0; j < kmax; j++) {
          if (useMask && mask[b * S + j] === 0) continue;
          const p = Math.exp(saturate(dot(q, qo, k, ko + j * D, D) * scale) - L);
          const ds = p * (dot(dout, qo, v, ko + j * D, D) - Di) * scale;
          for (let d = 0; d < D; d++) {
            dvh[j * D + d] += p * dout[qo + d];
            dqr[d] += ds * k[ko + j * D + d];
            dkh[j * D + d] += ds * q[qo + d];
          }
        }
        for (let d = 0; d < D; d++) dq[qo + d] += dqr[d];
      }
      for (let i = 0; i < S * D; i++) {
        dk[ko + i] += dkh[i];
        dv[ko + i] += dvh[i];
      }
    }
  }
}

export function attention_probs(p: F32, q: F32, k: F32, mask: F32, useMask: number,
                                B: number, H: number, T: number, S: number, D: number,
                                scale: number, causal: number, qOffset: number, kvStride: number): void {
  checkLayout(S, D, qOffset, kvStride);
  const s = new Float64Array(S);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      for (let t = 0; t < T; t++) {
        const row = bh * T + t, po = row * S, kmax = keyLimit(t, S, causal, qOffset);
        const m = rowScores(s, q, row * D, k, bh * kvStride, mask, b * S, useMask, kmax, D, scale);
        p.fill(0, po, po + S);
        if (m === -Infinity) continue;
        let l = 0;
        for (let j = 0; j < kmax; j++) l += (s[j] = Math.exp(s[j] - m));
        for (let j = 0; j < kmax; j++) p[po + j] = s[j] / l;
      }
    }
  }
}
