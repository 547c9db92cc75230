import { describe, expect, it } from 'vitest';
import { HeedError, Tensor, init } from '../src/index.js';

describe.each(['wasm', 'wasm-scalar', 'js'] as const)('tensors on %s', async (backend) => {
  const h = await init({ backend });

  it('holds a copy of its values with shape and size', () => {
    const src = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = h.tensor(src, [2, 3]);
    src[0] = 99;
    expect(t).toBeInstanceOf(Tensor);
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect([...t.toArray()]).toEqual([1, 2, 3, 4, 5, 6]);
    t.dispose();
  });
  it('toArray() returns a copy, not a view', () => {
    const t = h.tensor([1, 2], [2]);
    const a = t.toArray();
    a[0] = 42;
    expect(t.toArray()[0]).toBe(1);
    t.dispose();
  });
  it('zeros, scalars (shape []) and empty tensors', () => {
    expect([...h.zeros([2, 2]).toArray()]).toEqual([0, 0, 0, 0]);
    const s = h.tensor([7], []);
    expect(s.size).toBe(1);
    expect([...s.toArray()]).toEqual([7]);
    expect(h.zeros([0, 3]).size).toBe(0);
  });
  it('rejects values that do not fill the shape, naming both', () => {
    expect(() => h.tensor([1, 2, 3], [2, 2])).toThrow(HeedError);
    expect(() => h.tensor([1, 2, 3], [2, 2])).toThrow('3 values do not fill shape [2,2] (4 elements)');
  });
  it('rejects negative, fractional and non-numeric dimensions', () => {
    expect(() => h.zeros([2, -1])).toThrow('invalid dimension -1');
    expect(() => h.zeros([1.5])).toThrow('invalid dimension 1.5');
    expect(() => h.tensor([1], ['1' as never])).toThrow(HeedError);
    expect(() => h.zeros(3 as never)).toThrow('shape must be an array');
  });
  it('throws on use after dispose, in toArray and in ops; a second dispose is harmless', () => {
    const t = h.tensor([1, 2, 3, 4], [2, 2]);
    t.dispose();
    t.dispose();
    expect(t.disposed).toBe(true);
    expect(() => t.toArray()).toThrow('used after dispose()');
    expect(() => h.ops.matmul(t, h.zeros([2, 2]))).toThrow('a: tensor [2,2] was used after dispose()');
  });
  it('refuses a tensor of another context, naming the argument', async () => {
    const other = await init({ backend });
    const t = other.tensor([1, 2, 3, 4], [2, 2]);
    expect(() => h.ops.matmul(h.zeros([2, 2]), t)).toThrow('b: tensor [2,2] belongs to another heed context');
  });
  it('counts live tensors and their bytes in memory()', () => {
    const m0 = h.memory();
    const a = h.zeros([10, 10]), b = h.zeros([5]);
    expect(h.memory().tensors).toBe(m0.tensors + 2);
    expect(h.memory().tensorBytes).toBe(m0.tensorBytes + 420);
    a.dispose(); b.dispose();
    expect(h.memory()).toMatchObject({ tensors: m0.tensors, tensorBytes: m0.tensorBytes });
  });
});

describe('wasm memory', async () => {
  const h = await init({ backend: 'wasm' });
  it('reuses the memory of disposed tensors: 2,000 allocate/dispose cycles do not grow it', () => {
    for (let i = 0; i < 50; i++) h.zeros([1000]).dispose();
    const before = h.memory().bytes;
    for (let i = 0; i < 2000; i++) {
      const t = h.tensor(new Float32Array(1000).fill(i), [1000]);
      t.dispose();
    }
    expect(h.memory().bytes).toBe(before);
  });
  it('reads correct values after memory.grow replaced the buffer (no stale view)', () => {
    const t = h.tensor([1, 2, 3], [3]);
    expect([...t.toArray()]).toEqual([1, 2, 3]); // caches a view of the current buffer
    const before = h.memory().bytes;
    const big = h.zeros([8 * 1024 * 1024]); // 32 MiB: forces memory.grow
    expect(h.memory().bytes).toBeGreaterThan(before);
    expect([...t.toArray()]).toEqual([1, 2, 3]);
    const u = h.tensor([4, 5, 6], [3]);
    expect([...u.toArray()]).toEqual([4, 5, 6]);
    for (const x of [t, big, u]) x.dispose();
  });
  it('turns an impossible allocation into a HeedError, not a crash', () => {
    expect(() => h.zeros([1200, 1000, 1000])).toThrow(HeedError);
    expect(() => h.zeros([1200, 1000, 1000])).toThrow('out of memory');
  });
  it('turns a WebAssembly trap inside a kernel into a HeedError naming the kernel', () => {
    // An address past the end of linear memory: only reachable through the internal kernel table.
    expect(() => h.k.scale(2 ** 32 - 64, 1000, 2)).toThrow(HeedError);
    expect(() => h.k.scale(2 ** 32 - 64, 1000, 2)).toThrow(/^scale: /);
  });
});
