// Attention rollout (src/classifier/explain.ts): each layer's head-averaged weights mixed half and
// half with the identity (the residual path), rows renormalised, multiplied through the layers,
// then read where the head reads — the mean over positions, or the first position ([CLS]).
import { describe, expect, it } from 'vitest';
import { rollout } from '../../src/classifier/explain.js';

describe('rollout', () => {
  const A1 = Float32Array.from([1, 0, 0.5, 0.5]);   // one head, T = 2: row 1 looks at both
  it('reads one layer by the mean of its rows, or by its first row', () => {
    // M = ½A + ½I = [[1, 0], [0.25, 0.75]]
    expect(rollout([A1], 1, 2)).toEqual([0.625, 0.375]);
    expect(rollout([A1], 1, 2, true)).toEqual([1, 0]);
  });

  it('averages the heads and multiplies later layers after earlier ones (R = M2·M1)', () => {
    const twoHeads = Float32Array.from([1, 0, 0, 1, 0, 1, 1, 0]);   // their mean is all 0.5
    const A2 = Float32Array.from([0, 1, 0, 1, 0, 1, 0, 1]);            // both heads: everything looks at position 1
    // M1 (heads averaged) = ½·0.5 + ½I = [[0.75, 0.25], [0.25, 0.75]]; M2 = [[0.5, 0.5], [0, 1]]
    // R = M2·M1 = [[0.5, 0.5], [0.25, 0.75]]
    const w = rollout([twoHeads, A2], 2, 2, true);
    expect(w[0]).toBeCloseTo(0.5, 12);
    expect(w[1]).toBeCloseTo(0.5, 12);
    const mean = rollout([twoHeads, A2], 2, 2);
    expect(mean[0]).toBeCloseTo(0.375, 12);
    expect(mean[1]).toBeCloseTo(0.625, 12);
  });

  it('refuses layers of the wrong size rather than reading past them', () => {
    expect(() => rollout([A1, Float32Array.from([0, 1, 0, 1])], 2, 2)).toThrow('rollout: layer 0 has 4 weights; H·T·T = 2·2·2 = 8');
  });
});
