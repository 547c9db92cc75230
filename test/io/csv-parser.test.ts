// The RFC 4180 parser: edge cases, line numbers, malformed input as one-line HeedErrors
// `source:line: problem`, and chunk boundaries anywhere in the text.
import { describe, expect, it } from 'vitest';
import { HeedError } from '../../src/errors.js';
import { CsvParser, type CsvRecord } from '../../src/io/csv-parser.js';
import { rng } from '../util.js';
import { parse, fieldsOf, errorOf, expectMessage } from './csv-util.js';

describe('CsvParser: RFC 4180', () => {
  it('splits simple records and numbers their lines', () => {
    expect(parse('a,b,c\n1,2,3\n')).toEqual([
      { fields: ['a', 'b', 'c'], line: 1 },
      { fields: ['1', '2', '3'], line: 2 },
    ]);
  });

  it('quoted fields hold commas, newlines and doubled quotes', () => {
    expect(fieldsOf('"a,b","line1\nline2","say ""hi""",""""\n')).toEqual([['a,b', 'line1\nline2', 'say "hi"', '"']]);
    expect(fieldsOf('"",x,""\n')).toEqual([['', 'x', '']]);
    expect(fieldsOf('"a\r\nb","c\rd"\n')).toEqual([['a\r\nb', 'c\rd']]); // line ends inside quotes are kept as-is
  });

  it('empty fields', () => {
    expect(fieldsOf(',,\n,\n')).toEqual([['', '', ''], ['', '']]);
    expect(fieldsOf('a,')).toEqual([['a', '']]);
  });

  it('CRLF, LF and lone CR line ends, mixed', () => {
    expect(parse('a,b\r\nc,d\r\n')).toEqual([{ fields: ['a', 'b'], line: 1 }, { fields: ['c', 'd'], line: 2 }]);
    expect(parse('a\rb\rc')).toEqual([{ fields: ['a'], line: 1 }, { fields: ['b'], line: 2 }, { fields: ['c'], line: 3 }]);
    expect(parse('a\r\nb\nc\rd')).toEqual([
      { fields: ['a'], line: 1 }, { fields: ['b'], line: 2 }, { fields: ['c'], line: 3 }, { fields: ['d'], line: 4 },
    ]);
  });

  it('strips a UTF-8 BOM at the start only', () => {
    expect(parse('\uFEFFlabel,sequence\nx,y\n').map((r) => r.fields)).toEqual([['label', 'sequence'], ['x', 'y']]);
    expect(fieldsOf('a,\uFEFFb\n')).toEqual([['a', '\uFEFFb']]);
    // the BOM alone in the first chunk, after empty chunks
    const p = new CsvParser('src');
    expect([...p.push(''), ...p.push('\uFEFF'), ...p.push('\uFEFFx'), ...p.end()]).toEqual([{ fields: ['\uFEFFx'], line: 1 }]);
  });

  it('a final line without newline', () => {
    expect(fieldsOf('a,b\nc,d')).toEqual([['a', 'b'], ['c', 'd']]);
    expect(fieldsOf('a,"q"')).toEqual([['a', 'q']]);
    expect(fieldsOf('a,"multi\nline"')).toEqual([['a', 'multi\nline']]);
  });

  it('skips blank lines but keeps counting; a line of spaces is a one-field record', () => {
    expect(parse('\n\na\n\n\r\n\rb\n   \n\n')).toEqual([
      { fields: ['a'], line: 3 }, { fields: ['b'], line: 7 }, { fields: ['   '], line: 8 },
    ]);
    expect(parse('')).toEqual([]);
    expect(parse('\r\n\n\r')).toEqual([]);
    expect(parse('\uFEFF')).toEqual([]);
  });

  it('preserves leading and trailing spaces of unquoted fields', () => {
    expect(fieldsOf(' a , b \n')).toEqual([[' a ', ' b ']]);
  });

  it('unicode: surrogate pairs, CJK, combining marks', () => {
    expect(fieldsOf('😀,"日本\n語",e\u0301\n€,"🎉,🎉"')).toEqual([['😀', '日本\n語', 'e\u0301'], ['€', '🎉,🎉']]);
  });

  it('numbers the lines of records after multi-line quoted fields', () => {
    const text = 'h1,h2\n"a\nb\r\nc\rd",x\nnext,1\r\n"",""\n\n"two\n\nblank","x\n"\nlast,2';
    expect(parse(text)).toEqual([
      { fields: ['h1', 'h2'], line: 1 },
      { fields: ['a\nb\r\nc\rd', 'x'], line: 2 },
      { fields: ['next', '1'], line: 6 },
      { fields: ['', ''], line: 7 },
      { fields: ['two\n\nblank', 'x\n'], line: 9 },
      { fields: ['last', '2'], line: 13 },
    ]);
  });

  it('end() is idempotent and push() after end() is an error', () => {
    const p = new CsvParser('src');
    p.push('a');
    expect(p.end()).toEqual([{ fields: ['a'], line: 1 }]);
    expect(p.end()).toEqual([]);
    expectMessage(errorOf(() => p.push('b')), 'src: ', 'after end()');
  });
});

describe('CsvParser: malformed input', () => {
  it('an unterminated quoted field names the line where the quote opened', () => {
    expectMessage(errorOf(() => parse('a,b\nc,"open\nmore\nstuff', 0, 'data.csv')), 'data.csv:2: ', 'unterminated quoted field');
    // the second field opens its quote on line 2, after a closed multi-line field
    expectMessage(errorOf(() => parse('h\n"ok\nfine","bad\nzzz\n', 0, 'data.csv')), 'data.csv:3: ', 'unterminated');
    expectMessage(errorOf(() => parse('"', 0, 'd.csv')), 'd.csv:1: ', 'unterminated');
  });

  it('a stray quote inside an unquoted field', () => {
    expectMessage(errorOf(() => parse('a,b\nab"c,d\n', 0, 'data.csv')), 'data.csv:2: ', 'stray quote', 'unquoted field', 'RFC 4180');
    expectMessage(errorOf(() => parse('x,"a\nb"\nc,d"\n', 0, 'data.csv')), 'data.csv:3: ', 'stray quote');
  });

  it('characters after a closing quote other than a delimiter or line end', () => {
    expectMessage(errorOf(() => parse('a\n"ab"c\n', 0, 'data.csv')), 'data.csv:2: ', 'unexpected character "c"', 'after the closing quote', '""');
    expectMessage(errorOf(() => parse('x,"a\nb"z\n', 0, 'data.csv')), 'data.csv:2: ', '"z"');
    expectMessage(errorOf(() => parse('"ab" ,c\n', 0, 'data.csv')), 'data.csv:1: ', 'unexpected character " "');
    expectMessage(errorOf(() => parse('"ab"\t', 0, 'data.csv')), 'data.csv:1: ', '"\\t"');
  });

  it('a single huge unterminated quote ends in an error quickly', () => {
    const big = 'label,sequence\nx,"' + 'abc,def\n'.repeat(2_000_000); // 16 MB, 2M lines
    const t0 = performance.now();
    expectMessage(errorOf(() => parse(big, 1 << 16, 'big.csv')), 'big.csv:2: ', 'unterminated');
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('is linear: a million short quoted fields in one chunk', () => {
    const text = '"ab",c,"d""e"\n'.repeat(1_000_000);
    const t0 = performance.now();
    const p = new CsvParser('src');
    let n = p.push(text).length;
    n += p.end().length;
    expect(n).toBe(1_000_000);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

/** A char-by-char reference parser (slow, obviously correct) for comparison. */
function reference(input: string): { records: CsvRecord[] } | { error: string } {
  const t = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const records: CsvRecord[] = [];
  let line = 1, state = 'rs', field = '', fields: string[] = [], recLine = 0, quoteLine = 0;
  const endRecord = () => { fields.push(field); field = ''; records.push({ fields, line: recLine }); fields = []; state = 'rs'; };
  for (let k = 0; k < t.length;) {
    const c = t[k];
    const br = c === '\r' || (c === '\n' && t[k - 1] !== '\r');
    let consume = true;
    if (state === 'rs') {
      if (c !== '\r' && c !== '\n') { recLine = line; state = 'fs'; consume = false; }
    } else if (state === 'fs') {
      if (c === '"') { quoteLine = line; state = 'q'; } else { state = 'u'; consume = false; }
    } else if (state === 'u') {
      if (c === '"') return { error: `${line}: stray` };
      if (c === ',') { fields.push(field); field = ''; state = 'fs'; } else if (c === '\r' || c === '\n') { endRecord(); consume = false; } else field += c;
    } else if (state === 'q') {
      if (c === '"') state = 'qq'; else field += c;
    } else if (state === 'qq') {
      if (c === '"') { field += '"'; state = 'q'; } else if (c === ',') { fields.push(field); field = ''; state = 'fs'; } else if (c === '\r' || c === '\n') { endRecord(); consume = false; } else return { error: `${line}: unexpected` };
    }
    if (consume) { if (br) line++; k++; }
  }
  if (state === 'q') return { error: `${quoteLine}: unterminated` };
  if (state !== 'rs') endRecord();
  return { records };
}
function outcome(text: string, size: number): { records: CsvRecord[] } | { error: string } {
  try {
    return { records: parse(text, size) };
  } catch (e) {
    expect(e).toBeInstanceOf(HeedError);
    const m = /^src:(\d+): (stray|unexpected|unterminated)/.exec((e as Error).message);
    expect(m, (e as Error).message).not.toBeNull();
    return { error: `${m![1]}: ${m![2]}` };
  }
}

describe('CsvParser: chunk boundaries anywhere', () => {
  const tricky = '\uFEFFlabel,sequence\r\n' +
    'pos,"a, b ""quoted""\r\nsecond line"\r\n' +
    '\r\n' +
    'neg,😀🎉 日本語\r' +
    '"x\ry",""\n' +
    '"",\n' +
    '   \n' +
    ',"""\n"""\n' +
    'last,"no newline 😀"';

  it('chunks of every size 1..7 give the same records as one chunk', () => {
    const whole = parse(tricky);
    expect(whole.length).toBe(8);
    expect(whole[1]).toEqual({ fields: ['pos', 'a, b "quoted"\r\nsecond line'], line: 2 });
    expect(whole[2]).toEqual({ fields: ['neg', '😀🎉 日本語'], line: 5 });
    expect(whole[7]).toEqual({ fields: ['last', 'no newline 😀'], line: 12 });
    for (let size = 1; size <= 7; size++) expect(parse(tricky, size), `chunk size ${size}`).toEqual(whole);
    expect(reference(tricky)).toEqual({ records: whole });
  });

  it('errors are the same whatever the chunking', () => {
    for (const bad of ['a,b\r\nc,"open\r\nmore', 'a\r\n"ab"c', 'x,"a\r\nb"\r\nc,d"e', '\r\n\r\nab"']) {
      const want = errorOf(() => parse(bad)).message;
      for (let size = 1; size <= 7; size++) expect(errorOf(() => parse(bad, size)).message, `chunk size ${size}`).toBe(want);
    }
  });

  it('random inputs: every chunking agrees with a char-by-char reference parser', () => {
    const u = rng(42);
    const alphabet = ['a', 'b', ' ', ',', ',', '"', '"', '""', '\r', '\n', '\r\n', '😀', '\uFEFF'];
    for (let trial = 0; trial < 400; trial++) {
      let text = u() < 0.2 ? '\uFEFF' : '';
      const len = Math.floor(u() * 30);
      for (let k = 0; k < len; k++) text += alphabet[Math.floor(u() * alphabet.length)];
      const want = reference(text);
      for (const size of [0, 1, 2, 3, 5]) expect(outcome(text, size), JSON.stringify(text)).toEqual(want);
    }
  });
});
