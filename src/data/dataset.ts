// Labels to class ids, a seeded stratified train/validation split, the packed dataset training
// runs on, and padded batches in a seeded order per epoch. All randomness comes from Rng, so the
// same seed gives the same split and the same batches on every platform.
import { HeedError } from '../errors.js';
import { Rng } from '../nn/rng.js';

/** The label of a token that has none (PyTorch's ignore_index): it adds no loss and is not
 *  counted in accuracy. */
export const IGNORE = -100;

/**
 * What the rows are trained to predict, by kind: one class id per row ('class'), one class id per
 * token ('token': packed by the same offsets as the tokens; IGNORE, -100, where a token has no
 * label, such as the second piece of a word), or real values per row ('value': `outputs` per row,
 * row-major). In a batch, 'class' labels are [B], 'token' labels [B, T] (IGNORE at padding) and
 * 'value' labels [B, outputs].
 */
export type Targets = { kind: 'class'; labels: Int32Array } | { kind: 'token'; labels: Int32Array } | { kind: 'value'; labels: Float32Array };

/**
 * A dataset as three flat arrays, however many rows: row i is tokens[offsets[i] .. offsets[i+1])
 * (no padding) and its target is in `targets`. A million rows are a handful of allocations rather
 * than a million array objects (an Int32Array costs ~100 bytes before its first id), and the
 * buffers move to a worker by transfer, with nothing to rebuild there.
 */
export interface PackedDataset { tokens: Int32Array; offsets: Int32Array; targets: Targets }

export interface Batch {
  /** Row-major [B, T] token ids, right-padded with 0. */
  tokens: Int32Array;
  shape: [number, number];
  /** The targets of the batch's rows, of the dataset's kind ('class': labels [B]). */
  targets: Targets;
  /** The dataset row each batch row came from. */
  indices: Int32Array;
}

/** Rows in a packed dataset. */
export const rowCount = (d: PackedDataset): number => d.offsets.length - 1;

/** Packs ragged sequences and their class ids (copied: the caller's arrays stay theirs). */
export function packSequences(seqs: readonly ArrayLike<number>[], labels: ArrayLike<number>): PackedDataset {
  const offsets = new Int32Array(seqs.length + 1);
  for (let i = 0; i < seqs.length; i++) offsets[i + 1] = offsets[i] + seqs[i].length;
  const tokens = new Int32Array(offsets[seqs.length]);
  for (let i = 0; i < seqs.length; i++) tokens.set(seqs[i], offsets[i]);
  return { tokens, offsets, targets: { kind: 'class', labels: Int32Array.from(labels) } };
}

/** Packs ragged sequences and their per-token labels (IGNORE where a token has none), copied. */
export function packTagged(seqs: readonly ArrayLike<number>[], tags: readonly ArrayLike<number>[]): PackedDataset {
  const out = new PackedBuilder(seqs.length, 'token', seqs.reduce((n, s) => n + s.length, 0));
  for (let i = 0; i < seqs.length; i++) out.push(seqs[i], tags[i]);
  return out.finish();
}

/** Int32 storage that grows by doubling. */
class Growing {
  a: Int32Array;
  constructor(n: number) { this.a = new Int32Array(Math.max(64, n)); }
  reserve(used: number, more: number): void {
    if (used + more <= this.a.length) return;
    const grown = new Int32Array(Math.max(this.a.length * 2, used + more));
    grown.set(this.a.subarray(0, used));
    this.a = grown;
  }
  trimmed(n: number): Int32Array { return this.a.length === n ? this.a : this.a.slice(0, n); }
}

/** Builds a PackedDataset one row at a time (rows encoded straight from text), growing its token
 *  buffer (and, for per-token targets, its label buffer) by doubling; `finish` trims to size. */
export class PackedBuilder {
  readonly #tokens: Growing;
  readonly #tags: Growing | null;
  #offsets: Int32Array;
  #labels: Int32Array;
  #values: Float32Array;
  #rows = 0;

  /** `outputs`: the values per row of a 'value' dataset. */
  constructor(rows: number, readonly kind: Targets['kind'] = 'class', tokensHint = rows * 8, readonly outputs = 1) {
    this.#tokens = new Growing(tokensHint);
    this.#tags = kind === 'token' ? new Growing(tokensHint) : null;
    this.#offsets = new Int32Array(rows + 1);
    this.#labels = new Int32Array(kind === 'class' ? rows : 0);
    this.#values = new Float32Array(kind === 'value' ? rows * outputs : 0);
  }

  /** Row `ids` with its target: a class id ('class'), one label per id ('token'), or the row's
   *  values ('value'; a number when there is one output). */
  push(ids: ArrayLike<number>, target: number | ArrayLike<number>): void {
    const row = this.#rows;
    if (row + 1 >= this.#offsets.length) throw new HeedError(`PackedBuilder: more than the ${this.#offsets.length - 1} rows it was made for`);
    const used = this.#offsets[row];
    if (this.#tags) {
      if (typeof target === 'number' || target.length !== ids.length) {
        throw new HeedError(`PackedBuilder: row ${row} has ${ids.length} tokens but ${typeof target === 'number' ? 'one class id' : `${target.length} labels`} (one per token)`);
      }
      this.#tags.reserve(used, ids.length);
      this.#tags.a.set(target, used);
    } else if (this.kind === 'value') {
      const C = this.outputs, n = typeof target === 'number' ? 1 : target.length;
      if (n !== C) throw new HeedError(`PackedBuilder: row ${row} has ${n} values, not ${C}`);
      if (typeof target === 'number') this.#values[row] = target; else this.#values.set(target, row * C);
    } else {
      if (typeof target !== 'number') throw new HeedError(`PackedBuilder: row ${row} needs one class id, got an array`);
      this.#labels[row] = target;
    }
    this.#tokens.reserve(used, ids.length);
    this.#tokens.a.set(ids, used);
    this.#offsets[++this.#rows] = used + ids.length;
  }

  finish(): PackedDataset {
    if (this.#rows !== this.#offsets.length - 1) throw new HeedError(`PackedBuilder: ${this.#rows} rows pushed, ${this.#offsets.length - 1} expected`);
    const n = this.#offsets[this.#rows], tokens = this.#tokens.trimmed(n);
    const targets: Targets = this.#tags ? { kind: 'token', labels: this.#tags.trimmed(n) }
      : this.kind === 'value' ? { kind: 'value', labels: this.#values } : { kind: 'class', labels: this.#labels };
    return { tokens, offsets: this.#offsets, targets };
  }
}

/**
 * The [B, T] batch of packed rows `rows`: T = min(maxLen, longest row in the batch), at least 1;
 * longer rows keep their first T ids; the rest is right-padded with 0. With `keep` (a byte per
 * token, dropMask's), only the kept tokens of each row count. Indices are trusted (the loop's).
 */
export function packedBatch(d: PackedDataset, rows: Int32Array, maxLen: number, keep: Uint8Array | null = null): Batch {
  const { tokens: src, offsets } = d, B = rows.length;
  let longest = 0;
  for (let b = 0; b < B; b++) {
    let n = 0;
    if (keep) for (let k = offsets[rows[b]]; k < offsets[rows[b] + 1]; k++) n += keep[k];
    else n = offsets[rows[b] + 1] - offsets[rows[b]];
    if (n > longest) longest = n;
  }
  const T = Math.max(1, Math.min(maxLen, longest));
  const tokens = new Int32Array(B * T), kind = d.targets.kind, perToken = kind === 'token', ys = d.targets.labels;
  // per row: 1 class id, or C values (C = the dataset's values per row)
  const C = kind === 'value' ? ys.length / Math.max(1, rowCount(d)) : 1;
  const labels = perToken ? new Int32Array(B * T).fill(IGNORE) : kind === 'value' ? new Float32Array(B * C) : new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const r = rows[b], from = offsets[r], to = offsets[r + 1];
    if (keep) {
      for (let j = from, t = 0; j < to && t < T; j++) {
        if (!keep[j]) continue;
        if (perToken) labels[b * T + t] = ys[j];
        tokens[b * T + t++] = src[j];
      }
    } else {
      const end = Math.min(to, from + T);
      tokens.set(src.subarray(from, end), b * T);
      if (perToken) labels.set(ys.subarray(from, end), b * T);
    }
    if (!perToken) labels.set(ys.subarray(r * C, (r + 1) * C), b * C);
  }
  return { tokens, shape: [B, T], targets: { kind, labels } as Targets, indices: Int32Array.from(rows) };
}

/** The rows of `d` in dataset order, `batchSize` at a time (evaluation's batches). */
export function* packedInOrder(d: PackedDataset, batchSize: number, maxLen: number): Generator<Batch> {
  const n = rowCount(d), rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  for (let start = 0; start < n; start += batchSize) yield packedBatch(d, rows.subarray(start, Math.min(n, start + batchSize)), maxLen);
}

const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function checkPositiveInt(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new HeedError(`${where} must be a positive integer, got ${describe(v)}`);
  return v;
}

function checkSeed(where: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new HeedError(`${where} must be a finite number, got ${describe(v)}`);
  return v;
}

function isIndexArray(v: unknown): v is ArrayLike<number> {
  return v instanceof Int32Array || Array.isArray(v) || ArrayBuffer.isView(v);
}

/**
 * Maps label strings to class ids. Classes are sorted numerically when every label is a decimal
 * number ("2" before "10"; equal values in code-unit order), else in code-unit order; `ids[i]` is
 * the class of row i. Throws HeedError if there are fewer than 2 distinct labels ("a single label
 * class: <label>") or a label is not a non-empty string (naming the row index).
 */
export function indexLabels(labels: string[]): { classes: string[]; ids: Int32Array } {
  if (!Array.isArray(labels)) throw new HeedError(`indexLabels: labels must be an array of strings, got ${describe(labels)}`);
  if (labels.length === 0) throw new HeedError('indexLabels: no labels (the data has no rows)');
  const distinct = new Set<string>();
  for (let i = 0; i < labels.length; i++) {
    const l: unknown = labels[i];
    if (typeof l !== 'string') throw new HeedError(`indexLabels: the label of row ${i} must be a string, got ${describe(l)}`);
    if (l === '') throw new HeedError(`indexLabels: the label of row ${i} is an empty string`);
    distinct.add(l);
  }
  const classes = [...distinct];
  if (classes.length < 2) throw new HeedError(`indexLabels: a single label class: ${classes[0]}`);
  const byUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  if (classes.every((c) => NUMERIC.test(c))) classes.sort((a, b) => {
    const d = Number(a) - Number(b); // NaN for Infinity - Infinity ("1e999"): falls through to code units
    return (d < 0 ? -1 : d > 0 ? 1 : 0) || byUnits(a, b);
  });
  else classes.sort(byUnits);
  const idOf = new Map(classes.map((c, i) => [c, i]));
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) ids[i] = idOf.get(labels[i])!;
  return { classes, ids };
}

/**
 * Seeded stratified split. For each class (in class-id order, one Rng(seed) throughout) its row
 * indices are shuffled and the first round(valFraction * count) go to validation: at least 1 when
 * the class has >= 2 rows and valFraction > 0, at most count - 1 (every class keeps a training row);
 * none when valFraction is 0 or the class has a single row. Returns sorted, disjoint index arrays
 * that together cover every row. Deterministic for a seed.
 */
export function stratifiedSplit(ids: Int32Array, valFraction: number, seed: number): { train: Int32Array; val: Int32Array } {
  if (!isIndexArray(ids)) throw new HeedError(`stratifiedSplit: ids must be an Int32Array of class ids, got ${describe(ids)}`);
  if (typeof valFraction !== 'number' || !Number.isFinite(valFraction) || valFraction < 0 || valFraction >= 1) {
    throw new HeedError(`stratifiedSplit: valFraction must be a number in [0, 1), got ${describe(valFraction)}`);
  }
  checkSeed('stratifiedSplit: seed', seed);
  const rows = new Map<number, number[]>();
  for (let i = 0; i < ids.length; i++) {
    const c = ids[i];
    if (!Number.isInteger(c) || c < 0) throw new HeedError(`stratifiedSplit: ids[${i}] must be a non-negative integer class id, got ${describe(c)}`);
    let r = rows.get(c);
    if (r === undefined) rows.set(c, (r = []));
    r.push(i);
  }
  const rng = new Rng(seed);
  const isVal = new Uint8Array(ids.length);
  let nVal = 0;
  for (const c of [...rows.keys()].sort((a, b) => a - b)) {
    const r = rows.get(c)!;
    rng.shuffle(r);
    let k = 0;
    if (valFraction > 0 && r.length >= 2) k = Math.min(r.length - 1, Math.max(1, Math.round(valFraction * r.length)));
    for (let j = 0; j < k; j++) isVal[r[j]] = 1;
    nVal += k;
  }
  const train = new Int32Array(ids.length - nVal), val = new Int32Array(nVal);
  for (let i = 0, t = 0, v = 0; i < ids.length; i++) {
    if (isVal[i]) val[v++] = i;
    else train[t++] = i;
  }
  return { train, val };
}

/**
 * Pads the sequences `seqs[indices[b]]` into one [B, T] batch: T = min(maxLen, longest sequence in
 * the batch), at least 1; longer sequences keep their first T ids; the rest is right-padded with 0.
 * An empty sequence stays all padding (the models pool it to zeros). `labels[indices[b]]` is row b's
 * label.
 */
export function makeBatch(seqs: Int32Array[], labels: Int32Array, indices: ArrayLike<number>, maxLen: number): Batch {
  if (!Array.isArray(seqs)) throw new HeedError(`makeBatch: seqs must be an array of Int32Array, got ${describe(seqs)}`);
  if (!isIndexArray(labels) || labels.length !== seqs.length) {
    throw new HeedError(`makeBatch: labels must hold one class id per sequence (${seqs.length}), got ${isIndexArray(labels) ? labels.length : describe(labels)}`);
  }
  if (!isIndexArray(indices)) throw new HeedError(`makeBatch: indices must be an array of row indices, got ${describe(indices)}`);
  checkPositiveInt('makeBatch: maxLen', maxLen);
  const B = indices.length;
  if (B === 0) throw new HeedError('makeBatch: indices is empty (a batch needs at least one row)');
  let longest = 0;
  for (let b = 0; b < B; b++) {
    const i = indices[b];
    if (!Number.isInteger(i) || i < 0 || i >= seqs.length) {
      throw new HeedError(`makeBatch: indices[${b}] = ${describe(i)} is not a row index in [0, ${seqs.length})`);
    }
    const s = seqs[i];
    if (!(s instanceof Int32Array)) throw new HeedError(`makeBatch: seqs[${i}] must be an Int32Array, got ${describe(s)}`);
    if (s.length > longest) longest = s.length;
  }
  const T = Math.max(1, Math.min(maxLen, longest));
  const tokens = new Int32Array(B * T);
  const out = new Int32Array(B), rows = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const i = indices[b], s = seqs[i];
    tokens.set(s.length > T ? s.subarray(0, T) : s, b * T);
    out[b] = labels[i];
    rows[b] = i;
  }
  return { tokens, shape: [B, T], targets: { kind: 'class', labels: out }, indices: rows };
}

/** The Rng seed of an epoch's order: integer arithmetic on (seed, epoch), distinct from Rng(seed) itself. */
export function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(Math.trunc(seed) >>> 0, 1000003) + Math.imul(epoch + 1, 0x9e3779b1)) >>> 0;
}

function checkBatching(fn: string, seqs: Int32Array[], labels: Int32Array, indices: Int32Array, batchSize: number, maxLen: number): void {
  if (!Array.isArray(seqs)) throw new HeedError(`${fn}: seqs must be an array of Int32Array, got ${describe(seqs)}`);
  if (!isIndexArray(labels) || labels.length !== seqs.length) {
    throw new HeedError(`${fn}: labels must hold one class id per sequence (${seqs.length}), got ${isIndexArray(labels) ? labels.length : describe(labels)}`);
  }
  if (!isIndexArray(indices)) throw new HeedError(`${fn}: indices must be an Int32Array of row indices, got ${describe(indices)}`);
  checkPositiveInt(`${fn}: batchSize`, batchSize);
  checkPositiveInt(`${fn}: maxLen`, maxLen);
}

function batchesInOrder(seqs: Int32Array[], labels: Int32Array, order: Int32Array, batchSize: number, maxLen: number): Batch[] {
  const out: Batch[] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    out.push(makeBatch(seqs, labels, order.subarray(start, Math.min(order.length, start + batchSize)), maxLen));
  }
  return out;
}

/**
 * One epoch of training batches: the rows `indices` shuffled by new Rng(epochSeed(seed, epoch)),
 * cut into batches of `batchSize` (the last partial batch kept). The same (seed, epoch) gives the
 * same batches; every index appears exactly once per epoch.
 */
export function epochBatches(seqs: Int32Array[], labels: Int32Array, indices: Int32Array, batchSize: number, maxLen: number, seed: number, epoch: number): Batch[] {
  checkBatching('epochBatches', seqs, labels, indices, batchSize, maxLen);
  checkSeed('epochBatches: seed', seed);
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) {
    throw new HeedError(`epochBatches: epoch must be a non-negative integer, got ${describe(epoch)}`);
  }
  const order = Int32Array.from(indices);
  new Rng(epochSeed(seed, epoch)).shuffle(order);
  return batchesInOrder(seqs, labels, order, batchSize, maxLen);
}

/** Evaluation batches: the rows `indices` in the given order, batches of `batchSize` (last partial kept). */
export function evalBatches(seqs: Int32Array[], labels: Int32Array, indices: Int32Array, batchSize: number, maxLen: number): Batch[] {
  checkBatching('evalBatches', seqs, labels, indices, batchSize, maxLen);
  return batchesInOrder(seqs, labels, Int32Array.from(indices), batchSize, maxLen);
}
