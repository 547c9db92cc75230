// Reads a BERT-family tokenizer's files into what wordpiece.ts runs: tokenizer.json as the
// `tokenizers` library writes it, or (older checkpoints) vocab.txt + tokenizer_config.json as
// `transformers`' BertTokenizer reads them. Anything the tokenizer could not honour exactly (another
// model, normalizer, pre-tokenizer or post-processor) is a HeedError naming the file and the key.
import { HeedError } from '../errors.js';
import { brief, parseStrictJson } from '../io/json.js';
import type { BertNormalizerOptions } from './bert-normalizer.js';

/** The text of a checkpoint's tokenizer files; tokenizer.json wins when both forms are given. */
export interface WordPieceFiles {
  'tokenizer.json'?: string;
  'vocab.txt'?: string;
  'tokenizer_config.json'?: string;
}

export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

export interface Truncation { maxLength: number; strategy: 'longest_first' | 'only_first' | 'only_second'; direction: 'right' | 'left' }

export interface Padding {
  length: number | 'longest';
  multipleOf: number | null;
  direction: 'right' | 'left';
  padId: number;
  padTypeId: number;
  padToken: string;
}

export type Template = Array<{ kind: 'seq'; seq: 0 | 1; typeId: number } | { kind: 'special'; ids: number[]; tokens: string[]; typeId: number }>;

export type Decoder =
  | { kind: 'wordpiece'; prefix: string; cleanup: boolean }
  | { kind: 'none' }
  | { kind: 'unsupported'; type: string; where: string };

export interface WordPieceConfig {
  /** The file(s) it came from, for messages. */
  source: string;
  normalizer: BertNormalizerOptions | null;
  vocab: Map<string, number>;
  model: { unk: { token: string; id: number }; prefix: string; maxChars: number };
  added: AddedToken[];
  template: { single: Template; pair: Template };
  truncation: Truncation | null;
  padding: Padding | null;
  /** Padding for a batch when the file sets none: to the longest, with [PAD] (or pad_token). */
  defaultPad: Padding | null;
  decoder: Decoder;
  modelMaxLength?: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
// Ids and type ids reach the model as Int32Array entries: HF's u32 beyond 2^31 - 1 would wrap.
const MAX_ID = 2 ** 31 - 1;
// transformers' VERY_LARGE_INTEGER (int(1e30)) means "no limit".
const NO_LIMIT = 1e29;

class Reader {
  constructor(readonly file: string) {}
  fail(key: string, msg: string): never { throw new HeedError(`${this.file}: ${key} ${msg}`); }
  obj(v: unknown, key: string): Obj { return isObj(v) ? v : this.fail(key, `must be an object, got ${brief(v)}`); }
  bool(v: unknown, key: string): boolean { return typeof v === 'boolean' ? v : this.fail(key, `must be true or false, got ${brief(v)}`); }
  str(v: unknown, key: string): string { return typeof v === 'string' ? v : this.fail(key, `must be a string, got ${brief(v)}`); }
  uint(v: unknown, key: string, max = MAX_ID): number {
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : this.fail(key, `must be an integer in [0, ${max}], got ${brief(v)}`);
  }
  optBool(o: Obj, key: string, path: string, dflt: boolean): boolean { return o[key] === undefined ? dflt : this.bool(o[key], `${path}.${key}`); }
  oneOf<T extends string>(v: unknown, key: string, values: readonly T[]): T {
    return values.includes(v as T) ? v as T : this.fail(key, `${brief(v)} is not supported (${values.map((x) => JSON.stringify(x)).join(', ')})`);
  }
}

const name = (source: string | undefined, file: string): string => (source ? `${source.replace(/\/+$/, '')}/${file}` : file);

export function parseWordPieceFiles(files: WordPieceFiles, source?: string): WordPieceConfig {
  if (!isObj(files)) throw new HeedError(`loadWordPiece: files must be an object of file texts ({ 'tokenizer.json' } or { 'vocab.txt', 'tokenizer_config.json' })`);
  // Each file is read once: what is checked is what is parsed.
  const text: Partial<Record<keyof WordPieceFiles, string>> = {};
  for (const k of ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json'] as const) {
    const v: unknown = (files as Obj)[k];
    if (v !== undefined && typeof v !== 'string') throw new HeedError(`loadWordPiece: files[${JSON.stringify(k)}] must be the file's text, got ${typeof v}`);
    if (v !== undefined) text[k] = v;
  }
  const cfgFile = name(source, 'tokenizer_config.json');
  const cfgReader: Reader = new Reader(cfgFile);
  const cfg = text['tokenizer_config.json'] === undefined ? undefined : cfgReader.obj(parseStrictJson(text['tokenizer_config.json'], cfgFile), '(top level)');
  const maxLen = cfg === undefined ? undefined : modelMaxLength(cfg, cfgReader);
  if (text['tokenizer.json'] !== undefined) return { ...fromTokenizerJson(text['tokenizer.json'], name(source, 'tokenizer.json')), modelMaxLength: maxLen };
  if (text['vocab.txt'] !== undefined) return { ...fromVocab(text['vocab.txt'], cfg ?? {}, name(source, 'vocab.txt'), cfgReader), modelMaxLength: maxLen };
  throw new HeedError(`${source ? `${source}: ` : ''}no tokenizer: need tokenizer.json, or vocab.txt (with tokenizer_config.json)`);
}

function modelMaxLength(cfg: Obj, r: Reader): number | undefined {
  const v = cfg.model_max_length;
  if (v === undefined || v === null || (typeof v === 'number' && v >= NO_LIMIT)) return undefined;
  return r.uint(v, 'model_max_length', 2 ** 31 - 1);
}

function fromTokenizerJson(text: string, file: string): Omit<WordPieceConfig, 'modelMaxLength'> {
  const r: Reader = new Reader(file);
  const j = r.obj(parseStrictJson(text, file), '(top level)');

  const m = r.obj(j.model, 'model');
  const type = m.type ?? ('max_input_chars_per_word' in m ? 'WordPiece' : undefined);
  if (type !== 'WordPiece') r.fail('model.type', `${brief(type)} is not supported (WordPiece only: BERT-family tokenizers)`);
  const vocabObj = r.obj(m.vocab, 'model.vocab');
  const vocab = new Map<string, number>();
  for (const [t, id] of Object.entries(vocabObj)) vocab.set(t, r.uint(id, `model.vocab[${JSON.stringify(t)}]`));
  const unkToken = r.str(m.unk_token, 'model.unk_token');
  const unkId = vocab.get(unkToken);
  if (unkId === undefined) r.fail('model.unk_token', `${JSON.stringify(unkToken)} is not in model.vocab`);
  const model = {
    unk: { token: unkToken, id: unkId },
    prefix: r.str(m.continuing_subword_prefix, 'model.continuing_subword_prefix'),
    maxChars: r.uint(m.max_input_chars_per_word, 'model.max_input_chars_per_word'),
  };

  const added: AddedToken[] = [];
  const list = j.added_tokens ?? [];
  if (!Array.isArray(list)) r.fail('added_tokens', `must be an array, got ${brief(list)}`);
  list.forEach((v, i) => {
    const k = `added_tokens[${i}]`, o = r.obj(v, k);
    added.push({
      id: r.uint(o.id, `${k}.id`), content: r.str(o.content, `${k}.content`),
      singleWord: r.optBool(o, 'single_word', k, false), lstrip: r.optBool(o, 'lstrip', k, false), rstrip: r.optBool(o, 'rstrip', k, false),
      normalized: r.optBool(o, 'normalized', k, true), special: r.optBool(o, 'special', k, false),
    });
  });
  const idOf = (t: string): number | undefined => {
    let id: number | undefined;
    for (const a of added) if (a.content === t) id = a.id;
    return id ?? vocab.get(t);
  };

  let normalizer: BertNormalizerOptions | null = null;
  if (j.normalizer !== null && j.normalizer !== undefined) {
    const n = r.obj(j.normalizer, 'normalizer');
    if (n.type !== 'BertNormalizer') r.fail('normalizer.type', `${brief(n.type)} is not supported (BertNormalizer or null)`);
    normalizer = {
      cleanText: r.bool(n.clean_text, 'normalizer.clean_text'),
      handleChineseChars: r.bool(n.handle_chinese_chars, 'normalizer.handle_chinese_chars'),
      stripAccents: n.strip_accents === null || n.strip_accents === undefined ? null : r.bool(n.strip_accents, 'normalizer.strip_accents'),
      lowercase: r.bool(n.lowercase, 'normalizer.lowercase'),
    };
  }
  const pre = j.pre_tokenizer;
  if (!isObj(pre) || pre.type !== 'BertPreTokenizer') r.fail('pre_tokenizer.type', `${brief(isObj(pre) ? pre.type : pre)} is not supported (BertPreTokenizer only)`);

  const template = postProcessor(j.post_processor, r);

  let truncation: Truncation | null = null;
  if (j.truncation !== null && j.truncation !== undefined) {
    const t = r.obj(j.truncation, 'truncation');
    truncation = {
      maxLength: r.uint(t.max_length, 'truncation.max_length', 2 ** 31 - 1),
      strategy: ({ LongestFirst: 'longest_first', OnlyFirst: 'only_first', OnlySecond: 'only_second' } as const)[
        r.oneOf(t.strategy ?? 'LongestFirst', 'truncation.strategy', ['LongestFirst', 'OnlyFirst', 'OnlySecond'] as const)],
      direction: r.oneOf(t.direction ?? 'Right', 'truncation.direction', ['Right', 'Left'] as const) === 'Right' ? 'right' : 'left',
    };
    // stride only fills HF's `overflowing` list, which heed does not return; the encoding itself is the same.
  }

  let padding: Padding | null = null;
  if (j.padding !== null && j.padding !== undefined) {
    const p = r.obj(j.padding, 'padding');
    let length: number | 'longest';
    if (p.strategy === 'BatchLongest') length = 'longest';
    else if (isObj(p.strategy) && 'Fixed' in p.strategy) length = r.uint(p.strategy.Fixed, 'padding.strategy.Fixed', 2 ** 31 - 1);
    else r.fail('padding.strategy', `${brief(p.strategy)} is not supported ("BatchLongest" or {"Fixed": n})`);
    const multiple = p.pad_to_multiple_of === null || p.pad_to_multiple_of === undefined ? null : r.uint(p.pad_to_multiple_of, 'padding.pad_to_multiple_of', 2 ** 31 - 1);
    padding = {
      length, multipleOf: multiple === 0 ? null : multiple,
      direction: r.oneOf(p.direction ?? 'Right', 'padding.direction', ['Right', 'Left'] as const) === 'Right' ? 'right' : 'left',
      padId: r.uint(p.pad_id ?? 0, 'padding.pad_id'), padTypeId: r.uint(p.pad_type_id ?? 0, 'padding.pad_type_id'),
      padToken: r.str(p.pad_token ?? '[PAD]', 'padding.pad_token'),
    };
  }
  const padId = idOf('[PAD]');
  const defaultPad: Padding | null = padId === undefined ? null
    : { length: 'longest', multipleOf: null, direction: 'right', padId, padTypeId: 0, padToken: '[PAD]' };

  let decoder: Decoder = { kind: 'none' };
  if (j.decoder !== null && j.decoder !== undefined) {
    const d = r.obj(j.decoder, 'decoder');
    decoder = d.type === 'WordPiece'
      ? { kind: 'wordpiece', prefix: r.str(d.prefix ?? '##', 'decoder.prefix'), cleanup: r.optBool(d, 'cleanup', 'decoder', true) }
      : { kind: 'unsupported', type: String(d.type), where: file };
  }
  return { source: file, normalizer, vocab, model, added, template, truncation, padding, defaultPad, decoder };
}

function bertTemplate(cls: [string, number], sep: [string, number]): { single: Template; pair: Template } {
  const c = { kind: 'special' as const, ids: [cls[1]], tokens: [cls[0]] };
  const s = { kind: 'special' as const, ids: [sep[1]], tokens: [sep[0]] };
  return {
    single: [{ ...c, typeId: 0 }, { kind: 'seq', seq: 0, typeId: 0 }, { ...s, typeId: 0 }],
    pair: [{ ...c, typeId: 0 }, { kind: 'seq', seq: 0, typeId: 0 }, { ...s, typeId: 0 }, { kind: 'seq', seq: 1, typeId: 1 }, { ...s, typeId: 1 }],
  };
}
function postProcessor(pp: unknown, r: Reader): { single: Template; pair: Template } {
  if (pp === null || pp === undefined) {
    return { single: [{ kind: 'seq', seq: 0, typeId: 0 }], pair: [{ kind: 'seq', seq: 0, typeId: 0 }, { kind: 'seq', seq: 1, typeId: 1 }] };
  }
  const p = r.obj(pp, 'post_processor');
  if (p.type === 'BertProcessing') {
    const pairOf = (v: unknown, key: string): [string, number] => {
      if (!Array.isArray(v) || v.length !== 2) r.fail(key, `must be [token, id], got ${brief(v)}`);
      return [r.str(v[0], `${key}[0]`), r.uint(v[1], `${key}[1]`)];
    };
    return bertTemplate(pairOf(p.cls, 'post_processor.cls'), pairOf(p.sep, 'post_processor.sep'));
  }
  if (p.type !== 'TemplateProcessing') r.fail('post_processor.type', `${brief(p.type)} is not supported (TemplateProcessing, BertProcessing or null)`);
  const specials = r.obj(p.special_tokens ?? {}, 'post_processor.special_tokens');
  const piece = (v: unknown, key: string, pair: boolean): Template[number] => {
    const o = r.obj(v, key);
    if (isObj(o.Sequence)) {
      const id = r.oneOf(o.Sequence.id, `${key}.Sequence.id`, pair ? ['A', 'B'] as const : ['A'] as const);
      return { kind: 'seq', seq: id === 'A' ? 0 : 1, typeId: r.uint(o.Sequence.type_id, `${key}.Sequence.type_id`) };
    }
    if (isObj(o.SpecialToken)) {
      const id = r.str(o.SpecialToken.id, `${key}.SpecialToken.id`);
      const s = specials[id];
      if (!isObj(s)) r.fail(key, `names special token ${JSON.stringify(id)}, which post_processor.special_tokens does not define`);
      const k = `post_processor.special_tokens[${JSON.stringify(id)}]`;
      if (!Array.isArray(s.ids) || !Array.isArray(s.tokens) || s.ids.length !== s.tokens.length) r.fail(k, 'must have ids and tokens of the same length');
      return { kind: 'special', ids: s.ids.map((x, i) => r.uint(x, `${k}.ids[${i}]`)), tokens: s.tokens.map((x, i) => r.str(x, `${k}.tokens[${i}]`)), typeId: r.uint(o.SpecialToken.type_id, `${key}.SpecialToken.type_id`) };
    }
    return r.fail(key, `must be {"Sequence": ...} or {"SpecialToken": ...}, got ${brief(v)}`);
  };
  const tpl = (key: 'single' | 'pair'): Template => {
    const v = p[key];
    if (!Array.isArray(v)) r.fail(`post_processor.${key}`, `must be an array, got ${brief(v)}`);
    const t = v.map((x, i) => piece(x, `post_processor.${key}[${i}]`, key === 'pair'));
    const seqs = t.filter((x) => x.kind === 'seq').map((x) => (x as { seq: number }).seq).join(',');
    if (seqs !== (key === 'pair' ? '0,1' : '0')) r.fail(`post_processor.${key}`, `must hold ${key === 'pair' ? '$A then $B' : '$A'} once each`);
    return t;
  };
  return { single: tpl('single'), pair: tpl('pair') };
}

/** vocab.txt (one token a line, its line number its id) + tokenizer_config.json, as transformers'
 *  BertTokenizer builds them: BertNormalizer from do_lower_case / strip_accents /
 *  tokenize_chinese_chars, the five special tokens as added tokens, [CLS] A [SEP] (B [SEP]). */
function fromVocab(text: string, cfg: Obj, file: string, r: Reader): Omit<WordPieceConfig, 'modelMaxLength'> {
  // Python's text mode: \r\n, \r and \n all end a line; nothing else is stripped.
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const vocab = new Map<string, number>();
  lines.forEach((t, i) => vocab.set(t, i));
  const opt = (key: string, dflt: boolean): boolean => (cfg[key] === undefined ? dflt : r.bool(cfg[key], key));
  const normalizer: BertNormalizerOptions = {
    cleanText: true,
    handleChineseChars: opt('tokenize_chinese_chars', true),
    stripAccents: cfg.strip_accents === undefined || cfg.strip_accents === null ? null : r.bool(cfg.strip_accents, 'strip_accents'),
    lowercase: opt('do_lower_case', true),
  };
  const special = (key: string, dflt: string): [string, number] => {
    const v = cfg[key];
    const t = v === undefined || v === null ? dflt : isObj(v) ? r.str(v.content, `${key}.content`) : r.str(v, key);
    const id = vocab.get(t);
    if (id === undefined) throw new HeedError(`${file}: has no line ${JSON.stringify(t)} (the ${key} of ${r.file})`);
    return [t, id];
  };
  const [unk, sep, pad, cls, mask] = [special('unk_token', '[UNK]'), special('sep_token', '[SEP]'), special('pad_token', '[PAD]'),
    special('cls_token', '[CLS]'), special('mask_token', '[MASK]')];
  const added = [pad, unk, cls, sep, mask].map(([content, id]) => ({ id, content, singleWord: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return {
    source: file, normalizer, vocab, model: { unk: { token: unk[0], id: unk[1] }, prefix: '##', maxChars: 100 }, added,
    template: bertTemplate(cls, sep), truncation: null, padding: null,
    defaultPad: { length: 'longest', multipleOf: null, direction: 'right', padId: pad[1], padTypeId: 0, padToken: pad[0] },
    decoder: { kind: 'wordpiece', prefix: '##', cleanup: true },
  };
}
