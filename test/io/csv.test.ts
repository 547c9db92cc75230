// The labeled-column layer: header matching, label and text columns, one-line HeedErrors of the
// form `file:line: problem`, from a file and from a string.
import { describe, expect, it } from 'vitest';
import { parseLabeledCsv, readLabeledCsv } from '../../src/io/csv.js';
import { errorOf, asyncErrorOf, expectMessage, tmpFile, useTmpDir } from './csv-util.js';

const tmpDir = useTmpDir();

describe('labeled CSV', () => {
  it('reads labels, texts, header and the line of each row', () => {
    const r = parseLabeledCsv('label,sequence\npos,good movie\nneg,"bad, really\nbad"\n\nneu,"ok"\n', 'd.csv');
    expect(r).toEqual({
      header: ['label', 'sequence'],
      labels: ['pos', 'neg', 'neu'],
      texts: ['good movie', 'bad, really\nbad', 'ok'],
      lines: [2, 3, 6],
    });
  });

  it('columns in any order, extra columns ignored, header names trimmed', () => {
    const r = parseLabeledCsv('id, sequence ,extra,"label "\r\n1,hello,x,A\r\n2,"world",y,B', 'd.csv');
    expect(r.labels).toEqual(['A', 'B']);
    expect(r.texts).toEqual(['hello', 'world']);
    expect(r.header).toEqual(['id', ' sequence ', 'extra', 'label ']);
  });

  it('matches case-insensitively only when no column matches exactly', () => {
    expect(parseLabeledCsv('Label,SEQUENCE\nA,t\n', 'd.csv').labels).toEqual(['A']);
    const r = parseLabeledCsv('Label,label,sequence\nX,y,z\n', 'd.csv');
    expect(r.labels).toEqual(['y']);
    expectMessage(errorOf(() => parseLabeledCsv('Label,LABEL,sequence\nX,y,z\n', 'd.csv')), 'd.csv:1: ', '2 columns named "label"', '--label-col');
  });

  it('--label-col / --text-col rename the columns', () => {
    const r = parseLabeledCsv('text,y\nhello,1\nbye,0\n', 'd.csv', { labelCol: 'y', textCol: 'text' });
    expect(r).toMatchObject({ labels: ['1', '0'], texts: ['hello', 'bye'] });
    expectMessage(errorOf(() => parseLabeledCsv('a,b\n1,2\n', 'd.csv', { labelCol: 'a', textCol: 'A' })), 'd.csv:1: ', 'same column');
  });

  it('labels and texts are returned as-is; empty ones are allowed', () => {
    const r = parseLabeledCsv('label,sequence\n pos , some text \n,\n"",""\n', 'd.csv');
    expect(r.labels).toEqual([' pos ', '', '']);
    expect(r.texts).toEqual([' some text ', '', '']);
  });

  it('a header without the named column says which is missing and lists the columns found', () => {
    const e = errorOf(() => parseLabeledCsv('label,text\nA,b\n', 'data.csv'));
    expectMessage(e, 'data.csv:1: ', 'no column "sequence"', 'columns found: "label", "text"', '--label-col', '--text-col');
    expect(e.message).not.toContain('"label" and');
    const both = errorOf(() => parseLabeledCsv('\n\nid,text\n1,b\n', 'data.csv', { labelCol: 'y' }));
    expectMessage(both, 'data.csv:3: ', 'no columns "y" and "sequence"', '"id", "text"');
  });

  it('an empty file has no header', () => {
    for (const text of ['', '\n\n', '\uFEFF', '\r\n']) {
      expectMessage(errorOf(() => parseLabeledCsv(text, 'empty.csv')), 'empty.csv: empty file', '"label"', '"sequence"');
    }
  });

  it('a header but no data rows', () => {
    for (const text of ['label,sequence', 'label,sequence\n', 'label,sequence\r\n\r\n\n']) {
      expectMessage(errorOf(() => parseLabeledCsv(text, 'h.csv')), 'h.csv: no data rows');
    }
  });

  it('a row with too many or too few fields names its line', () => {
    const many = errorOf(() => parseLabeledCsv('label,sequence\nA,"x\ny"\nB,hello, world\n', 'data.csv'));
    expectMessage(many, 'data.csv:4: ', 'too many fields', 'expected 2 fields', 'got 3');
    const few = errorOf(() => parseLabeledCsv('id,label,sequence\n1,A,x\n\n2,B\n', 'data.csv'));
    expectMessage(few, 'data.csv:4: ', 'too few fields', 'expected 3 fields', 'got 2');
  });

  it('parse errors name the source', () => {
    expectMessage(errorOf(() => parseLabeledCsv('label,sequence\nA,"open\n', 'mem')), 'mem:2: ', 'unterminated');
  });

  it('readLabeledCsv reads a file the same way', async () => {
    const text = '\uFEFFsequence,label\r\n"a, b",1\r\n"multi\nline",0\r\nplain,1';
    const path = tmpFile(text);
    expect(await readLabeledCsv(path)).toEqual(parseLabeledCsv(text, path));
    expect((await readLabeledCsv(path)).lines).toEqual([2, 3, 5]);
    expectMessage(await asyncErrorOf(readLabeledCsv(tmpFile(''))), `${tmpDir()}`, 'empty file');
    const few = tmpFile('label,sequence\nA\n');
    expectMessage(await asyncErrorOf(readLabeledCsv(few)), `${few}:2: `, 'too few fields');
    const renamed = tmpFile('y,text\n1,t\n');
    expect(await readLabeledCsv(renamed, { labelCol: 'y', textCol: 'text' })).toMatchObject({ labels: ['1'], texts: ['t'] });
  });
});
