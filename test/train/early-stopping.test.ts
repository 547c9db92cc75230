// Early stopping has one home, the training loop's earlyStopping (the CLI's --resume reads the
// state it leaves in a checkpoint). Replays of validation-loss histories through it.
import { describe, expect, it } from 'vitest';
import { earlyStopping, freshEarlyState } from '../../src/train/loop.js';

/** Feeds the losses of epochs 1, 2, … as the loop does; where it stopped and the best epoch. */
function replay(losses: number[], patience: number): { stopped: number | null; best: number | null } {
  const early = freshEarlyState();
  for (let i = 0; i < losses.length; i++) {
    if (earlyStopping(early, i + 1, losses[i], patience) === 'stop') return { stopped: i + 1, best: early.bestEpoch };
  }
  return { stopped: null, best: early.bestEpoch };
}

describe('earlyStopping', () => {
  it('keeps the epoch of the lowest validation loss and stops after `patience` epochs without a better one', () => {
    expect(replay([3, 2, 1], 1)).toEqual({ stopped: null, best: 3 });
    expect(replay([3, 2, 2.5, 1], 1)).toEqual({ stopped: 3, best: 2 });
    expect(replay([3, 2, 2.5, 1, 0.5], 2)).toEqual({ stopped: null, best: 5 });
    expect(replay([3, 2, 2, 2], 2)).toEqual({ stopped: 4, best: 2 }); // equal is no better
  });
  it("says 'best' exactly when the caller must keep the weights, and counts epochs since", () => {
    const e = freshEarlyState();
    expect(earlyStopping(e, 1, 5, 3)).toBe('best');
    expect(earlyStopping(e, 2, 6, 3)).toBe('go on');
    expect(e).toMatchObject({ best: 5, bestEpoch: 1, sinceBest: 1 });
    expect(earlyStopping(e, 3, 4, 3)).toBe('best');
    expect(e).toMatchObject({ best: 4, bestEpoch: 3, sinceBest: 0 });
  });
});
