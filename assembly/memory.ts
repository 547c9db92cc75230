// Linear-memory management for the TypeScript side. The TLSF allocator of `--runtime minimal`
// gives real frees, so a disposed tensor's bytes are reused. Blocks are 16-byte aligned.

/** Allocates `bytes` bytes (at least 1) and returns their address. Traps when memory cannot grow. */
export function alloc(bytes: usize): usize {
  return heap.alloc(bytes > 0 ? bytes : 1);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

/** Sets `bytes` bytes at `ptr` to zero. */
export function fill_zero(ptr: usize, bytes: usize): void {
  memory.fill(ptr, 0, bytes);
}

export function copy_bytes(dst: usize, src: usize, bytes: usize): void {
  memory.copy(dst, src, bytes);
}

/** Which build this binary is (0 scalar, 1 SIMD, 2 relaxed SIMD), so a caller-supplied module can
 *  be identified. */
export function simd_build(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 2 : ASC_FEATURE_SIMD ? 1 : 0;
}
