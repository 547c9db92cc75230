// The training loop builds each epoch's batches one at a time, with token dropout as a byte mask,
// instead of materialising the dropped-out copy of the data and every batch up front (issue 11,
// item 10: memory). The batches must be exactly those of epochBatches over dropTokens, so that
// trained weights do not change.
import { describe, expect, it } from 'vitest';
import { epochBatches, epochSeed, packedBatch, packSequences } from '../../src/data/dataset.js';
import { Rng } from '../../src/nn/rng.js';
import { dropMask, dropTokens } from '../../src/train/loop.js';

describe('packedBatch over dropMask', () => {
  it.each([[0.25, 4, 6], [0.6, 5, 3], [0.9, 7, 16]])('gives the batches of epochBatches(dropTokens(...)) (p %f, batch %i, maxLen %i)', (p, batchSize, maxLen) => {
    const rng = new Rng(5);
    const seqs = Array.from({ length: 33 }, (_, i) => Int32Array.from({ length: i % 7 === 0 ? 0 : 1 + rng.int(12) }, () => 2 + rng.int(50)));
    const labels = Int32Array.from(seqs.keys(), (i) => i % 3);
    const all = Int32Array.from(seqs.keys());
    const packed = packSequences(seqs, labels);
    const keep = new Uint8Array(packed.tokens.length);
    for (const epoch of [0, 1, 2]) {
      const seed = epochSeed(9, epoch) ^ 0x5bd1e995;
      const want = epochBatches(dropTokens(seqs, p, seed), labels, all, batchSize, maxLen, 9, epoch);
      dropMask(packed, p, seed, keep);
      const order = Int32Array.from(all);
      new Rng(epochSeed(9, epoch)).shuffle(order);
      const got = want.map((_, i) => packedBatch(packed, order.subarray(i * batchSize, (i + 1) * batchSize), maxLen, keep));
      expect(got).toEqual(want);
    }
  });
});
