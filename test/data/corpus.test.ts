// Text as language-model data (src/data/corpus.ts): lines framed by the marker, windows of a
// running text, decoding back to text, and the input it refuses.
import { describe, expect, it } from 'vitest';
import { corpusLines, corpusStream, decodeIds, lineExamples, MARKER, unknownTargets, windowExamples, windowStarts } from '../../src/data/corpus.js';
import { IGNORE } from '../../src/data/dataset.js';
import { HeedError } from '../../src/errors.js';
import { Tokenizer } from '../../src/data/tokenizer.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('corpusLines', () => {
  it('keeps non-blank lines, trimmed, whatever the line ends', () => {
    expect(corpusLines(bytes('emma\r\n\n  olivia \rava\n\n'), 'f.txt')).toEqual(['emma', 'olivia', 'ava']);
  });

  it('refuses empty, NUL-holding and mostly invalid UTF-8 input, naming the file', () => {
    expect(() => corpusLines(bytes(''), 'e.txt')).toThrow(/e\.txt: is empty/);
    expect(() => corpusLines(bytes(' \n\t\n'), 'e.txt')).toThrow(HeedError);
    expect(() => corpusLines(Uint8Array.from([97, 0, 98]), 'b.bin')).toThrow(/b\.bin: holds NUL bytes/);
    expect(() => corpusLines(Uint8Array.from({ length: 300 }, (_, i) => 0x80 + (i % 60)), 'x.bin')).toThrow(/x\.bin: is not UTF-8 text/);
    // One stray byte in a long text is a typo, not a binary file.
    expect(corpusLines(Uint8Array.from([...bytes('a'.repeat(200)), 0xff, 10, 98]), 'ok.txt')).toHaveLength(2);
  });
});

describe('line mode', () => {
  const lines = ['ab', 'ba', 'abc'], t = Tokenizer.build(lines, { type: 'char' });

  it('frames each line: input [marker, ids], target [ids, marker]; the begin marker is never a target', () => {
    const { data, cut } = lineExamples(t, lines, [2, 0], 16);
    expect(cut).toBe(0);
    const [a, b, c] = ['a', 'b', 'c'].map((x) => t.idOf(x));
    expect(Array.from(data.offsets)).toEqual([0, 4, 7]);
    expect(Array.from(data.tokens)).toEqual([MARKER, a, b, c, MARKER, a, b]);
    expect(Array.from(data.targets.labels)).toEqual([a, b, c, MARKER, a, b, MARKER]);
    expect(unknownTargets(data)).toEqual({ targets: 7, unknown: 0 });
  });

  it('cuts a line longer than maxLen to its first maxLen inputs (no end marker then)', () => {
    const { data, cut } = lineExamples(t, lines, [2], 3);
    expect(cut).toBe(1);
    expect(Array.from(data.targets.labels)).toEqual(['a', 'b', 'c'].map((x) => t.idOf(x)));
  });

  it('decodes ids back to text, stopping at the marker; a word tokenizer joins with spaces', () => {
    expect(decodeIds(t, [t.idOf('b'), t.idOf('a'), MARKER, t.idOf('c')])).toBe('ba');
    const w = Tokenizer.build(['new york', 'new delhi'], { type: 'word', minFreq: 1 });
    expect(decodeIds(w, [w.idOf('new'), w.idOf('york'), 1])).toBe('new york <unk>');
  });
});

describe('window mode', () => {
  const lines = ['abc', 'de'], t = Tokenizer.build(lines, { type: 'char' });

  it('one stream with a marker per line break, cut into windows that predict every id but the first once', () => {
    const stream = corpusStream(t, lines);
    expect(stream.length).toBe(7);
    expect(decodeIds(t, stream, 'windows')).toBe('abc\nde\n');
    const starts = windowStarts(stream.length, 4);
    expect(Array.from(starts)).toEqual([0, 4]);
    const d = windowExamples(stream, 4, [0, 1]);
    expect(Array.from(d.offsets)).toEqual([0, 4, 6]);
    expect(Array.from(d.tokens)).toEqual(Array.from(stream.subarray(0, 6)));
    expect(Array.from(d.targets.labels)).toEqual(Array.from(stream.subarray(1, 7)));
    expect(Array.from(d.targets.labels)).not.toContain(IGNORE);
    expect(windowStarts(1, 4).length).toBe(0);
  });
});
