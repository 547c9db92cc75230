// The CLI trainer reads its CSV packed (texts as UTF-8 in one buffer, labels as indices into the
// distinct labels): the rows, lines and errors are readLabeledCsv's.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPackedRows } from '../../src/cli/texts.js';
import { readLabeledCsv } from '../../src/io/csv.js';

const dir = mkdtempSync(join(tmpdir(), 'heed-texts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };

describe('readPackedRows', () => {
  it('gives readLabeledCsv\'s labels, texts and lines', async () => {
    const p = file('a.csv', 'id,label,sequence\n1,pos,"a lovely, day"\n2, neg ,"multi\nline ünïcödé 😀"\n3,pos,\n4,x,"say ""hi"""\n');
    const want = await readLabeledCsv(p), got = await readPackedRows(p);
    expect(Array.from(got.labelOf, (k) => got.labels[k])).toEqual(want.labels);
    expect([...got.texts]).toEqual(want.texts);
    expect(Array.from(got.texts.pick(Int32Array.from([3, 1])))).toEqual([want.texts[3], want.texts[1]]);
    expect(got.texts.length).toBe(4);
    expect([...got.lines]).toEqual(want.lines);
    expect(got.labels).toEqual(['pos', ' neg ', 'x']); // each distinct label once
  });
  it('fails as readLabeledCsv does', async () => {
    for (const [name, text] of [['h.csv', 'label,sequence\n'], ['e.csv', ''], ['c.csv', 'label,text\na,b\n'], ['f.csv', 'label,sequence\na,b,c\n']]) {
      const p = file(name, text);
      const want = await readLabeledCsv(p).then(() => 'ok', (e: Error) => e.message);
      expect(want).not.toBe('ok');
      await expect(readPackedRows(p)).rejects.toThrow(want);
    }
  });
});
