// heed train --task tag, and heed predict / eval / explain on the tagger it saves: a toy grammar
// whose ambiguous words ("fish", "run": nouns after a determiner, verbs after a noun) can only be
// tagged from their context, so the tagger must beat tagging each word with its commonest tag.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { heed, ls, removeTempDirs, tempDir } from './util.js';
import { rng } from '../util.js';

afterAll(removeTempDirs);

function grammarCsv(n: number, seed: number): string {
  const r = rng(seed), pick = (a: string[]) => a[Math.floor(r() * a.length)];
  const DET = ['the', 'a', 'every'], ADJ = ['big', 'small', 'red', 'old'];
  const NOUN = ['dog', 'cat', 'fish', 'run', 'bird'], VERB = ['sees', 'fish', 'run', 'likes', 'chase'];
  const rows = ['label,sequence'];
  for (let i = 0; i < n; i++) {
    const w: string[] = [], t: string[] = [];
    const np = () => {
      w.push(pick(DET)); t.push('DET');
      if (r() < 0.5) { w.push(pick(ADJ)); t.push('ADJ'); }
      w.push(pick(NOUN)); t.push('NOUN');
    };
    np(); w.push(pick(VERB)); t.push('VERB');
    if (r() < 0.6) np();
    rows.push(`${t.join(' ')},${w.join(' ')}`);
  }
  return rows.join('\n') + '\n';
}

describe('heed train --task tag', () => {
  let dir = '', trained: Awaited<ReturnType<typeof heed>>;
  beforeAll(async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'train.csv'), grammarCsv(600, 1));
    writeFileSync(join(dir, 'test.csv'), grammarCsv(200, 2));
    trained = await heed(['train', 'train.csv', '--task', 'tag', '--epochs', '10', '--d-model', '32', '--out', 'tagger.safetensors'], dir);
  }, 120_000);

  it('trains a tagger that beats the most-frequent-tag baseline, and says both figures', () => {
    expect(trained.code, trained.stderr).toBe(0);
    const m = /before the refit, ([\d.]+)% of validation words tagged right \(most-frequent-tag baseline ([\d.]+)%\)/.exec(trained.stdout);
    expect(m, trained.stdout).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(Number(m![2]) + 3);
    expect(trained.stdout).toMatch(/tagger, 4 tags/);
    expect(trained.stderr).toMatch(/600 rows, \d+ words, 4 tags \(ADJ: \d+, DET: \d+, NOUN: \d+, VERB: \d+\)/);
  });

  it('predict tags each word from its context (tab, then the text); --json gives words, tags and probabilities', async () => {
    const r = await heed(['predict', 'tagger.safetensors', 'the dog fish', 'a red fish run the cat'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('DET NOUN VERB\tthe dog fish\nDET ADJ NOUN VERB DET NOUN\ta red fish run the cat\n');
    const j = await heed(['predict', 'tagger.safetensors', '--json'], dir, 'every cat run\n\n');
    const [a, b] = j.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(a).toMatchObject({ text: 'every cat run', words: ['every', 'cat', 'run'], tags: ['DET', 'NOUN', 'VERB'], truncated: false });
    expect(a.probabilities).toHaveLength(3);
    for (const p of a.probabilities) expect(p).toBeGreaterThan(0.5);
    expect(b).toMatchObject({ text: '', words: [], tags: [], error: 'no words' });
  });

  it('eval scores every word: accuracy and loss per word, precision / recall / F1 per tag', async () => {
    const r = await heed(['eval', 'tagger.safetensors', 'test.csv'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/200 rows, \d+ words\naccuracy per word (\d+\.\d)%/);
    expect(Number(/accuracy per word ([\d.]+)%/.exec(r.stdout)![1])).toBeGreaterThan(97);
    const j = JSON.parse((await heed(['eval', 'tagger.safetensors', 'test.csv', '--json'], dir)).stdout);
    expect(j.rows).toBe(200);
    expect(j.n).toBe(j.words);
    expect(j.classes.map((c: { label: string }) => c.label)).toEqual(['ADJ', 'DET', 'NOUN', 'VERB']);
    expect(j.classes.reduce((s: number, c: { support: number }) => s + c.support, 0)).toBe(j.words);
  });

  it('bad rows, tags the model does not know and commands that need a classifier fail with one clear line', async () => {
    writeFileSync(join(dir, 'short.csv'), 'label,sequence\nDET NOUN VERB,the dog fish\nDET NOUN,the dog runs\n');
    writeFileSync(join(dir, 'unknown.csv'), 'label,sequence\nDET X,the dog\n');
    writeFileSync(join(dir, 'one.csv'), 'label,sequence\nA A,x y\nA,z\n');
    const before = ls(dir);
    const short = await heed(['train', 'short.csv', '--task', 'tag', '--out', 'x.safetensors'], dir);
    expect(short.code).toBe(1);
    expect(short.stderr).toBe(`heed: ${join(dir, 'short.csv')}:3: 3 words but 2 tags (the label column holds one tag per word, separated by spaces)\n`);
    const one = await heed(['train', 'one.csv', '--task', 'tag', '--out', 'x.safetensors'], dir);
    expect(one.stderr).toBe(`heed: ${join(dir, 'one.csv')}: every word has the tag "A"; tagging needs at least 2 tags\n`);
    expect(existsSync(join(dir, 'x.safetensors'))).toBe(false);
    const unknown = await heed(['eval', 'tagger.safetensors', 'unknown.csv'], dir);
    expect(unknown.stderr).toBe(`heed: ${join(dir, 'unknown.csv')}:2: tag 'X' is not one the model knows (ADJ, DET, NOUN, VERB)\n`);
    const explain = await heed(['explain', 'tagger.safetensors', 'the dog'], dir);
    expect(explain.code).toBe(1);
    expect(explain.stderr).toMatch(/this is a tagger \(it labels every word\); explain reads text classifiers/);
    const model = await heed(['train', 'train.csv', '--task', 'tag', '--model', 'pooling'], dir);
    expect(model.code).toBe(2);
    expect(model.stderr).toMatch(/^heed: --model pooling classifies rows; --task tag trains a tagger/);
    expect(ls(dir)).toEqual(before);
  });
});
