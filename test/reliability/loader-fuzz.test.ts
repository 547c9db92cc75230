// The model-file loader under attack: seeded random mutations of valid model files (bit flips,
// byte overwrites, truncations, junk extensions, header JSON edits, hostile header lengths,
// non-UTF-8, deep nesting, metadata and config edits). Every case must end in a HeedError or in a
// correct load (the model forwards, its stateDict is what the file holds, nothing leaks), within a
// time bound — never another exception type, never a hang.
//
// CI runs a fixed number of cases; for a longer run:
//   HEED_FUZZ_CASES=100000 npx vitest run test/reliability/loader-fuzz.test.ts
// A failure prints its seed and case; reproduce it with HEED_FUZZ_SEED=<seed> HEED_FUZZ_CASE=<i>.
import { describe, expect, it } from 'vitest';
import { HeedError, init } from '../../src/index.js';
import type { Context } from '../../src/context.js';
import { Tokenizer } from '../../src/data/tokenizer.js';
import { decodeSafetensors, MAX_HEADER_BYTES } from '../../src/io/safetensors.js';
import {
  FUZZ_SEED, Gen, Obj, ONLY_CASE, Raw, concatBytes, fuzzCases, get, sameBits, ser, set, toVal, type Val,
} from './fuzz-util.js';

const CASES = fuzzCases(1500);
const CASE_MS = 2000;

const wasm = await init({ backend: 'wasm' });
const js = await init({ backend: 'js' });

// Valid files to start from: both model kinds, both losses, made on both backends.
const texts = ['the cat sat', 'a dog ran', 'the dog sat on the cat', 'cats and dogs', 'ran sat the a'];
const word = Tokenizer.build(texts, { type: 'word', minFreq: 1 });
const char = Tokenizer.build(texts, { type: 'char' });
const bases: { name: string; bytes: Uint8Array }[] = [
  { name: 'transformer/wasm/3 classes', bytes: wasm.saveModel(wasm.transformerClassifier({ vocabSize: word.vocabSize, maxLen: 6, dModel: 8, heads: 2, ffDim: 12, layers: 1, classes: 3, seed: 1 }), { tokenizer: word, labels: ['a', 'b', 'c'] }) },
  { name: 'transformer/js/bce/2 layers', bytes: js.saveModel(js.transformerClassifier({ vocabSize: char.vocabSize, maxLen: 5, dModel: 4, heads: 1, ffDim: 4, layers: 2, classes: 1, seed: 2 }), { tokenizer: char, labels: ['neg', 'pos'] }) },
  { name: 'pooling/wasm', bytes: wasm.saveModel(wasm.attentionPoolingClassifier({ vocabSize: word.vocabSize, dModel: 6, classes: 2, seed: 3 }), { tokenizer: word, labels: ['x', 'y'] }) },
  { name: 'pooling/js/bce', bytes: js.saveModel(js.attentionPoolingClassifier({ vocabSize: 5, dModel: 4, classes: 1, seed: 4 }), { labels: ['no', 'yes'] }) },
];

// ---- a mutable model file -------------------------------------------------------------------

interface Draft {
  header: Obj;
  data: Uint8Array;
  /** Edits of the header text after it is written (may break its JSON). */
  textEdits: ((t: string) => string)[];
  /** Edits of the header bytes after UTF-8 encoding (may break its UTF-8). */
  headerByteEdits: ((b: Uint8Array) => Uint8Array)[];
  /** The 8-byte length field as [low, high] words, instead of the true header length. */
  lenOverride?: [number, number];
  /** Edits of the whole file, last. */
  post: ((f: Uint8Array) => Uint8Array)[];
}

function draftOf(bytes: Uint8Array): Draft {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  const header = toVal(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)))) as Obj;
  return { header, data: bytes.slice(8 + n), textEdits: [], headerByteEdits: [], post: [] };
}

function build(d: Draft): Uint8Array {
  let text = ser(d.header);
  for (const e of d.textEdits) text = e(text);
  let hb: Uint8Array = new TextEncoder().encode(text);
  for (const e of d.headerByteEdits) hb = e(hb);
  const len = new Uint8Array(8);
  const dv = new DataView(len.buffer);
  const [lo, hi] = d.lenOverride ?? [hb.length, 0];
  dv.setUint32(0, lo >>> 0, true);
  dv.setUint32(4, hi >>> 0, true);
  let f = concatBytes(len, hb, d.data);
  for (const e of d.post) f = e(f);
  return f;
}

const tensorPairs = (d: Draft) => d.header.pairs.filter(([k, v]) => k !== '__metadata__' && v instanceof Obj) as [string, Obj][];
const metadata = (d: Draft): Obj | undefined => { const m = get(d.header, '__metadata__'); return m instanceof Obj ? m : undefined; };

// Values that break assumptions: zero, negatives, fractions, 2^31/2^32/2^53 edges, past 2^53 (as raw
// text, which JSON.stringify cannot write), overflow to Infinity, strings, null, containers.
const WEIRD: Val[] = [0, -1, 1, 2, 3, 4, 1.5, 1e5, 2 ** 22, 1e9, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, new Raw('9007199254740993'),
  new Raw('18446744073709551616'), 1e308, new Raw('1e400'), new Raw('-0'), new Raw('4.0'), new Raw('4e0'), '8', null, true, [], new Obj([])];
const NAMES = ['embed.weight', 'pos_embed.weight', 'head.weight', 'head.bias', 'attn.weight', 'layers.0.linear1.weight',
  'layers.7.norm1.bias', 'norm.weight', '', '__proto__', 'constructor', 'toString', 'a\nb', 'x\u0000y', 'é🎉', 'x'.repeat(5000)];
const DTYPES: Val[] = ['F16', 'BF16', 'F64', 'I32', 'U8', 'BOOL', 'Q4', 'f32', 'F32 ', '', 5, null];

type Mutation = (g: Gen, d: Draft) => string;

const MUTATIONS: Record<string, Mutation> = {
  // -- header structure --
  renameTensor: (g, d) => {
    const p = g.pick(tensorPairs(d)), to = g.chance(0.5) ? g.pick(NAMES) : p[0] + g.pick(['x', '.0', ' ', '\u00ad']);
    const from = p[0]; p[0] = to;
    return `rename ${JSON.stringify(from)} → ${JSON.stringify(to.slice(0, 30))}`;
  },
  duplicateKey: (g, d) => {
    if (g.chance(0.5)) {
      const p = g.pick(d.header.pairs);
      d.header.pairs.splice(g.int(d.header.pairs.length + 1), 0, [p[0], p[1]]);
      return `duplicate top-level key ${JSON.stringify(p[0])}`;
    }
    const o = g.chance(0.5) ? metadata(d) : g.pick(tensorPairs(d))[1];
    if (!o || o.pairs.length === 0) return 'duplicate (nothing)';
    const p = g.pick(o.pairs);
    o.pairs.push([p[0], g.chance(0.5) ? p[1] : g.pick(WEIRD)]);
    return `duplicate inner key ${JSON.stringify(p[0])}`;
  },
  deleteEntry: (g, d) => {
    const i = g.int(d.header.pairs.length);
    const [k] = d.header.pairs.splice(i, 1)[0];
    return `delete ${JSON.stringify(k)}`;
  },
  extraTensor: (g, d) => {
    const total = d.data.length;
    const shape = g.pick([[1], [0], [2, 2], [total / 4]]);
    const begin = g.pick([0, total, total - 4, 4]);
    const end = begin + shape.reduce((a, x) => a * x, 1) * 4;
    d.header.pairs.push([g.pick(NAMES), new Obj([['dtype', 'F32'], ['shape', shape], ['data_offsets', [begin, end]]])]);
    if (g.chance(0.5)) d.data = concatBytes(d.data, new Uint8Array(Math.max(0, end - total)));
    return `extra tensor ${JSON.stringify(shape)} at [${begin},${end}]`;
  },
  shape: (g, d) => {
    const p = g.pick(tensorPairs(d))[1];
    const s = get(p, 'shape');
    const dims = Array.isArray(s) ? (s as Val[]).slice() : [];
    const kind = g.int(9);
    let v: Val;
    if (kind === 0 && dims.length) { const i = g.int(dims.length); dims[i] = (dims[i] as number) + g.pick([1, -1, 3]); v = dims; }
    else if (kind === 1 && dims.length > 1) v = [...dims].reverse();
    else if (kind === 2) v = g.chance(0.5) ? [...dims, 1] : dims.slice(0, -1);
    else if (kind === 3) v = [2 ** 31, 2 ** 31, 2 ** 31];                        // overflows 2^53
    else if (kind === 4) v = [2 ** 26, 2 ** 26, 2 ** 26, 0];                    // overflows before the zero
    else if (kind === 5) v = [0, 2 ** 52];                                      // zero elements, huge dim
    else if (kind === 6) v = [2 ** 53 - 1];
    else if (kind === 7) v = dims.map(() => g.pick(WEIRD));
    else v = g.pick(WEIRD);
    set(p, 'shape', v);
    return `shape → ${ser(v).slice(0, 60)}`;
  },
  offsets: (g, d) => {
    const ts = tensorPairs(d), p = g.pick(ts)[1];
    const off = get(p, 'data_offsets'), [b, e] = Array.isArray(off) ? (off as number[]) : [0, 0];
    const kind = g.int(8);
    let v: Val;
    if (kind === 0) v = [b + g.pick([4, -4, 1]), e + g.pick([0, 4, -4])];
    else if (kind === 1) v = [b, new Raw('9007199254740993')];                    // past 2^53
    else if (kind === 2) v = [new Raw('9007199254740992'), new Raw('9007199254741000')];
    else if (kind === 3) v = [e, b];                                           // reversed
    else if (kind === 4) { const q = g.pick(ts)[1]; v = get(q, 'data_offsets') ?? null; }  // overlap another
    else if (kind === 5) v = [b, 2 ** 53 - 1];
    else if (kind === 6) v = g.pick<Val>([[b], [b, e, e], [String(b), String(e)], [1.5, e], null, b]);
    else v = [g.pick(WEIRD), g.pick(WEIRD)];
    set(p, 'data_offsets', v);
    return `data_offsets → ${ser(v).slice(0, 60)}`;
  },
  dtype: (g, d) => {
    const v = g.pick(DTYPES);
    set(g.pick(tensorPairs(d))[1], 'dtype', v);
    return `dtype → ${ser(v)}`;
  },
  tensorField: (g, d) => {
    const p = g.pick(tensorPairs(d));
    const k = g.int(3);
    if (k === 0) { p[1].pairs.push(['extra', 1]); return `unknown field in ${p[0]}`; }
    if (k === 1) { p[1].pairs.splice(g.int(p[1].pairs.length), 1); return `drop a field of ${p[0]}`; }
    const v = g.pick<Val>([5, 'x', null, [], [1, 2]]);
    const pair = d.header.pairs.find((q) => q[0] === p[0])!;
    pair[1] = v;
    return `${p[0]} → ${ser(v)}`;
  },
  deepNesting: (g, d) => {
    const depth = g.pick([2, 31, 32, 33, 40, 200, 10_000]);
    const v = new Raw(g.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
    if (g.chance(0.5)) set(metadata(d) ?? d.header, g.pick(['config', 'nested']), v);
    else set(g.pick(tensorPairs(d))[1], g.pick(['shape', 'data_offsets', 'dtype']), v);
    return `nesting depth ${depth}`;
  },
  // -- header text and bytes --
  headerText: (g, d) => {
    const n = g.range(1, 4), ops: string[] = [];
    for (let j = 0; j < n; j++) {
      const at = g.rng.uniform(), op = g.int(3), ch = g.pick(['{', '}', '[', ']', '"', ':', ',', '0', '9', '-', 'e', '.', '\\', ' ', 'n', '\u0000', '\u00ff', 'é', '🎉', '\ud800']);
      d.textEdits.push((t) => {
        const i = Math.floor(at * t.length);
        return op === 0 ? t.slice(0, i) + ch + t.slice(i) : op === 1 ? t.slice(0, i) + t.slice(i + 1) : t.slice(0, i) + ch + t.slice(i + 1);
      });
      ops.push(`${['insert', 'delete', 'replace'][op]} ${JSON.stringify(ch)} at ${at.toFixed(3)}`);
    }
    return `header text: ${ops.join('; ')}`;
  },
  nonUtf8: (g, d) => {
    const bad = g.pick([[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf8], [0xe2, 0x82], [0x80], [0xf4, 0x90, 0x80, 0x80]]);
    const at = g.rng.uniform(), replace = g.chance(0.5);
    d.headerByteEdits.push((b) => {
      const i = Math.floor(at * b.length);
      return concatBytes(b.subarray(0, i), Uint8Array.from(bad), b.subarray(replace ? i + bad.length : i));
    });
    return `non-UTF-8 bytes ${bad.map((x) => x.toString(16)).join(' ')} ${replace ? 'over' : 'into'} the header at ${at.toFixed(3)}`;
  },
  headerLength: (g, d) => {
    const n = new TextEncoder().encode(ser(d.header)).length;
    const v = g.pick<[number, number]>([[0, 0], [1, 0], [7, 0], [n - 1, 0], [n + 1, 0], [n + 8, 0], [n + d.data.length, 0],
      [n + d.data.length + 1, 0], [MAX_HEADER_BYTES, 0], [MAX_HEADER_BYTES + 1, 0], [2 ** 32 - 1, 0], [0, 1], [0xffffffff, 0xffffffff],
      [0, 0x200000], [g.int(2 ** 32), 0], [g.int(2 ** 32), g.int(2 ** 32)]]);
    d.lenOverride = v;
    return `header length field → ${v[1] * 2 ** 32 + v[0]}`;
  },
  // -- metadata --
  format: (g, d) => {
    const m = metadata(d);
    if (!m) return 'format (no metadata)';
    const v = g.pick<Val>(['pt', 'HEED', 'heed ', '', 5, null]);
    if (g.chance(0.3)) m.pairs = m.pairs.filter(([k]) => k !== 'format'); else set(m, 'format', v);
    return `format → ${ser(v)}`;
  },
  metadataValue: (g, d) => {
    const m = metadata(d);
    const v = g.pick<Val>([5, null, true, [], new Obj([]), new Obj([['kind', 'pooling']])]);
    if (!m || g.chance(0.2)) { set(d.header, '__metadata__', v); return `__metadata__ → ${ser(v)}`; }
    const k = g.pick(['config', 'tokenizer', 'labels', 'format']);
    set(m, k, v);
    return `metadata ${k} → ${ser(v)}`;
  },
  config: (g, d) => {
    const m = metadata(d), c = m && get(m, 'config');
    if (typeof c !== 'string') return 'config (not a string)';
    let o: Obj;
    try { o = toVal(JSON.parse(c)) as Obj; } catch { return 'config (not JSON)'; }
    if (!(o instanceof Obj)) return 'config (not an object)';
    const keys = ['kind', 'vocabSize', 'maxLen', 'dModel', 'heads', 'ffDim', 'layers', 'classes', 'seed'];
    const k = g.pick(keys), kind = g.int(6);
    let what: string;
    if (kind === 0) { o.pairs = o.pairs.filter(([x]) => x !== k); what = `drop ${k}`; }
    else if (kind === 1) { o.pairs.push([g.pick(['extra', k]), 1]); what = 'add a key'; }
    else if (kind === 2 && k === 'kind') { const v = g.pick(['pooling', 'transformer', 'rnn', '']); set(o, 'kind', v); what = `kind → ${v}`; }
    else if (kind === 3) {
      // a change the tensors cannot see (heads dividing dModel, another seed): must still load
      const dm = get(o, 'dModel'), v = k === 'heads' && typeof dm === 'number' ? g.pick([1, dm]) : g.range(-3, 99);
      set(o, k === 'heads' ? 'heads' : 'seed', v);
      what = `${k === 'heads' ? 'heads' : 'seed'} → ${v}`;
    } else { const v = g.pick(WEIRD); set(o, k, v); what = `${k} → ${ser(v)}`; }
    set(m!, 'config', ser(o));
    return `config: ${what}`;
  },
  configText: (g, d) => {
    const m = metadata(d), c = m && get(m, 'config');
    if (typeof c !== 'string') return 'config text (not a string)';
    const i = g.int(c.length + 1);
    const v = g.pick([c.slice(0, i), c.slice(0, i) + g.pick(['"', '}', ',', '{', '\\', 'NaN', '1e999']) + c.slice(i), '', 'null', '[]',
      '{"kind":"pooling","kind":"transformer"}', c.replace('{', '{"vocabSize":3,')]);
    set(m!, 'config', v);
    return `config text → ${JSON.stringify(v.slice(0, 60))}`;
  },
  labels: (g, d) => {
    const m = metadata(d);
    if (!m) return 'labels (no metadata)';
    const v = g.pick(['[]', '["a"]', '["a","b","c","d"]', '[1,2]', '["",""]', '["a","a","a"]', '["a","b"', 'null', '{"0":"a"}', '["\\ud800","b","c"]']);
    set(m, 'labels', v);
    return `labels → ${v}`;
  },
  tokenizer: (g, d) => {
    const m = metadata(d), t = m && get(m, 'tokenizer');
    if (typeof t !== 'string') return 'tokenizer (not a string)';
    let v: string;
    try {
      const o = JSON.parse(t) as Record<string, unknown> | null;
      if (o === null || g.chance(0.3)) v = g.pick(['{', '5', '"word"', '[]', '{"type":"word"}']);
      else {
        const k = g.pick(['type', 'lowercase', 'minFreq', 'maxVocab', 'vocab', 'extra']);
        const vals: unknown[] = [null, 0, 1, -1, 'char', 'bpe', [], ['<pad>'], ['<pad>', '<unk>', '<unk>'], ['<pad>', '<unk>', 'two words'], true, 1e9];
        if (g.chance(0.3)) delete o[k]; else o[k] = g.pick(vals);
        v = JSON.stringify(o);
      }
    } catch { v = 'null'; }
    set(m!, 'tokenizer', v);
    return `tokenizer → ${v.slice(0, 60)}`;
  },
  // -- whole-file bytes --
  bitFlips: (g, d) => {
    const n = g.range(1, 16), headerOnly = g.chance(0.5), seeds = Array.from({ length: n }, () => [g.rng.uniform(), g.int(8)] as const);
    d.post.push((f) => {
      const out = f.slice(), limit = headerOnly ? Math.min(f.length, 8 + new DataView(f.buffer).getUint32(0, true)) : f.length;
      for (const [u, bit] of seeds) { const i = Math.floor(u * limit); if (i < out.length) out[i] ^= 1 << bit; }
      return out;
    });
    return `${n} bit flips${headerOnly ? ' in the header' : ''}`;
  },
  overwrite: (g, d) => {
    const at = g.rng.uniform(), bytes = g.chance(0.5) ? g.bytes(g.range(1, 16))
      : Uint8Array.from({ length: g.range(1, 8) }, () => g.pick([0, 0xff, 0x22, 0x7b, 0x2c, 0x39, 0x2d, 0x5c, 0x7f, 0x80]));
    d.post.push((f) => { const out = f.slice(); out.set(bytes.subarray(0, Math.max(0, out.length - Math.floor(at * out.length))), Math.floor(at * out.length)); return out; });
    return `overwrite ${bytes.length} bytes at ${at.toFixed(3)}`;
  },
  truncate: (g, d) => {
    const at = g.rng.uniform();
    d.post.push((f) => f.slice(0, Math.floor(at * f.length)));
    return `truncate at ${at.toFixed(3)}`;
  },
  extend: (g, d) => {
    const junk = g.chance(0.5) ? g.bytes(g.range(1, 64)) : new Uint8Array(4 * g.range(1, 8));
    d.post.push((f) => concatBytes(f, junk));
    return `extend by ${junk.length} bytes`;
  },
  nonFiniteData: (g, d) => {
    const v = g.pick([NaN, Infinity, -Infinity, 3e38, 1e-45]), at = g.int(Math.max(1, d.data.length >> 2));
    if (d.data.length >= 4) new DataView(d.data.buffer, d.data.byteOffset).setFloat32(at * 4, v, true);
    return `weight ${at} → ${v}`;
  },
};
// Config edits are where a few bytes can claim a huge model: draw them three times as often.
const MUTATION_NAMES = [...Object.keys(MUTATIONS), 'config', 'config'];

// ---- running one case -----------------------------------------------------------------------

interface Outcome { kind: 'error' | 'load'; ms: number; message?: string }

/** Loads `bytes` in ctx and checks the contract; returns what happened or throws a description. */
function attempt(ctx: Context, bytes: Uint8Array, g: Gen): Outcome {
  const before = ctx.memory();
  const t0 = performance.now();
  let loaded: ReturnType<Context['loadModel']>;
  try {
    loaded = ctx.loadModel(bytes);
  } catch (e) {
    const ms = performance.now() - t0;
    if (!(e instanceof HeedError)) throw new Error(`threw ${(e as Error)?.constructor?.name ?? typeof e} instead of a HeedError: ${String((e as Error)?.message ?? e).slice(0, 300)}`);
    if (!e.message || /[\n\r]/.test(e.message)) throw new Error(`HeedError message is empty or not one line: ${JSON.stringify(e.message.slice(0, 300))}`);
    const after = ctx.memory();
    if (after.allocatedBytes !== before.allocatedBytes || after.tensors !== before.tensors) {
      throw new Error(`a failed load left memory behind (${before.allocatedBytes} → ${after.allocatedBytes} bytes)`);
    }
    return { kind: 'error', ms, message: e.message };
  }
  // A load must be correct: what the file says, usable, and releasable.
  const { model, labels, tokenizer } = loaded;
  try {
    const file = decodeSafetensors(bytes);
    const sd = model.stateDict();
    const names = Object.keys(sd);
    if (names.length !== file.tensors.size) throw new Error(`stateDict has ${names.length} entries, the file ${file.tensors.size}`);
    for (const n of names) {
      const t = file.tensors.get(n);
      if (!t) throw new Error(`stateDict has "${n}", the file does not`);
      if (t.shape.join() !== sd[n].shape.join() || !sameBits(t.data, sd[n].data)) throw new Error(`"${n}" differs from the file`);
    }
    const c = model.config, C = model.outputs, n = C === 1 && c.kind !== 'regressor' ? 2 : C;
    if (!Array.isArray(labels) || labels.length !== n || !labels.every((l) => typeof l === 'string')) throw new Error(`labels ${JSON.stringify(labels)}`);
    const T = c.kind === 'transformer' ? Math.min(c.maxLen, 5) : 5;
    const tokens = Int32Array.from({ length: 2 * T }, () => g.int(c.vocabSize));
    const logits = model.forward(tokens, [2, T]);
    if (logits.shape.join() !== `2,${C}`) throw new Error(`logits shape ${logits.shape}`);
    logits.dispose();
    if (tokenizer !== null) {
      try { Tokenizer.fromJSON(tokenizer); } catch (e) {
        if (!(e instanceof HeedError)) throw new Error(`Tokenizer.fromJSON threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      }
    }
  } finally {
    model.dispose();
  }
  const after = ctx.memory();
  if (after.allocatedBytes !== before.allocatedBytes) throw new Error(`a disposed model left memory behind (${before.allocatedBytes} → ${after.allocatedBytes})`);
  return { kind: 'load', ms: performance.now() - t0 };
}

describe('model-file loader fuzz', () => {
  it(`${CASES} mutated model files: each a HeedError or a correct load, within ${CASE_MS} ms`, () => {
    const failures: string[] = [];
    const counts = { error: 0, load: 0 };
    const byMutation = new Map<string, { error: number; load: number }>();
    let slowest = { ms: 0, what: '' };
    const t0 = performance.now();
    for (let i = 0; i < CASES; i++) {
      if (ONLY_CASE !== undefined && i !== ONLY_CASE) continue;
      const g = new Gen(FUZZ_SEED + i);
      const base = bases[i % bases.length], ctx = (i >> 2) % 2 === 0 ? wasm : js;
      const d = draftOf(base.bytes);
      const picked = Array.from({ length: g.pick([1, 1, 1, 2, 2, 3]) }, () => g.pick(MUTATION_NAMES));
      const steps = picked.map((m) => `${m}: ${MUTATIONS[m](g, d)}`);
      const what = `HEED_FUZZ_SEED=${FUZZ_SEED} HEED_FUZZ_CASE=${i} (${base.name} on ${ctx.backend}): ${steps.join(' | ')}`;
      try {
        const out = attempt(ctx, build(d), g);
        counts[out.kind]++;
        for (const m of picked) {
          const c = byMutation.get(m) ?? { error: 0, load: 0 };
          c[out.kind]++;
          byMutation.set(m, c);
        }
        if (out.ms > slowest.ms) slowest = { ms: out.ms, what };
        if (out.ms > CASE_MS) failures.push(`${what}: took ${out.ms.toFixed(0)} ms`);
        if (ONLY_CASE !== undefined) console.log(what, '→', out);
      } catch (e) {
        failures.push(`${what}: ${(e as Error).message}`);
      }
    }
    const total = performance.now() - t0;
    console.log(`loader fuzz: ${CASES} cases in ${total.toFixed(0)} ms (${counts.error} HeedErrors, ${counts.load} loads); slowest ${slowest.ms.toFixed(1)} ms: ${slowest.what.slice(0, 200)}`);
    if (ONLY_CASE === undefined) {
      // Every mutation ran, and both outcomes happened (the fuzzer is not only producing garbage).
      expect(new Set(byMutation.keys()).size).toBe(Object.keys(MUTATIONS).length);
      expect(counts.load).toBeGreaterThan(CASES / 50);
      expect(counts.error).toBeGreaterThan(CASES / 2);
    }
    expect(failures.slice(0, 20)).toEqual([]);
  });

  it('each hostile edit of the Model files section is a HeedError saying which', () => {
    const base = bases[0].bytes;
    const edit = (f: (d: Draft) => void) => { const d = draftOf(base); f(d); return build(d); };
    const first = (d: Draft) => tensorPairs(d)[0][1];
    const cases: [string, Uint8Array, RegExp][] = [
      ['a header claim over 100 MB', edit((d) => { d.lenOverride = [MAX_HEADER_BYTES + 1, 0]; }), /over the 100000000-byte limit/],
      ['a header claim of 2^63', edit((d) => { d.lenOverride = [0, 0x80000000]; }), /over the .*limit/],
      ['a duplicate tensor key', edit((d) => { d.header.pairs.push(tensorPairs(d)[1]); }), /duplicate key "/],
      ['a duplicate metadata key', edit((d) => { metadata(d)!.pairs.push(['format', 'heed']); }), /duplicate key "format"/],
      ['offsets past 2^53', edit((d) => { set(first(d), 'data_offsets', [0, new Raw('9007199254740993')]); }), /beyond 2\^53/],
      ['overlapping offsets', edit((d) => { const [a, b] = tensorPairs(d); set(b[1], 'data_offsets', get(a[1], 'data_offsets')!); }), /overlap|gap|not covered|cover/],
      ['a shape whose product overflows', edit((d) => { set(first(d), 'shape', [2 ** 31, 2 ** 31, 2 ** 31]); }), /overflows/],
      ['a shape disagreeing with its bytes', edit((d) => { set(first(d), 'shape', [1]); }), /needs 4 bytes but data_offsets/],
      ['an unknown dtype', edit((d) => { set(first(d), 'dtype', 'Q4'); }), /unknown dtype "Q4"/],
      ['non-UTF-8 in the header', edit((d) => { d.headerByteEdits.push((b) => { const o = b.slice(); o[3] = 0xff; return o; }); }), /not valid UTF-8/],
      ['deep nesting', edit((d) => { set(metadata(d)!, 'x', new Raw('['.repeat(5000) + ']'.repeat(5000))); }), /nesting deeper than/],
      ['truncated data', base.slice(0, base.length - 3), /runs past the end/],
      ['junk after the data', concatBytes(base, new Uint8Array(4)), /not covered by any tensor/],
      ['a config disagreeing with the tensors', edit((d) => {
        const m = metadata(d)!; set(m, 'config', (get(m, 'config') as string).replace('"dModel":8', '"dModel":16'));
      }), /config disagrees with the tensors/],
      ['a config claiming a huge vocabulary', edit((d) => {
        const m = metadata(d)!; set(m, 'config', (get(m, 'config') as string).replace(/"vocabSize":\d+/, '"vocabSize":1000000000'));
      }), /config is invalid: transformerClassifier: vocabSize 1000000000, .* parameters, more than one block can hold/],
      ['a config claiming a 4-million-word vocabulary (256 MB to allocate)', edit((d) => {
        const m = metadata(d)!; set(m, 'config', (get(m, 'config') as string).replace(/"vocabSize":\d+/, '"vocabSize":4000000'));
      }), /config disagrees with the tensors: "embed.weight" has shape/],
      ['a config claiming a billion layers', edit((d) => {
        const m = metadata(d)!; set(m, 'config', (get(m, 'config') as string).replace('"layers":1', '"layers":1000000000'));
      }), /config is invalid: transformerClassifier: layers must be at most 1024, got 1000000000/],
      ['a config that is not JSON', edit((d) => { set(metadata(d)!, 'config', '{"kind":'); }), /metadata "config"/],
      ['a tensor name with a line break', edit((d) => { tensorPairs(d)[0][0] = 'embed\nweight'; }), /unexpected tensor "embed\\nweight"/],
    ];
    for (const backend of [wasm, js]) {
      const before = backend.memory().allocatedBytes, linear = backend.memory().bytes;
      for (const [what, bytes, msg] of cases) {
        const t0 = performance.now();
        let err: unknown;
        try { backend.loadModel(bytes); } catch (e) { err = e; }
        expect(err, what).toBeInstanceOf(HeedError);
        expect((err as Error).message, what).toMatch(msg);
        expect((err as Error).message, what).not.toMatch(/\n/);
        expect(performance.now() - t0, what).toBeLessThan(500);
      }
      expect(backend.memory().allocatedBytes).toBe(before);
      expect(backend.memory().bytes).toBe(linear); // nothing was allocated to find out: memory did not grow
    }
  });
});

describe('decodeSafetensors fuzz', () => {
  it(`${CASES} random and mutated byte strings: a HeedError or a consistent decode`, () => {
    const failures: string[] = [];
    let decoded = 0, slowest = 0;
    for (let i = 0; i < CASES; i++) {
      if (ONLY_CASE !== undefined && i !== ONLY_CASE) continue;
      const g = new Gen((FUZZ_SEED ^ 0x5eed) + i);
      let bytes: Uint8Array, what: string;
      const k = g.int(4);
      if (k === 0) { bytes = g.bytes(g.int(64)); what = 'random bytes'; }
      else if (k === 1) {
        // a plausible length and a random JSON-ish header
        const alphabet = '{}[]":,0123456789-eE.aFS_ \\u';
        const h = Array.from({ length: g.int(80) }, () => alphabet[g.int(alphabet.length)]).join('');
        const hb = new TextEncoder().encode(h), f = concatBytes(new Uint8Array(8), hb, g.bytes(g.int(16)));
        new DataView(f.buffer).setUint32(0, hb.length + g.pick([0, 0, 0, 1, -1, 8]), true);
        bytes = f; what = `header ${JSON.stringify(h)}`;
      } else {
        const d = draftOf(g.pick(bases).bytes);
        const steps = Array.from({ length: g.range(1, 3) }, () => { const m = g.pick(MUTATION_NAMES); return `${m}: ${MUTATIONS[m](g, d)}`; });
        bytes = build(d); what = steps.join(' | ');
      }
      const tag = `HEED_FUZZ_SEED=${FUZZ_SEED} HEED_FUZZ_CASE=${i}: ${what.slice(0, 200)}`;
      const t0 = performance.now();
      try {
        const r = decodeSafetensors(bytes);
        decoded++;
        // A decode is consistent: every tensor's data fills its shape, and the data is covered exactly.
        let total = 0;
        for (const t of r.tensors.values()) {
          if (t.data.length !== t.shape.reduce((a, x) => a * x, 1)) failures.push(`${tag}: "${t.name}" data does not fill its shape`);
          total += t.data.length * 4;
        }
        const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
        if (total !== bytes.length - 8 - n) failures.push(`${tag}: tensors cover ${total} of ${bytes.length - 8 - n} data bytes`);
        for (const v of Object.values(r.metadata)) if (typeof v !== 'string') failures.push(`${tag}: a metadata value is not a string`);
      } catch (e) {
        if (!(e instanceof HeedError)) failures.push(`${tag}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        else if (/[\n\r]/.test(e.message)) failures.push(`${tag}: message not one line: ${JSON.stringify(e.message.slice(0, 200))}`);
      }
      slowest = Math.max(slowest, performance.now() - t0);
    }
    console.log(`decodeSafetensors fuzz: ${CASES} cases, ${decoded} decoded, slowest ${slowest.toFixed(1)} ms`);
    expect(slowest).toBeLessThan(CASE_MS);
    expect(failures.slice(0, 20)).toEqual([]);
  });
});
