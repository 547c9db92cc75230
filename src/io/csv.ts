// The labeled-column layer behind `heed train` / `heed eval`: a header plus `label` and `sequence`
// columns (renamable with --label-col / --text-col), read from a file (csv-file.ts) or a string
// (csv-parser.ts). Every failure is a one-line HeedError `${source}:${line}: problem`, or
// `${source}: problem` when no line applies.
import { HeedError } from '../errors.js';
import { readCsvFile } from './csv-file.js';
import { CsvParser, TSV_HINT, checkDelimiter, showText, type CsvRecord } from './csv-parser.js';

export interface LabeledTexts { header: string[]; labels: string[]; texts: string[]; lines: number[] }

export interface LabeledCsvOptions {
  labelCol?: string; textCol?: string;
  /** The field separator (default ','; 'tab' or '\t' for TSV). */
  delimiter?: string;
}

/** Finds a header column by name: exact match after trimming, else a unique case-insensitive one. */
function findColumn(header: string[], name: string, source: string, line: number, flag: string): number {
  const names = header.map((h) => h.trim());
  const want = name.trim();
  const pick = (hits: number[]): number => {
    if (hits.length > 1) {
      throw new HeedError(`${source}:${line}: the header has ${hits.length} columns named ${showText(want)} (columns ${hits.map((h) => h + 1).join(', ')}); rename them or choose one with ${flag}`);
    }
    return hits.length === 1 ? hits[0] : -1;
  };
  const exact = pick(names.flatMap((h, k) => (h === want ? [k] : [])));
  if (exact >= 0) return exact;
  const lower = want.toLowerCase();
  return pick(names.flatMap((h, k) => (h.toLowerCase() === lower ? [k] : [])));
}

/** Collects labeled rows record by record (shared by the file and string readers). A subclass
 *  may keep the rows its own way by overriding `row` (the CLI's trainer packs them). */
export class LabeledCollector {
  private header: string[] | null = null;
  private labelIdx = -1;
  private textIdx = -1;
  readonly labels: string[] = [];
  readonly texts: string[] = [];
  readonly lines: number[] = [];
  protected rows = 0;

  constructor(private readonly source: string, private readonly options: LabeledCsvOptions) {}

  add(rec: CsvRecord): void {
    const { source } = this;
    if (this.header === null) {
      const labelCol = this.options.labelCol ?? 'label', textCol = this.options.textCol ?? 'sequence';
      const header = rec.fields;
      const li = findColumn(header, labelCol, source, rec.line, '--label-col');
      const ti = findColumn(header, textCol, source, rec.line, '--text-col');
      if (li < 0 || ti < 0) {
        const missing = [li < 0 ? labelCol : null, ti < 0 ? textCol : null].filter((c): c is string => c !== null);
        const what = missing.length === 1 ? `no column ${showText(missing[0])}` : `no columns ${missing.map(showText).join(' and ')}`;
        const found = header.slice(0, 20).map((h) => showText(h.length > 40 ? `${h.slice(0, 40)}…` : h)).join(', ') +
          (header.length > 20 ? ` and ${header.length - 20} more` : '');
        const tabs = header.length === 1 && header[0].includes('\t') && checkDelimiter(this.options.delimiter) !== '\t';
        throw new HeedError(`${source}:${rec.line}: the header has ${what} (columns found: ${found}); ${tabs ? TSV_HINT : 'name the label and text columns with --label-col / --text-col'}`);
      }
      if (li === ti) {
        throw new HeedError(`${source}:${rec.line}: the label column and the text column are the same column ${showText(header[li])}; choose different ones with --label-col / --text-col`);
      }
      this.header = header;
      this.labelIdx = li;
      this.textIdx = ti;
      return;
    }
    const want = this.header.length, got = rec.fields.length;
    if (got !== want) {
      const more = got > want;
      throw new HeedError(`${source}:${rec.line}: too ${more ? 'many' : 'few'} fields: expected ${want} fields (as in the header), got ${got}${more ? ' (a field containing a comma must be enclosed in double quotes)' : ''}`);
    }
    this.rows++;
    this.row(rec.fields[this.labelIdx], rec.fields[this.textIdx], rec.line);
  }

  protected row(label: string, text: string, line: number): void {
    this.labels.push(label);
    this.texts.push(text);
    this.lines.push(line);
  }

  finish(): LabeledTexts {
    if (this.header === null) {
      const labelCol = this.options.labelCol ?? 'label', textCol = this.options.textCol ?? 'sequence';
      throw new HeedError(`${this.source}: empty file (expected a header row with columns ${showText(labelCol)} and ${showText(textCol)})`);
    }
    if (this.rows === 0) throw new HeedError(`${this.source}: no data rows (the file has a header but no rows after it)`);
    return { header: this.header, labels: this.labels, texts: this.texts, lines: this.lines };
  }
}

/**
 * Reads a labeled CSV: header row with columns named labelCol (default 'label') and textCol (default
 * 'sequence'), matched exactly after trimming surrounding whitespace of header names (case-sensitive
 * first, then case-insensitive if no exact match). Other columns are ignored; every row must have as
 * many fields as the header. Labels and texts are returned as-is (an empty one is allowed).
 */
export async function readLabeledCsv(path: string, options: LabeledCsvOptions = {}, c = new LabeledCollector(path, options)): Promise<LabeledTexts> {
  for await (const rec of readCsvFile(path, { delimiter: options.delimiter })) c.add(rec);
  return c.finish();
}

/** The same from a string already in memory (browsers, tests); `source` names it in errors. */
export function parseLabeledCsv(text: string, source: string, options: LabeledCsvOptions = {}): LabeledTexts {
  const c = new LabeledCollector(source, options);
  const p = new CsvParser(source, { delimiter: options.delimiter });
  for (const rec of p.push(text)) c.add(rec);
  for (const rec of p.end()) c.add(rec);
  return c.finish();
}
