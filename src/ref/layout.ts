// Head layout reference: the oracle for assembly/kernels/layout.ts. qkv [B,T,3,H,D] ↔ q,k,v [B,H,T,D].
type F32 = Float32Array;

export function split_heads_forward(q: F32, k: F32, v: F32, qkv: F32, B: number, T: number, H: number, D: number): void {
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) {
    const src = (b * T + t) * 3 * H * D, o = ((b * H + h) * T + t) * D;
    for (let i = 0; i < D; i++) {
      q[o + i] = qkv[src + h * D + i];
      k[o + i] = qkv[src + (H + h) * D + i];
      v[o + i] = qkv[src + (2 * H + h) * D + i];
    }
  }
}

export function split_heads_backward(dqkv: F32, dq: F32, dk: F32, dv: F32, B: number, T: number, H: number, D: number): void {
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) {
    const dst = (b * T + t) * 3 * H * D, o = ((b * H + h) * T + t) * D;
    for (let i = 0; i < D; i++) {
      dqkv[dst + h * D + i] += dq[o + i];
      dqkv[dst + (H + h) * D + i] += dk[o + i];
      dqkv[dst + (2 * H + h) * D + i] += dv[o + i];
    }
  }
}

export function merge_heads_forward(y: F32, x: F32, B: number, T: number, H: number, D: number): void {
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const yo = ((b * T + t) * H + h) * D, xo = ((b * H + h) * T + t) * D;
    for (let i = 0; i < D; i++) y[yo + i] = x[xo + i];
  }
}

export function merge_heads_backward(dx: F32, dy: F32, B: number, T: number, H: number, D: number): void {
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const yo = ((b * T + t) * H + h) * D, xo = ((b * H + h) * T + t) * D;
    for (let i = 0; i < D; i++) dx[xo + i] += dy[yo + i];
  }
}
