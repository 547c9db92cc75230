// The rows of a training CSV held packed: each text as UTF-8 bytes in one buffer, each label as
// an index into the distinct labels, line numbers in an Int32Array. A string per row costs ~40
// bytes of JS heap besides its characters (a million short rows: ~75 MB live, and about twice
// that at the heap's peak); packed, the same rows are ~2 bytes of overhead and off the heap.
// Texts are decoded again when read, one at a time (they are read a few times per run).
import { LabeledCollector, readLabeledCsv, type LabeledCsvOptions } from '../io/csv.js';

/** Texts by row index, decoded on demand; iterable, so Tokenizer.build reads it as it reads an array. */
export class TextColumn implements Iterable<string> {
  readonly #decoder = new TextDecoder();
  constructor(readonly bytes: Uint8Array, readonly offsets: Int32Array) {}
  get length(): number { return this.offsets.length - 1; }
  at(i: number): string { return this.#decoder.decode(this.bytes.subarray(this.offsets[i], this.offsets[i + 1])); }
  *[Symbol.iterator](): Iterator<string> { for (let i = 0; i < this.length; i++) yield this.at(i); }
  /** The texts of rows `rows`, in that order. */
  pick(rows: Int32Array): TextColumn {
    const offsets = new Int32Array(rows.length + 1);
    for (let k = 0; k < rows.length; k++) offsets[k + 1] = offsets[k] + this.offsets[rows[k] + 1] - this.offsets[rows[k]];
    const bytes = new Uint8Array(offsets[rows.length]);
    for (let k = 0; k < rows.length; k++) bytes.set(this.bytes.subarray(this.offsets[rows[k]], this.offsets[rows[k] + 1]), offsets[k]);
    return new TextColumn(bytes, offsets);
  }
}

export interface PackedRows {
  /** Each distinct label as written, and each row's index into them. */
  labels: string[];
  labelOf: Int32Array;
  texts: TextColumn;
  /** The file line each row starts on. */
  lines: Int32Array;
}

/** Grows by doubling; `view()` is the filled part. */
class Grow<T extends Uint8Array | Int32Array> {
  n = 0;
  constructor(public a: T) {}
  reserve(extra: number): void {
    if (this.n + extra <= this.a.length) return;
    const g = new (this.a.constructor as new (n: number) => T)(Math.max(this.a.length * 2, this.n + extra));
    g.set(this.a);
    this.a = g;
  }
  push(v: number): void { this.reserve(1); this.a[this.n++] = v; }
  view(): T { return this.a.subarray(0, this.n) as T; }
}

class PackingCollector extends LabeledCollector {
  readonly #encoder = new TextEncoder();
  readonly #distinct = new Map<string, number>();
  readonly bytes = new Grow(new Uint8Array(1 << 16));
  readonly ends = new Grow(new Int32Array(1024));
  readonly labelOf = new Grow(new Int32Array(1024));
  readonly lineOf = new Grow(new Int32Array(1024));

  protected override row(label: string, text: string, line: number): void {
    let id = this.#distinct.get(label);
    if (id === undefined) this.#distinct.set(label, (id = this.#distinct.size));
    this.labelOf.push(id);
    this.lineOf.push(line);
    this.bytes.reserve(text.length * 3); // UTF-8 takes at most 3 bytes per UTF-16 unit
    this.bytes.n += this.#encoder.encodeInto(text, this.bytes.a.subarray(this.bytes.n)).written;
    this.ends.push(this.bytes.n);
  }

  packed(): PackedRows {
    const offsets = new Int32Array(this.ends.n + 1);
    offsets.set(this.ends.view(), 1);
    return { labels: [...this.#distinct.keys()], labelOf: this.labelOf.view().slice(), texts: new TextColumn(this.bytes.view().slice(), offsets), lines: this.lineOf.view().slice() };
  }
}

/** readLabeledCsv's rows (same checks, same errors), packed. */
export async function readPackedRows(path: string, options: LabeledCsvOptions = {}): Promise<PackedRows> {
  const c = new PackingCollector(path, options);
  await readLabeledCsv(path, options, c);
  return c.packed();
}
