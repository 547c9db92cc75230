// The safetensors format (huggingface/safetensors): 8-byte little-endian header length n, n bytes
// of JSON header, then the data. Header: { "__metadata__": {string: string}, name: { dtype, shape,
// data_offsets: [begin, end] } } with offsets relative to the data start. heed writes F32 only,
// in the order given, densely packed, header padded with spaces to 8 bytes. The reader trusts
// nothing: every violation is a HeedError saying which.
import { HeedError, fmtShape } from '../errors.js';
import { brief, cut, parseStrictJson, quote } from './json.js';

export interface NamedTensor { name: string; shape: readonly number[]; data: Float32Array }

/** The largest header heed reads: safetensors' own bound. */
export const MAX_HEADER_BYTES = 100_000_000;

const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4,
  F64: 8, I64: 8, U64: 8,
};

export function encodeSafetensors(tensors: NamedTensor[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.data.length * 4;
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hbytes = enc.encode(json);
  const pad = (8 - (hbytes.length % 8)) % 8;
  if (pad) { json += ' '.repeat(pad); hbytes = enc.encode(json); }
  const out = new Uint8Array(8 + hbytes.length + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, hbytes.length, true);
  dv.setUint32(4, 0, true);
  out.set(hbytes, 8);
  let p = 8 + hbytes.length;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++, p += 4) dv.setFloat32(p, t.data[i], true);
  }
  return out;
}

export interface DecodedSafetensors { metadata: Record<string, string>; tensors: Map<string, NamedTensor> }

/** f32 from IEEE half bits (subnormals, ±Infinity and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** How each float dtype's element is read: its size and a reader (little-endian). */
const FLOAT_READERS: Record<string, { bytes: number; read: (dv: DataView, p: number) => number }> = {
  F32: { bytes: 4, read: (dv, p) => dv.getFloat32(p, true) },
  F16: { bytes: 2, read: (dv, p) => halfToFloat(dv.getUint16(p, true)) },
  // bfloat16 is the top half of an f32: widening is a shift.
  BF16: { bytes: 2, read: (dv, p) => { scratch.setUint32(0, dv.getUint16(p, true) << 16); return scratch.getFloat32(0); } },
};
const scratch = new DataView(new ArrayBuffer(4));

export interface DecodeOptions {
  /** Also accept F16 and BF16 tensors, widened to f32 (checkpoints from the Hugging Face Hub).
   *  Other dtypes are refused either way. heed's own files are F32 only. */
  widen?: boolean;
  /** Tensors to leave out (not read, not returned): buffers of other libraries. */
  skip?: (name: string, dtype: string) => boolean;
}

export function decodeSafetensors(bytes: Uint8Array, what = 'safetensors file', options: DecodeOptions = {}): DecodedSafetensors {
  const err = (msg: string): never => { throw new HeedError(`${what}: ${msg}`); };
  if (!(bytes instanceof Uint8Array)) err('expected the file contents as a Uint8Array');
  if (bytes.length < 8) err(`${bytes.length} bytes is too short to hold a header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = dv.getUint32(0, true), hi = dv.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (hi !== 0 || n > MAX_HEADER_BYTES) err(`header length ${hi ? `≥ 2^32` : n} is over the ${MAX_HEADER_BYTES}-byte limit`);
  if (8 + n > bytes.length) err(`header length ${n} runs past the end of the file (${bytes.length} bytes)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return err('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) err('header is not a JSON object');
  const header = parseStrictJson(text.trimEnd(), `${what} header`);
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return err('header is not a JSON object');
  const dataLen = bytes.length - 8 - n;
  const metadata: Record<string, string> = {};
  const entries: { name: string; shape: number[]; begin: number; end: number; dtype: string; skip: boolean }[] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) err('__metadata__ is not an object');
      for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) {
        if (typeof mv !== 'string') err(`__metadata__ value ${quote(mk)} is not a string`);
        metadata[mk] = mv as string;
      }
      continue;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) err(`tensor ${quote(name)} is not an object`);
    const { dtype, shape, data_offsets: off, ...rest } = v as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length) err(`tensor ${quote(name)} has unknown field ${quote(unknown[0])}`);
    if (typeof dtype !== 'string') return err(`tensor ${quote(name)} has no dtype`);
    if (!Object.hasOwn(DTYPE_BYTES, dtype)) err(`tensor ${quote(name)} has unknown dtype ${quote(dtype)}`);
    const skip = options.skip?.(name, dtype) ?? false;
    if (!skip && dtype !== 'F32' && !(options.widen && Object.hasOwn(FLOAT_READERS, dtype))) {
      err(`tensor ${quote(name)} has dtype ${dtype}; ${options.widen ? 'heed reads F32, F16 and BF16' : 'heed model files hold F32 only'}`);
    }
    const size = DTYPE_BYTES[dtype];
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      err(`tensor ${quote(name)} has an invalid shape ${brief(shape)}`);
    }
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1]) {
      return err(`tensor ${quote(name)} has invalid data_offsets ${brief(off)}`);
    }
    let count = 1;
    for (const d of shape as number[]) {
      count *= d;
      if (!Number.isSafeInteger(count)) err(`tensor ${quote(name)} shape ${cut(fmtShape(shape as number[]))} has an element count that overflows`);
    }
    if (count * size !== off[1] - off[0]) {
      err(`tensor ${quote(name)} shape ${cut(fmtShape(shape as number[]))} needs ${count * size} bytes but data_offsets [${off[0]},${off[1]}] cover ${off[1] - off[0]}`);
    }
    entries.push({ name, shape: shape as number[], begin: off[0], end: off[1], dtype, skip });
  }
  // The data must be covered exactly: sorted by offset, each tensor starts where the previous ends.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) err(`tensor ${quote(e.name)} data_offsets [${e.begin},${e.end}] overlap the previous tensor (ending at ${at})`);
    if (e.begin > at) err(`a gap of ${e.begin - at} bytes before tensor ${quote(e.name)} (data_offsets [${e.begin},${e.end}])`);
    at = e.end;
  }
  if (at > dataLen) err(`tensor data runs past the end of the file (needs ${at} bytes, has ${dataLen})`);
  if (at < dataLen) err(`${dataLen - at} bytes after the last tensor are not covered by any tensor`);
  const base = 8 + n;
  const tensors = new Map<string, NamedTensor>();
  for (const e of entries) {
    if (e.skip) continue;
    const { bytes: step, read } = FLOAT_READERS[e.dtype];
    const data = new Float32Array((e.end - e.begin) / step);
    for (let i = 0, p = base + e.begin; i < data.length; i++, p += step) data[i] = read(dv, p);
    tensors.set(e.name, { name: e.name, shape: e.shape, data });
  }
  return { metadata, tensors };
}
