// The byte-level allocator: every dtype allocates, views, reads and writes on every backend with
// the same results; buffers start 16-byte aligned; sizes are checked in bytes before anything is
// allocated; the js backend's reservedBytes and the context's allocatedBytes count exact bytes.
import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import {
  ALIGN_BYTES, DTYPES, DTYPE_BYTES, MAX_BUFFER_BYTES, type Backend, type DType,
} from '../../src/backends/backend.js';
import { Planner } from '../../src/nn/layer.js';
import { ALL_BACKENDS } from '../ops/backends.js';

const backendOf = async (name: (typeof ALL_BACKENDS)[number], maxMemoryMB?: number) => {
  const h = await init({ backend: name, maxMemoryMB });
  return { h, be: h.be as Backend };
};

// Values each dtype holds exactly, and what it makes of values it cannot (two's-complement wrap).
const SAMPLES: Record<DType, { put: number[]; get: number[] }> = {
  f32: { put: [1.5, -2.25, 2 ** 100, -0], get: [1.5, -2.25, 2 ** 100, -0] },
  i32: { put: [1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31], get: [1, -1, 2 ** 31 - 1, -(2 ** 31), -(2 ** 31)] },
  i16: { put: [1, -1, 32767, -32768, 40000], get: [1, -1, 32767, -32768, 40000 - 65536] },
  f16: { put: [0x3c00, 0xbc00, 0x7c00, 0xffff, 0x10000], get: [0x3c00, 0xbc00, 0x7c00, 0xffff, 0] },
  i8: { put: [1, -1, 127, -128, 200], get: [1, -1, 127, -128, 200 - 256] },
  u8: { put: [0, 255, 256, -1, 7], get: [0, 255, 0, 255, 7] },
};

describe.each(ALL_BACKENDS)('%s: byte-level storage', (name) => {
  it.each(DTYPES)('%s: allocBytes is zero-filled, 16-byte aligned, and round-trips values as the dtype does', async (dtype) => {
    const { be } = await backendOf(name);
    const size = DTYPE_BYTES[dtype];
    for (const n of [1, 3, 5, 7, 13, 33]) {
      const buf = be.allocBytes(n * size, dtype);
      if (typeof buf === 'number') expect(buf % ALIGN_BYTES).toBe(0);
      else expect(buf.byteLength).toBe(n * size);
      expect(Array.from(be.readAs(buf, dtype, n))).toEqual(new Array(n).fill(0));
      const { put, get } = SAMPLES[dtype];
      const k = Math.min(n, put.length);
      be.writeAs(buf, dtype, put.slice(0, k), n - k);
      const back = be.readAs(buf, dtype, n);
      expect(Array.from(back.subarray(n - k))).toEqual(get.slice(0, k));
      expect(Array.from(back.subarray(0, n - k))).toEqual(new Array(n - k).fill(0));
      be.free(buf);
    }
  });

  it('views share storage across dtypes, little-endian, at byte offsets', async () => {
    const { be } = await backendOf(name);
    const buf = be.allocBytes(64, 'u8');
    be.writeAs(buf, 'u8', Array.from({ length: 64 }, (_, i) => i));
    const i32 = be.view(buf, 16, 8, 'i32');
    expect(Array.from(be.readAs(i32, 'i32', 2))).toEqual([0x13121110, 0x17161514]);
    const i16 = be.view(buf, 2, 4, 'i16');
    expect(Array.from(be.readAs(i16, 'i16', 2))).toEqual([0x0302, 0x0504]);
    const i8 = be.view(buf, 33, 3, 'i8');
    be.writeAs(i8, 'i8', [-1, -2, -3]);
    expect(Array.from(be.readAs(buf, 'u8', 4, 32))).toEqual([32, 255, 254, 253]);
    // The f32 shorthands are f32 views: sub at element 2 is byte 8.
    const f = be.alloc(8);
    be.write(f, [1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(be.readAs(be.view(f, 8, 12, 'f32'), 'f32', 3))).toEqual([3, 4, 5]);
    expect(Array.from(be.read(be.sub(f, 2, 3), 3))).toEqual([3, 4, 5]);
    be.copyBytes(be.view(f, 0, 8, 'f32'), be.view(f, 24, 8, 'f32'), 8);
    be.zeroBytes(be.view(f, 28, 4, 'f32'), 4);
    expect(Array.from(be.read(f, 8))).toEqual([7, 8, 3, 4, 5, 6, 7, 0]);
    // Read as another dtype, a view must sit on that dtype's boundary: a HeedError, not shifted bytes.
    expect(() => be.readAs(i8, 'i32', 1)).toThrow(HeedError);
    expect(() => be.writeAs(i8, 'i16', [1])).toThrow(/not on a i16 element boundary/);
    be.free(buf); be.free(f);
  });

  it('bad sizes, offsets and dtypes are one-line HeedErrors before anything is allocated', async () => {
    const { h, be } = await backendOf(name);
    const before = h.memory();
    const bad: [() => unknown, RegExp][] = [
      [() => be.allocBytes(6, 'i32'), /^allocBytes: 6 bytes is not a whole number of i32 elements \(4 bytes each\)$/],
      [() => be.allocBytes(3, 'f16'), /^allocBytes: 3 bytes is not a whole number of f16 elements/],
      [() => be.allocBytes(-16, 'u8'), /^allocBytes: -16 bytes is not a size/],
      [() => be.allocBytes(1.5, 'u8'), /^allocBytes: 1.5 bytes is not a size/],
      [() => be.allocBytes(NaN, 'u8'), /^allocBytes: NaN bytes is not a size/],
      [() => be.allocBytes(16, 'f64' as DType), /^allocBytes: unknown dtype 'f64' \(expected one of f32, i32, i16, f16, i8, u8\)$/],
      [() => be.allocBytes(MAX_BUFFER_BYTES + 1, 'u8'), /^out of memory: 4294901761 bytes asked for, more than 32-bit WebAssembly memory can hold .*nothing was allocated$/],
      [() => be.allocBytes(2 ** 53, 'u8'), /^out of memory: 9007199254740992 bytes asked for/],
    ];
    for (const [f, msg] of bad) {
      let err: unknown;
      try { f(); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(HeedError);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('\n');
    }
    expect(h.memory()).toEqual(before);
    const buf = be.allocBytes(32, 'u8');
    expect(() => be.view(buf, 2, 4, 'i32')).toThrow(/^view: byte offset 2 is not a multiple of 4 \(the size of i32\)$/);
    expect(() => be.view(buf, 1, 2, 'f16')).toThrow(/^view: byte offset 1 is not a multiple of 2/);
    expect(() => be.view(buf, 0, 6, 'f32')).toThrow(/^view: 6 bytes is not a whole number of f32 elements/);
    if (name === 'js') expect(() => be.view(buf, 16, 32, 'u8')).toThrow(/^view: bytes \[16, 48\) run past the end of a buffer of 32 bytes$/);
    be.free(buf);
    // Still working.
    expect(Array.from(h.ops.matmul(h.tensor([1, 2], [1, 2]), h.tensor([3, 4], [2, 1])).toArray())).toEqual([11]);
  });

  it('the memory cap and allocatedBytes count exact bytes of every dtype', async () => {
    const { h, be } = await backendOf(name, 1 / 1024); // 1,024 bytes
    const base = h.memory().allocatedBytes;
    const a = be.allocBytes(5, 'i8');
    expect(h.memory().allocatedBytes).toBe(base + 5);
    const b = be.allocBytes(6, 'f16');
    expect(h.memory().allocatedBytes).toBe(base + 11);
    expect(() => be.allocBytes(1024 - base - 10, 'u8')).toThrow(
      new RegExp(`^out of memory: a request for 1,0\\d\\d bytes would bring heed's memory to 1,025 bytes, over the cap of 1,024 bytes .*nothing was allocated$`));
    expect(h.memory().allocatedBytes).toBe(base + 11);
    const c = be.allocBytes(1024 - base - 11, 'u8'); // exactly up to the cap
    expect(h.memory().allocatedBytes).toBe(1024);
    for (const x of [a, b, c]) be.free(x);
    expect(h.memory().allocatedBytes).toBe(base);
  });

  it('a planner slices bytes of mixed dtypes, each slice 16-byte aligned, as its sizing pass measured', async () => {
    const { h, be } = await backendOf(name);
    const rt = { be, k: h.k };
    const plan = (a: Planner) => [
      a.takeOf(5, 'i8'), a.take(3), a.takeOf(7, 'f16'), a.takeInt(1), a.takeOf(13, 'u8'), a.takeOf(33, 'i16'),
    ];
    const sizing = new Planner(rt, null);
    plan(sizing);
    expect(sizing.total * 4).toBe(16 + 16 + 16 + 16 + 16 + 80);
    const buf = be.alloc(sizing.total);
    const planner = new Planner(rt, buf, 0, sizing.total);
    const [i8, f, f16, i, u8, i16] = plan(planner);
    expect(planner.total).toBe(sizing.total);
    if (typeof buf === 'number') {
      expect([i8, f, f16, i, u8, i16].map((p) => (p as number) - buf)).toEqual([0, 16, 32, 48, 64, 80]);
      expect(buf % 16).toBe(0);
    } else {
      expect([i8, f, f16, i, u8, i16].map((v) => (v as ArrayBufferView).byteOffset)).toEqual([0, 16, 32, 48, 64, 80]);
      expect([i8, f, f16, i, u8, i16].map((v) => (v as ArrayBufferView).constructor.name))
        .toEqual(['Int8Array', 'Float32Array', 'Uint16Array', 'Int32Array', 'Uint8Array', 'Int16Array']);
    }
    be.writeAs(i16, 'i16', [-2]);
    expect(Array.from(be.readAs(buf, 'u8', 2, 80))).toEqual([0xfe, 0xff]);
    // A plan that takes more than it measured is a bug, caught rather than written past the end.
    expect(() => planner.take(1)).toThrow(/^internal: arena of 160 bytes overrun \(176 needed\)$/);
    be.free(buf);
  });
});

describe('js backend: one ArrayBuffer per allocation, reservedBytes exact', () => {
  it('counts the bytes asked for, of any dtype, and gives them back on free', async () => {
    const { be } = await backendOf('js');
    const start = be.reservedBytes();
    const bufs = DTYPES.map((d) => be.allocBytes(3 * DTYPE_BYTES[d], d));
    expect(be.reservedBytes() - start).toBe(3 * (4 + 4 + 2 + 2 + 1 + 1));
    expect(new Set(bufs.map((b) => (b as ArrayBufferView).buffer)).size).toBe(DTYPES.length);
    // Freeing through a view frees the allocation it is a view of (its whole ArrayBuffer).
    be.free(be.view(bufs[0]!, 4, 4, 'u8'));
    expect(be.reservedBytes() - start).toBe(3 * (4 + 2 + 2 + 1 + 1));
    for (const b of bufs.slice(1)) be.free(b);
    expect(be.reservedBytes()).toBe(start);
  });
});
