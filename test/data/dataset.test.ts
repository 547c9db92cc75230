import { describe, expect, it } from 'vitest';
import { HeedError } from '../../src/errors.js';
import { epochBatches, evalBatches, indexLabels, makeBatch, packedBatch, PackedBuilder, packTagged, stratifiedSplit, type Batch } from '../../src/data/dataset.js';

function expectHeed(fn: () => unknown, pattern: RegExp): void {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(HeedError);
  expect((err as Error).message).toMatch(pattern);
}

const range = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

describe('indexLabels', () => {
  it('sorts numeric labels numerically', () => {
    const { classes, ids } = indexLabels(['10', '2', '1', '2', '10']);
    expect(classes).toEqual(['1', '2', '10']);
    expect([...ids]).toEqual([2, 1, 0, 1, 2]);
    expect(indexLabels(['-1', '1', '0.5', '-1']).classes).toEqual(['-1', '0.5', '1']);
  });
  it('sorts other labels by code units (not locale)', () => {
    const { classes, ids } = indexLabels(['pos', 'neg', 'Neutral', '10', 'pos', 'é']);
    expect(classes).toEqual(['10', 'Neutral', 'neg', 'pos', 'é']);
    expect([...ids]).toEqual([3, 2, 1, 0, 3, 4]);
    expect(ids).toBeInstanceOf(Int32Array);
  });
  it('keeps numerically equal but different strings apart, deterministically', () => {
    expect(indexLabels(['1.0', '1', '0']).classes).toEqual(['0', '1', '1.0']);
  });
  it('rejects a single class, naming it', () => {
    expectHeed(() => indexLabels(['pos', 'pos', 'pos']), /a single label class: pos/);
    expectHeed(() => indexLabels([]), /no labels/);
  });
  it('rejects an empty label, naming the row', () => {
    expectHeed(() => indexLabels(['a', 'b', '', 'a']), /row 2 is an empty string/);
    expectHeed(() => indexLabels(['a', 3 as never]), /row 1 must be a string/);
    expectHeed(() => indexLabels('ab' as never), /labels must be an array/);
  });
});

describe('stratifiedSplit', () => {
  // 3 classes of 99, 40 and 10 rows, interleaved
  const ids = new Int32Array(149);
  for (let i = 0; i < 149; i++) ids[i] = i < 120 ? i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : i < 30 ? 2 : 0 : 0;
  const counts = [0, 0, 0];
  for (const c of ids) counts[c]++;

  it('gives each class its share of validation rows', () => {
    const { train, val } = stratifiedSplit(ids, 0.2, 7);
    const inVal = [0, 0, 0];
    for (const i of val) inVal[ids[i]]++;
    for (let c = 0; c < 3; c++) expect(inVal[c]).toBe(Math.round(0.2 * counts[c]));
    expect(train.length + val.length).toBe(ids.length);
  });
  it('is disjoint, complete and sorted', () => {
    const { train, val } = stratifiedSplit(ids, 0.3, 1);
    const seen = new Uint8Array(ids.length);
    for (const i of [...train, ...val]) seen[i]++;
    expect([...seen].every((n) => n === 1)).toBe(true);
    for (const a of [train, val]) for (let k = 1; k < a.length; k++) expect(a[k]).toBeGreaterThan(a[k - 1]);
    expect(train).toBeInstanceOf(Int32Array);
    expect(val).toBeInstanceOf(Int32Array);
  });
  it('is deterministic for a seed, and different seeds differ', () => {
    const a = stratifiedSplit(ids, 0.25, 42), b = stratifiedSplit(ids, 0.25, 42), c = stratifiedSplit(ids, 0.25, 43);
    expect([...a.val]).toEqual([...b.val]);
    expect([...a.train]).toEqual([...b.train]);
    expect([...a.val]).not.toEqual([...c.val]);
    expect(a.val.length).toBe(c.val.length);
  });
  it('puts at least one row of a class with >= 2 rows in validation, and keeps one in training', () => {
    const small = Int32Array.from([0, 0, 1, 1, 1, 2]);
    const { train, val } = stratifiedSplit(small, 0.01, 3);
    const v = [...val].map((i) => small[i]).sort();
    expect(v).toEqual([0, 1]); // class 2 has a single row: training only
    expect(train.length).toBe(4);
    const big = stratifiedSplit(Int32Array.from([0, 0, 1, 1]), 0.9, 3);
    expect(big.val.length).toBe(2);
    expect([...big.train].map((i) => [0, 0, 1, 1][i]).sort()).toEqual([0, 1]);
  });
  it('puts nothing in validation when valFraction is 0', () => {
    const { train, val } = stratifiedSplit(ids, 0, 5);
    expect(val.length).toBe(0);
    expect([...train]).toEqual([...range(ids.length)]);
  });
  it('validates its arguments', () => {
    expectHeed(() => stratifiedSplit(ids, 1, 0), /valFraction/);
    expectHeed(() => stratifiedSplit(ids, -0.1, 0), /valFraction/);
    expectHeed(() => stratifiedSplit(ids, Number.NaN, 0), /valFraction/);
    expectHeed(() => stratifiedSplit(ids, 0.2, Number.POSITIVE_INFINITY), /seed/);
    expectHeed(() => stratifiedSplit(Int32Array.from([0, -1]), 0.2, 0), /ids\[1\]/);
    expectHeed(() => stratifiedSplit('x' as never, 0.2, 0), /ids must be/);
  });
});

describe('makeBatch', () => {
  const seqs = [Int32Array.from([5, 6, 7]), Int32Array.from([8]), new Int32Array(0), Int32Array.from([2, 3, 4, 5, 6, 7])];
  const labels = Int32Array.from([1, 0, 2, 1]);
  it('right-pads with 0 to the longest sequence', () => {
    const b = makeBatch(seqs, labels, [1, 0, 2], 10);
    expect(b.shape).toEqual([3, 3]);
    expect([...b.tokens]).toEqual([8, 0, 0, 5, 6, 7, 0, 0, 0]);
    expect(b.targets).toEqual({ kind: 'class', labels: Int32Array.from([0, 1, 2]) });
    expect([...b.indices]).toEqual([1, 0, 2]);
  });
  it('truncates to maxLen keeping the first ids', () => {
    const b = makeBatch(seqs, labels, Int32Array.from([3, 0]), 4);
    expect(b.shape).toEqual([2, 4]);
    expect([...b.tokens]).toEqual([2, 3, 4, 5, 5, 6, 7, 0]);
  });
  it('keeps an all-empty batch as padding with T = 1', () => {
    const b = makeBatch(seqs, labels, [2, 2], 8);
    expect(b.shape).toEqual([2, 1]);
    expect([...b.tokens]).toEqual([0, 0]);
  });
  it('validates its arguments', () => {
    expectHeed(() => makeBatch(seqs, labels, [0], 0), /maxLen/);
    expectHeed(() => makeBatch(seqs, labels, [0], 1.5), /maxLen/);
    expectHeed(() => makeBatch(seqs, labels, [4], 3), /indices\[0\] = 4/);
    expectHeed(() => makeBatch(seqs, labels, [], 3), /indices is empty/);
    expectHeed(() => makeBatch(seqs, labels.subarray(1), [0], 3), /labels/);
    expectHeed(() => makeBatch([[1, 2] as never], Int32Array.from([0]), [0], 3), /seqs\[0\]/);
  });
});

describe('epochBatches and evalBatches', () => {
  const N = 53;
  // row i holds i+1 tokens, all equal to 100 + i, so a batch row identifies its source row
  const seqs = Array.from({ length: N }, (_, i) => new Int32Array(i % 9 + 1).fill(100 + i));
  const labels = Int32Array.from({ length: N }, (_, i) => i % 3);
  const rows = range(N).filter((i) => i % 5 !== 0); // a subset, as a train split would be

  const flat = (bs: Batch[]): number[] => bs.flatMap((b) => [...b.indices]);
  const checkAligned = (bs: Batch[], maxLen: number): void => {
    for (const b of bs) {
      const [B, T] = b.shape;
      expect(b.tokens.length).toBe(B * T);
      expect(b.targets.labels.length).toBe(B);
      expect(T).toBe(Math.max(1, Math.min(maxLen, Math.max(...[...b.indices].map((i) => seqs[i].length)))));
      for (let r = 0; r < B; r++) {
        const i = b.indices[r];
        expect(b.targets.labels[r]).toBe(labels[i]);
        const n = Math.min(T, seqs[i].length);
        for (let t = 0; t < T; t++) expect(b.tokens[r * T + t]).toBe(t < n ? 100 + i : 0);
      }
    }
  };

  it('visits every index exactly once per epoch, keeping the last partial batch', () => {
    for (const epoch of [0, 1, 2]) {
      const bs = epochBatches(seqs, labels, rows, 8, 6, 11, epoch);
      expect(bs.map((b) => b.shape[0])).toEqual([8, 8, 8, 8, 8, 2]);
      expect(flat(bs).sort((a, b) => a - b)).toEqual([...rows]);
      checkAligned(bs, 6);
    }
  });
  it('is deterministic per (seed, epoch); epochs and seeds give different orders', () => {
    const a = flat(epochBatches(seqs, labels, rows, 8, 6, 11, 0));
    expect(flat(epochBatches(seqs, labels, rows, 8, 6, 11, 0))).toEqual(a);
    expect(flat(epochBatches(seqs, labels, rows, 8, 6, 11, 1))).not.toEqual(a);
    expect(flat(epochBatches(seqs, labels, rows, 8, 6, 12, 0))).not.toEqual(a);
    expect(a).not.toEqual([...rows]); // actually shuffled
    const x = epochBatches(seqs, labels, rows, 8, 6, 11, 3), y = epochBatches(seqs, labels, rows, 8, 6, 11, 3);
    expect(x).toEqual(y);
  });
  it('does not modify the index array', () => {
    const copy = Int32Array.from(rows);
    epochBatches(seqs, labels, rows, 4, 6, 1, 0);
    expect([...rows]).toEqual([...copy]);
  });
  it('evalBatches keeps the given order', () => {
    const bs = evalBatches(seqs, labels, rows, 10, 3);
    expect(bs.map((b) => b.shape[0])).toEqual([10, 10, 10, 10, 2]);
    expect(flat(bs)).toEqual([...rows]);
    checkAligned(bs, 3);
    expect(evalBatches(seqs, labels, new Int32Array(0), 4, 3)).toEqual([]);
  });
  it('validates batchSize, maxLen, seed and epoch, naming them', () => {
    expectHeed(() => epochBatches(seqs, labels, rows, 0, 6, 1, 0), /batchSize/);
    expectHeed(() => epochBatches(seqs, labels, rows, 2.5, 6, 1, 0), /batchSize/);
    expectHeed(() => evalBatches(seqs, labels, rows, -1, 6), /batchSize/);
    expectHeed(() => epochBatches(seqs, labels, rows, 4, 0, 1, 0), /maxLen/);
    expectHeed(() => evalBatches(seqs, labels, rows, 4, Number.NaN), /maxLen/);
    expectHeed(() => epochBatches(seqs, labels, rows, 4, 6, Number.NaN, 0), /seed/);
    expectHeed(() => epochBatches(seqs, labels, rows, 4, 6, 1, -1), /epoch/);
    expectHeed(() => evalBatches(seqs, labels.subarray(1), rows, 4, 6), /labels/);
    expectHeed(() => evalBatches(seqs, labels, Int32Array.from([N]), 4, 6), /indices\[0\]/);
  });
});

describe('per-token targets in packed data', () => {
  const d = packTagged([[5, 6, 7], [8], [9, 4]], [[0, -100, 2], [1], [2, 0]]);

  it('packs labels like the tokens and batches them [B, T], -100 at padding and past maxLen', () => {
    expect(d.targets).toEqual({ kind: 'token', labels: Int32Array.of(0, -100, 2, 1, 2, 0) });
    const b = packedBatch(d, Int32Array.of(1, 0, 2), 2);
    expect(b.shape).toEqual([3, 2]);
    expect(Array.from(b.tokens)).toEqual([8, 0, 5, 6, 9, 4]);
    expect(b.targets.kind).toBe('token');
    expect(Array.from(b.targets.labels)).toEqual([1, -100, 0, -100, 2, 0]);
  });

  it('a token left out by dropout takes its label with it', () => {
    const keep = Uint8Array.of(1, 1, 0, 1, 0, 1);
    const b = packedBatch(d, Int32Array.of(0, 2), 8, keep);
    expect(Array.from(b.tokens)).toEqual([5, 6, 4, 0]);
    expect(Array.from(b.targets.labels)).toEqual([0, -100, 0, -100]);
  });

  it('the builder checks that each row has one label per token', () => {
    const out = new PackedBuilder(2, 'token');
    expect(() => out.push([1, 2], [0])).toThrow('PackedBuilder: row 0 has 2 tokens but 1 labels (one per token)');
    expect(() => out.push([1, 2], 0)).toThrow('PackedBuilder: row 0 has 2 tokens but one class id (one per token)');
    expect(() => new PackedBuilder(1).push([1], [0])).toThrow('PackedBuilder: row 0 needs one class id, got an array');
  });
});
