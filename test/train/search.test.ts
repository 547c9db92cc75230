// The settings search behind `heed train`'s defaults: seeded and repeatable, within its time
// budget, and skipped when --tokenizer or --model is given; plus the CLI's warnings for data a
// setting cannot learn from.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { indexLabels, stratifiedSplit } from '../../src/data/dataset.js';
import { init } from '../../src/index.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { defaultCandidates, describeCandidate, searchBudget, searchSettings, type SearchCandidate } from '../../src/train/search.js';
import { heed, removeTempDirs, tempDir } from '../cli/util.js';

afterAll(removeTempDirs);

/** One made-up word a row; the class is in its ending, so whole words (each seen once) tell nothing. */
function oneWordRows(n: number): { labels: string[]; texts: string[] } {
  const stems = ['bar', 'kel', 'mon', 'tis', 'pra', 'dun', 'lev', 'sor', 'gim', 'fal'], ends = { a: ['ina', 'ara'], o: ['ombo', 'oro'] };
  const labels: string[] = [], texts: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 2 ? 'a' : 'o';
    labels.push(c);
    texts.push(stems[i % 10] + stems[(i * 7 + 3) % 10] + String.fromCharCode(97 + (i % 26)) + ends[c][(i >> 1) % 2]);
  }
  return { labels, texts };
}

const CANDIDATES: SearchCandidate[] = [
  { name: 'word', tokenizer: { type: 'word' }, model: 'pooling', weightDecay: 2, tokenDropout: 0 },
  { name: 'ngram', tokenizer: { type: 'ngram', charMin: 2, charMax: 4, wordNgrams: 2, buckets: 2048 }, model: 'pooling', weightDecay: 0.5, tokenDropout: 0 },
];

describe('searchSettings', () => {
  const { labels, texts } = oneWordRows(240);
  const { ids } = indexLabels(labels);
  const split = stratifiedSplit(ids, 0.25, 0);
  const base = { texts, labels: ids, classes: 2, train: split.train, val: split.val, seed: 3, epochs: 6, dModel: 16, worker: false };

  it('is seeded: the same data and candidates give the same table and choice; sub-words win on one-word rows', async () => {
    const h = await init({ backend: 'wasm' });
    const runs = [];
    for (let k = 0; k < 2; k++) {
      const r = await searchSettings(h, { ...base, candidates: CANDIDATES, budgetSeconds: 600 });
      runs.push({ trials: r.trials.map((t) => [t.candidate.name, t.valAccuracy, t.valLoss, t.bestEpoch, t.epochs, t.status, t.unknownShare]), best: r.best,
        weights: r.fit.model.stateDict()['embed.weight'].data.slice() });
      r.fit.model.dispose();
    }
    expect(runs[1].trials).toEqual(runs[0].trials);
    expect(runs[1].best).toBe(runs[0].best);
    expect(runs[1].weights).toEqual(runs[0].weights);
    const [word, ngram] = runs[0].trials;
    expect(word[6]).toBe(1);                    // every word is seen once: all '<unk>'
    expect(word[1]).toBeLessThanOrEqual(0.6);   // about chance
    expect(ngram[1]).toBeGreaterThan(0.9);      // the endings carry the class
    expect(runs[0].best).toBe(1);
  });

  it('respects its time budget: the first candidate trains to the end, the rest are skipped', async () => {
    const h = await init({ backend: 'wasm' });
    const r = await searchSettings(h, { ...base, epochs: 30, patience: 0, candidates: [CANDIDATES[1], CANDIDATES[0], CANDIDATES[1]], budgetSeconds: 0.05 });
    expect(r.trials.map((t) => t.status)).toEqual(['done', 'skipped', 'skipped']);
    expect(r.trials[0].epochs).toBe(30);          // never cut short: a model after an epoch or two can sit at chance
    expect(Number.isNaN(r.trials[1].valAccuracy)).toBe(true);
    expect(r.best).toBe(0);
    r.fit.model.dispose();
  });

  it('cuts a later candidate short mid-run when told to stop, and scores it on the epochs it finished', async () => {
    const h = await init({ backend: 'wasm' });
    let done = 0, calls = 0;
    const r = await searchSettings(h, { ...base, epochs: 30, patience: 0, candidates: [CANDIDATES[1], { ...CANDIDATES[1], name: 'again' }, CANDIDATES[0]], budgetSeconds: 600,
      onTrial: () => { done++; }, shouldStop: () => done >= 1 && ++calls > 40 });
    expect(r.trials.map((t) => t.status)).toEqual(['done', 'cut short', 'skipped']);
    expect(r.trials[1].epochs).toBeLessThan(30);
    r.fit.model.dispose();
  });

  it('checks its options', async () => {
    const h = await init({ backend: 'js' });
    await expect(searchSettings(h, { ...base, val: new Int32Array(0) })).rejects.toThrow(/validation split is empty/);
    await expect(searchSettings(h, { ...base, candidates: [] })).rejects.toThrow(/candidates must be a non-empty array/);
    await expect(searchSettings(h, { ...base, budgetSeconds: -1 })).rejects.toThrow(/budgetSeconds must be a positive number, got -1/);
  });

  it('has a budget that grows with the data and stops at three minutes', () => {
    expect(searchBudget(1000)).toBeLessThan(searchBudget(5000));
    expect(searchBudget(1e6)).toBe(180);
    expect(defaultCandidates().length).toBeGreaterThan(1);
  });

  it('names its default candidates by what they set, each differently', () => {
    const names = defaultCandidates().map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const c of defaultCandidates()) expect(c.name).toBe(describeCandidate(c));
    expect(describeCandidate({ tokenizer: { type: 'ngram', charMin: 1, charMax: 4, wordNgrams: 2 }, model: 'pooling', pool: 'mean', weightDecay: 0.1, tokenDropout: 0 }))
      .toBe('ngram 1-4 + bigrams, mean pooling, wd 0.1, dropout 0');
    expect(describeCandidate({ tokenizer: { type: 'word' }, model: 'pooling', weightDecay: 2, tokenDropout: 0.25 })).toBe('word, attention pooling, wd 2, dropout 0.25');
    expect(describeCandidate({ tokenizer: { type: 'ngram', charMin: 2, charMax: 4, wordNgrams: 2 }, model: 'pooling', pool: 'mean', dModel: 32, weightDecay: 0.5, tokenDropout: 0.1 }))
      .toBe('ngram 2-4 + bigrams, mean pooling d 32, wd 0.5, dropout 0.1');
  });

  it('trains a candidate\'s pooling and width and returns the winner\'s model options (what a refit must use)', async () => {
    const h = await init({ backend: 'wasm' });
    const mean: SearchCandidate = { ...CANDIDATES[1], name: 'mean', pool: 'mean', dModel: 8 };
    const r = await searchSettings(h, { ...base, candidates: [CANDIDATES[0], mean], budgetSeconds: 600 });
    expect(r.best).toBe(1);
    expect(r.modelOptions).toEqual({ kind: 'pooling', vocabSize: r.tokenizer.vocabSize, dModel: 8, classes: 2, seed: 3, pool: 'mean' });
    expect(r.fit.model.config).toEqual({ kind: 'pooling', vocabSize: r.tokenizer.vocabSize, dModel: 8, classes: 2, seed: 3, pool: 'mean' });
    expect(Object.keys(r.fit.model.stateDict())).toEqual(['embed.weight', 'head.weight', 'head.bias']);
    r.fit.model.dispose();
  });
});

describe('heed train: search, warnings and summary', () => {
  const csv = () => { const { labels, texts } = oneWordRows(200); return 'label,sequence\n' + labels.map((l, i) => `${l},${texts[i]}`).join('\n') + '\n'; };

  it('without --tokenizer and --model, tries settings, prints their table, keeps the best and records it in the model file', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), csv());
    const r = await heed(['train', 'data.csv', '--epochs', '4'], d);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/trying \d settings on the validation split \(time budget \d+(\.\d)? s\)/);
    expect(r.stderr).toMatch(/^settings +val acc +epochs +time/m);
    expect(r.stderr).toMatch(/^ngram .*kept$/m);
    expect(r.stderr).toMatch(/^word, .*wd 2\b.*100% unknown tokens$/m);
    // The summary describes the saved (refitted) model, not the split model.
    expect(r.stdout).toMatch(/^saved .*model\.safetensors \([\d,]+ parameters; ngram tokenizer, (mean-)?pooling model, weight decay [\d.]+; trained on all 200 rows for \d+ epochs?; the same settings scored [\d.]+% on the validation split before the refit\)\n$/);
    const meta = decodeSafetensors(new Uint8Array(readFileSync(join(d, 'model.safetensors')))).metadata;
    const training = JSON.parse(meta.training!);
    expect(training.tokenizer).toBe('ngram');
    // (The tokenizer part of each name: how the CLI spells the rest is its own.)
    const tokenizerPart = (name: string) => name.split(',')[0];
    expect(training.search.map((t: { candidate: string }) => tokenizerPart(t.candidate))).toEqual(defaultCandidates().map((c) => tokenizerPart(c.name)));
    expect(JSON.parse(meta.tokenizer!).type).toBe('ngram');
  });

  it.each([['--tokenizer', 'word'], ['--model', 'pooling']])('%s %s skips the search', async (flag, value) => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), csv());
    const r = await heed(['train', 'data.csv', '--epochs', '2', flag, value], d);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('trying');
    expect(r.stdout).toContain(`${value === 'word' ? 'word' : 'ngram'} tokenizer, pooling model`);
  });

  it('keeps --weight-decay given with the search for every candidate', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), csv());
    const r = await heed(['train', 'data.csv', '--epochs', '2', '--weight-decay', '1', '--quiet'], d);
    expect(r.code, r.stderr).toBe(0);
    const training = JSON.parse(decodeSafetensors(new Uint8Array(readFileSync(join(d, 'model.safetensors')))).metadata.training!);
    expect(training.search).toHaveLength(defaultCandidates().length);
    for (const t of training.search as { candidate: string }[]) expect(t.candidate).toMatch(/, wd 1(,|$)/);
    expect(training.weightDecay).toBe(1);
  });

  it('warns, naming the fix, when most tokens are unknown and when accuracy is at chance', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), csv());
    const r = await heed(['train', 'data.csv', '--epochs', '2', '--tokenizer', 'word', '--quiet'], d);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^heed: warning: 100% of the training tokens are unknown to the word vocabulary .*Use --tokenizer ngram/m);
    expect(r.stderr).toMatch(/^heed: warning: validation accuracy [\d.]+% is no better than always answering the most common class \(50\.0%\); try --tokenizer ngram/m);
  });

  it.each([
    [['--char-ngrams', '5-2'], /^heed: --char-ngrams must be MIN-MAX with 1 <= MIN <= MAX <= 16 \(or 0 for none\), got "5-2"$/m],
    [['--char-ngrams', 'x'], /--char-ngrams must be MIN-MAX/],
    [['--buckets', '0'], /^heed: --buckets must be an integer in \[1, 4194304\], got '0'$/m],
    [['--tokenizer', 'bpe'], /^heed: --tokenizer must be one of auto, ngram, word, char, got 'bpe'$/m],
  ])('%j is a usage error (exit 2) naming the flag', async (args, msg) => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), csv());
    const r = await heed(['train', 'data.csv', ...(args as string[])], d);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg as RegExp);
  });

  it('gives no warning where the data suits the setting', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), csv());
    const r = await heed(['train', 'data.csv', '--epochs', '4', '--tokenizer', 'ngram', '--quiet'], d);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
  });
});
