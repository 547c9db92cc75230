// The safetensors reader trusts nothing: each malformed file ends in a HeedError saying which rule it broke.
import { describe, expect, it } from 'vitest';
import { HeedError } from '../../src/index.js';
import { decodeSafetensors, encodeSafetensors, MAX_HEADER_BYTES } from '../../src/io/safetensors.js';

const enc = new TextEncoder();
/** A file with a raw header text and `dataBytes` bytes of data. */
function file(header: string, dataBytes = 0, headerLen?: number): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + dataBytes);
  const dv = new DataView(out.buffer);
  const n = headerLen ?? h.length;
  dv.setUint32(0, n % 2 ** 32, true);
  dv.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(h, 8);
  return out;
}
const t = (dtype: string, shape: number[], off: [number | string, number | string]) =>
  `{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":[${off[0]},${off[1]}]}`;

describe('safetensors encode/decode', () => {
  it('round-trips names, shapes, values and metadata; header padded to 8 bytes', () => {
    const a = { name: 'a.weight', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, -0, 1e-30]) };
    const b = { name: 'b', shape: [], data: Float32Array.from([Math.PI]) };
    const bytes = encodeSafetensors([a, b], { format: 'heed', note: 'x' });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    expect(n % 8).toBe(0);
    const d = decodeSafetensors(bytes);
    expect(d.metadata).toEqual({ format: 'heed', note: 'x' });
    expect(d.tensors.get('a.weight')).toEqual(a);
    expect(d.tensors.get('b')!.data[0]).toBe(Math.fround(Math.PI));
  });
  it('accepts a file whose tensors appear in the header in another order than their data', () => {
    const bytes = file(`{"x":${t('F32', [1], [4, 8])},"y":${t('F32', [1], [0, 4])}}`, 8);
    expect([...decodeSafetensors(bytes).tensors.keys()].sort()).toEqual(['x', 'y']);
  });
});

describe('safetensors rejections', () => {
  const cases: [string, Uint8Array, RegExp][] = [
    ['too short', new Uint8Array(5), /too short/],
    ['a header claim over 100 MB', file('{}', 0, MAX_HEADER_BYTES + 1), /over the 100000000-byte limit/],
    ['a header length ≥ 2^32', file('{}', 0, 2 ** 40), /over the/],
    ['a header running past the file', file('{}', 0, 64), /runs past the end/],
    ['a header that is not JSON', file('{"a":'), /header/],
    ['a header that is not an object', file('[1,2]'), /not a JSON object/],
    ['non-UTF-8 header bytes', (() => { const f = file('{"a":1}'); f[10] = 0xff; return f; })(), /not valid UTF-8/],
    ['a duplicate key', file(`{"w":${t('F32', [1], [0, 4])},"w":${t('F32', [1], [0, 4])}}`, 4), /duplicate key "w"/],
    ['an unknown dtype', file(`{"w":${t('Q4', [1], [0, 4])}}`, 4), /unknown dtype "Q4"/],
    ['a dtype heed does not store', file(`{"w":${t('F16', [2], [0, 4])}}`, 4), /dtype F16; heed model files hold F32 only/],
    ['offsets beyond 2^53', file(`{"w":${t('F32', [1], ['0', '18014398509481988'])}}`, 4), /beyond 2\^53/],
    ['offsets running past the buffer', file(`{"w":${t('F32', [4], [0, 16])}}`, 8), /runs past the end of the file/],
    ['overlapping offsets', file(`{"a":${t('F32', [2], [0, 8])},"b":${t('F32', [2], [4, 12])}}`, 12), /overlap/],
    ['a gap between tensors', file(`{"a":${t('F32', [1], [0, 4])},"b":${t('F32', [1], [8, 12])}}`, 12), /gap of 4 bytes/],
    ['trailing uncovered bytes', file(`{"a":${t('F32', [1], [0, 4])}}`, 8), /not covered/],
    ['a shape whose element count overflows', file(`{"a":${t('F32', [2 ** 30, 2 ** 30, 2 ** 30], [0, 4])}}`, 4), /overflows/],
    ['a shape that disagrees with its byte range', file(`{"a":${t('F32', [3], [0, 8])}}`, 8), /needs 12 bytes but data_offsets \[0,8\] cover 8/],
    ['a negative dimension', file(`{"a":${t('F32', [-1], [0, 4])}}`, 4), /invalid shape/],
    ['reversed offsets', file(`{"a":${t('F32', [0], [4, 0])}}`, 4), /invalid data_offsets/],
    ['non-string metadata', file('{"__metadata__":{"a":1}}'), /not a string/],
    ['deep nesting', file(`{"__metadata__":${'['.repeat(100000)}}`), /nesting deeper/],
    ['an unknown tensor field', file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, 4), /unknown field "x"/],
  ];
  it.each(cases)('rejects %s', (_, bytes, msg) => {
    expect(() => decodeSafetensors(bytes)).toThrow(HeedError);
    expect(() => decodeSafetensors(bytes)).toThrow(msg);
  });
});
