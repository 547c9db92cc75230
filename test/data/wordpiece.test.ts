// Parity with Hugging Face's `tokenizers` (and transformers for vocab.txt) on the strings of
// test/fixtures/wordpiece/cases.json, made by test/fixtures/make_wordpiece_fixtures.py.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HeedError } from '../../src/errors.js';
import { loadWordPiece, type EncodeOptions, type WordPieceEncoding, type WordPieceTokenizer } from '../../src/data/wordpiece.js';

const dir = new URL('../fixtures/wordpiece/', import.meta.url);
const read = (p: string): string => readFileSync(new URL(p, dir), 'utf8');

interface Want { ids?: number[]; types?: string; mask?: string; offsets?: number[]; tokens?: Record<string, string>; decoded?: string; error?: string }
const cases = JSON.parse(read('cases.json')) as {
  strings: string[]; pairs: [string, string][]; normalized: Record<string, string[]>;
  uncased: { single: Want[]; pair: Want[]; truncation: Array<Want & { input: string[]; maxLength: number; strategy: 'longest_first' | 'only_first' | 'only_second'; direction: 'left' | 'right' }>;
    batches: Array<{ inputs: Array<string | [string, string]>; direction: 'left' | 'right'; multiple: number | null; length: number | null; out: Want[] }> };
  cased: { single: Want[]; pair: Want[] };
  raw: Want[];
  legacyPairs: [string, string][];
  legacy: Record<'single' | 'pair', Array<{ ids: number[]; types?: string; truncated?: number[]; truncatedTypes?: string }>>;
};
const uncased = loadWordPiece({ 'tokenizer.json': read('uncased/tokenizer.json') });
const cased = loadWordPiece({ 'tokenizer.json': read('cased/tokenizer.json') });
const legacy = loadWordPiece({ 'vocab.txt': read('legacy/vocab.txt'), 'tokenizer_config.json': read('legacy/tokenizer_config.json') }, 'legacy');

/** Every difference between an encoding and HF's, as one line each (empty: identical). */
function diff(tk: WordPieceTokenizer, got: WordPieceEncoding, want: Want): string[] {
  const out: string[] = [];
  const ids = [...got.ids];
  if (JSON.stringify(ids) !== JSON.stringify(want.ids)) out.push(`ids ${JSON.stringify(ids)} != ${JSON.stringify(want.ids)}`);
  const types = [...got.typeIds].join(''), mask = [...got.attentionMask].join('');
  if (types !== (want.types ?? '0'.repeat(want.ids!.length))) out.push(`typeIds ${types} != ${want.types}`);
  if (mask !== (want.mask ?? '1'.repeat(want.ids!.length))) out.push(`attentionMask ${mask} != ${want.mask}`);
  if (want.offsets && JSON.stringify(got.offsets.flat()) !== JSON.stringify(want.offsets)) out.push(`offsets ${JSON.stringify(got.offsets.flat())} != ${JSON.stringify(want.offsets)}`);
  const tokens = want.ids!.map((id, i) => want.tokens?.[i] ?? tk.idToToken(id));
  if (JSON.stringify(got.tokens) !== JSON.stringify(tokens)) out.push(`tokens ${JSON.stringify(got.tokens)} != ${JSON.stringify(tokens)}`);
  if (want.decoded !== undefined && tk.decode(got.ids) !== want.decoded) out.push(`decode ${JSON.stringify(tk.decode(got.ids))} != ${JSON.stringify(want.decoded)}`);
  return out;
}

function parity(tk: WordPieceTokenizer, inputs: Array<string | readonly string[]>, wants: Want[], options?: (i: number) => EncodeOptions): string[] {
  expect(wants.length).toBe(inputs.length);
  const bad: string[] = [];
  inputs.forEach((input, i) => {
    const [a, b] = typeof input === 'string' ? [input, undefined] : input;
    const want = wants[i];
    if (want.error !== undefined) {
      try { tk.encode(a, b, options?.(i)); bad.push(`#${i} ${JSON.stringify(input)}: no error (HF: ${want.error})`); } catch (e) {
        if (!(e instanceof HeedError)) bad.push(`#${i}: ${String(e)}`);
      }
      return;
    }
    const d = diff(tk, tk.encode(a, b, options?.(i)), want);
    if (d.length) bad.push(`#${i} ${JSON.stringify(input)}: ${d.join('; ')}`);
  });
  return bad.slice(0, 10);
}

describe('WordPiece tokenizer: parity with tokenizers ' + (cases as { tokenizers?: string }).tokenizers, () => {
  it(`uncased tokenizer.json (BertProcessing, added tokens): ${cases.strings.length} texts`, () => {
    expect(parity(uncased, cases.strings, cases.uncased.single)).toEqual([]);
  });
  it(`uncased: ${cases.pairs.length} pairs`, () => {
    expect(parity(uncased, cases.pairs, cases.uncased.pair)).toEqual([]);
  });
  it(`uncased: ${cases.uncased.truncation.length} truncations (longest_first, only_first, only_second, left and right)`, () => {
    const t = cases.uncased.truncation;
    expect(parity(uncased, t.map((c) => c.input), t, (i) => ({ truncation: { maxLength: t[i].maxLength, strategy: t[i].strategy, direction: t[i].direction } }))).toEqual([]);
    expect(t.some((c) => c.error)).toBe(true);  // the fixture holds HF's refusals too
  });
  it(`uncased: ${cases.uncased.batches.length} padded batches (longest, fixed, multiple of, left)`, () => {
    const bad: string[] = [];
    cases.uncased.batches.forEach((b, n) => {
      const got = uncased.encodeBatch(b.inputs, { padding: { direction: b.direction, multipleOf: b.multiple ?? undefined, length: b.length ?? undefined } });
      got.forEach((g, i) => { const d = diff(uncased, g, b.out[i]); if (d.length) bad.push(`batch ${n}[${i}]: ${d.join('; ')}`); });
    });
    expect(bad.slice(0, 10)).toEqual([]);
  });
  it('normalizer output (uncased and cased)', () => {
    for (const [name, tk] of [['uncased', uncased], ['cased', cased]] as const) {
      const want = cases.normalized[name];
      const bad = want.map((w, i) => [cases.strings[i], tk.normalize(cases.strings[i]), w]).filter(([, g, w]) => g !== w);
      expect(bad.slice(0, 5)).toEqual([]);
    }
  });
  it(`uncased tokenizer.json with "normalizer": null: ${cases.raw.length} texts`, () => {
    const j = JSON.parse(read('uncased/tokenizer.json')) as { normalizer: unknown };
    j.normalizer = null;
    const raw = loadWordPiece({ 'tokenizer.json': JSON.stringify(j) });
    expect(parity(raw, cases.strings.slice(0, cases.raw.length), cases.raw)).toEqual([]);
  });
  it(`cased tokenizer.json (TemplateProcessing, truncation and padding from the file): ${cases.cased.single.length} texts, ${cases.cased.pair.length} pairs`, () => {
    expect(parity(cased, cases.strings.slice(0, cases.cased.single.length), cases.cased.single)).toEqual([]);
    expect(parity(cased, cases.pairs.slice(0, cases.cased.pair.length), cases.cased.pair)).toEqual([]);
  });
  it(`vocab.txt + tokenizer_config.json, as transformers reads them: ${cases.legacy.single.length} texts, ${cases.legacy.pair.length} pairs, with and without truncation: true`, () => {
    const all = [...cases.strings.slice(0, cases.legacy.single.length), ...cases.legacyPairs];
    const wants = [...cases.legacy.single, ...cases.legacy.pair];
    const bad: string[] = [];
    all.forEach((input, i) => {
      const [a, b] = typeof input === 'string' ? [input, undefined] : input;
      const want = wants[i];
      const got = legacy.encode(a, b);
      if (JSON.stringify([...got.ids]) !== JSON.stringify(want.ids)) bad.push(`#${i} ids ${JSON.stringify([...got.ids])} != ${JSON.stringify(want.ids)}`);
      if ([...got.typeIds].join('') !== (want.types ?? '0'.repeat(want.ids.length))) bad.push(`#${i} typeIds`);
      const t = legacy.encode(a, b, { truncation: true });
      if (JSON.stringify([...t.ids]) !== JSON.stringify(want.truncated ?? want.ids)) bad.push(`#${i} truncated ids ${JSON.stringify([...t.ids])} != ${JSON.stringify(want.truncated ?? want.ids)}`);
      if (want.truncatedTypes !== undefined && [...t.typeIds].join('') !== want.truncatedTypes) bad.push(`#${i} truncated typeIds`);
    });
    expect(bad.slice(0, 10)).toEqual([]);
    expect(legacy.modelMaxLength).toBe(24);
    expect(wants.some((c) => c.truncated)).toBe(true);
  });
});

describe('WordPiece tokenizer: behaviour beyond the fixtures', () => {
  it('a lone surrogate is read as U+FFFD (what UTF-8 makes of it), so clean_text drops it', () => {
    expect([...uncased.encode('ab\ud800cd').ids]).toEqual([...uncased.encode('ab\ufffdcd').ids]);
    expect([...uncased.encode('x\udc00').ids]).toEqual([...uncased.encode('x').ids]);
    expect(cased.normalize('a\ud83d')).toBe('a');
  });
  it('encodeBatch pads to the longest with the [PAD] id and mask 0 when the file sets no padding', () => {
    const [a, b] = uncased.encodeBatch(['hello', ['the license', 'is here and there']]);
    expect(a.ids.length).toBe(b.ids.length);
    const pad = uncased.tokenToId('[PAD]')!;
    const n = uncased.encode('hello').ids.length;
    expect([...a.ids.slice(n)].every((x) => x === pad)).toBe(true);
    expect([...a.attentionMask]).toEqual([...new Array(n).fill(1), ...new Array(a.ids.length - n).fill(0)]);
    expect(uncased.encodeBatch(['hello', 'a b c d e'], { padding: false })[0].ids.length).toBe(n);
  });
  it('maxLength below the template\'s special tokens is an error (HF wraps around and truncates nothing)', () => {
    expect(() => uncased.encode('a b c', 'd e', { truncation: { maxLength: 2 } })).toThrow(/maxLength 2 leaves no room for the 3 special tokens/);
    expect(() => uncased.encode('a b c', undefined, { truncation: { maxLength: 1 } })).toThrow(HeedError);
    expect([...uncased.encode('a b c', undefined, { truncation: { maxLength: 1 }, addSpecialTokens: false }).ids]).toEqual([uncased.tokenToId('a')]);
  });
  it('bad options and inputs are one-line HeedErrors, and the tokenizer keeps working', () => {
    const bad: Array<() => unknown> = [
      () => uncased.encode(42 as unknown as string),
      () => uncased.encode('a', null as unknown as string),
      () => uncased.encode('a', undefined, { truncation: { maxLength: -1 } }),
      () => uncased.encode('a', undefined, { truncation: { maxLength: 3, strategy: 'shortest' as 'only_first' } }),
      () => uncased.encode('a b c d', undefined, { truncation: { maxLength: 3, strategy: 'only_second' } }),
      () => uncased.encode('a', undefined, { truncation: true }),
      () => uncased.encodeBatch(['a', 3 as unknown as string]),
      () => uncased.encodeBatch('a' as unknown as string[]),
      () => uncased.encode('a', undefined, { padding: { multipleOf: 0 } }),
      () => uncased.decode([1.5]),
    ];
    for (const f of bad) {
      let err: unknown;
      try { f(); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(HeedError);
      expect((err as Error).message).not.toContain('\n');
    }
    expect([...uncased.encode('Hello, World!').ids]).toEqual(cases.uncased.single[cases.strings.indexOf('Hello, World!')].ids);
    expect(uncased.decode(uncased.encode('Hello, World!').ids)).toBe('hello, world!');
  });
  it('decode keeps specials when asked and skips ids it does not know, as HF', () => {
    const e = uncased.encode('hello world');
    expect(uncased.decode(e.ids, { skipSpecialTokens: false })).toBe('[CLS] hello world [SEP]');
    expect(uncased.decode([...e.ids, 999999])).toBe('hello world');
  });
});

describe('WordPiece tokenizer: files it cannot honour', () => {
  const base = JSON.parse(read('uncased/tokenizer.json')) as Record<string, unknown>;
  const edit = (f: (j: Record<string, any>) => void): string => { const j = structuredClone(base) as Record<string, any>; f(j); return JSON.stringify(j); };
  const load = (text: string) => () => loadWordPiece({ 'tokenizer.json': text }, 'models/x');
  it.each([
    ['another model type', edit((j) => { j.model.type = 'BPE'; }), /^models\/x\/tokenizer\.json: model\.type "BPE" is not supported/],
    ['another normalizer', edit((j) => { j.normalizer = { type: 'Sequence', normalizers: [] }; }), /tokenizer\.json: normalizer\.type "Sequence" is not supported/],
    ['another pre-tokenizer', edit((j) => { j.pre_tokenizer = { type: 'Whitespace' }; }), /tokenizer\.json: pre_tokenizer\.type "Whitespace" is not supported/],
    ['no pre-tokenizer', edit((j) => { j.pre_tokenizer = null; }), /tokenizer\.json: pre_tokenizer\.type null is not supported/],
    ['another post-processor', edit((j) => { j.post_processor = { type: 'RobertaProcessing' }; }), /tokenizer\.json: post_processor\.type "RobertaProcessing" is not supported/],
    ['an unknown [UNK]', edit((j) => { j.model.unk_token = '<unk>'; }), /tokenizer\.json: model\.unk_token "<unk>" is not in model\.vocab/],
    ['a negative id', edit((j) => { j.model.vocab.hello = -3; }), /tokenizer\.json: model\.vocab\["hello"\] must be an integer/],
    ['a string for lowercase', edit((j) => { j.normalizer.lowercase = 'yes'; }), /tokenizer\.json: normalizer\.lowercase must be true or false, got "yes"/],
    ['a padding strategy', edit((j) => { j.padding = { strategy: 'Longest' }; }), /tokenizer\.json: padding\.strategy "Longest" is not supported/],
    ['a truncation strategy', edit((j) => { j.truncation = { max_length: 5, strategy: 'Middle' }; }), /tokenizer\.json: truncation\.strategy "Middle" is not supported/],
    ['a template naming an undefined token', edit((j) => { j.post_processor = { type: 'TemplateProcessing', single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }], pair: [], special_tokens: {} }; }), /post_processor\.single\[0\] names special token "<s>"/],
    ['truncated JSON', '{"model": {', /^models\/x\/tokenizer\.json: /],
    ['duplicate keys', '{"model": {}, "model": {}}', /tokenizer\.json: duplicate key "model"/],
  ])('%s', (_, text, re) => {
    expect(load(text)).toThrow(HeedError);
    expect(load(text)).toThrow(re);
  });
  it('an unsupported decoder fails decode (naming the file), not encode', () => {
    const tk = loadWordPiece({ 'tokenizer.json': edit((j) => { j.decoder = { type: 'Metaspace' }; }) });
    expect(tk.encode('hello').ids.length).toBeGreaterThan(0);
    expect(() => tk.decode([5])).toThrow(/tokenizer\.json: decoder type "Metaspace" is not supported/);
  });
  it('vocab.txt without a special token, or a config of the wrong type, names the file and key', () => {
    const vocab = read('legacy/vocab.txt').replace('[MASK]\n', '[MASQUE]\n');
    expect(() => loadWordPiece({ 'vocab.txt': vocab }, 'm')).toThrow(/^m\/vocab\.txt: has no line "\[MASK\]" \(the mask_token of m\/tokenizer_config\.json\)$/);
    expect(() => loadWordPiece({ 'vocab.txt': read('legacy/vocab.txt'), 'tokenizer_config.json': '{"do_lower_case": "yes"}' }))
      .toThrow(/^tokenizer_config\.json: do_lower_case must be true or false/);
    expect(() => loadWordPiece({ 'tokenizer_config.json': '{}' }, 'm')).toThrow(/^m: no tokenizer: need tokenizer\.json, or vocab\.txt/);
    expect(() => loadWordPiece({ 'vocab.txt': 5 as unknown as string })).toThrow(/files\["vocab\.txt"\] must be the file's text/);
  });
});
