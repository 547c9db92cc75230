// Head layout changes around attention. The QKV projection yields qkv [B,T,3,H,D] (PyTorch's
// in_proj row order: q, then k, then v); the attention kernels want q, k, v as [B,H,T,D]; their
// output goes back to [B,T,H,D] before the out projection. Backward kernels accumulate.
import { at } from "../simd";

// @ts-ignore: decorator
@inline function copyRow(dst: usize, src: usize, D: i32): void {
  memory.copy(dst, src, <usize>D << 2);
}

// @ts-ignore: decorator
@inline function addRow(dst: usize, src: usize, D: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= D; i += 4) v128.store(at(dst, i), f32x4.add(v128.load(at(dst, i)), v128.load(at(src, i))));
  }
  for (; i < D; i++) store<f32>(at(dst, i), load<f32>(at(dst, i)) + load<f32>(at(src, i)));
}

/** q, k, v [B,H,T,D] ← qkv [B,T,3,H,D]. */
export function split_heads_forward(q: usize, k: usize, v: usize, qkv: usize, B: i32, T: i32, H: i32, D: i32): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const src = at(qkv, (b * T + t) * 3 * H * D);
      for (let h = 0; h < H; h++) {
        const o = ((b * H + h) * T + t) * D;
        copyRow(at(q, o), at(src, h * D), D);
        copyRow(at(k, o), at(src, (H + h) * D), D);
        copyRow(at(v, o), at(src, (2 * H + h) * D), D);
      }
    }
  }
}

/** dqkv [B,T,3,H,D] += dq, dk, dv [B,H,T,D]. */
export function split_heads_backward(dqkv: usize, dq: usize, dk: usize, dv: usize, B: i32, T: i32, H: i32, D: i32): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const dst = at(dqkv, (b * T + t) * 3 * H * D);
      for (let h = 0; h < H; h++) {
        const o = ((b * H + h) * T + t) * D;
        addRow(at(dst, h * D), at(dq, o), D);
        addRow(at(dst, (H + h) * D), at(dk, o), D);
        addRow(at(dst, (2 * H + h) * D), at(dv, o), D);
      }
    }
  }
}

/** y [B,T,H,D] ← x [B,H,T,D]. */
export function merge_heads_forward(y: usize, x: usize, B: i32, T: i32, H: i32, D: i32): void {
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) copyRow(at(y, ((b * T + t) * H + h) * D), at(x, ((b * H + h) * T + t) * D), D);
    }
  }
}

/** dx [B,H,T,D] += dy [B,T,H,D]. */
export function merge_heads_backward(dx: usize, dy: usize, B: i32, T: i32, H: i32, D: i32): void {
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) addRow(at(dx, ((b * H + h) * T + t) * D), at(dy, ((b * T + t) * H + h) * D), D);
    }
  }
}
