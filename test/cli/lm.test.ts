// heed train --task lm, heed generate and heed eval on the causal LM it saves: names made of
// syllables (so a model can learn them), the same seed giving the same text, eval's "loss" checked
// against a forward pass of the saved model, and the bad input each command refuses in one line.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { loadModel } from '../../src/io/model-file.js';
import { Tokenizer } from '../../src/data/tokenizer.js';
import { heed, lines, ls, removeTempDirs, synthCsv, tempDir } from './util.js';
import { expectClose, rng } from '../util.js';
import { lastRowRollout } from '../../src/cli/lm.js';

afterAll(removeTempDirs);

function names(n: number, seed: number): string {
  const r = rng(seed), pick = (a: string[]) => a[Math.floor(r() * a.length)];
  const onset = ['b', 'k', 'l', 'm', 'n', 'r', 's', 't'], vowel = ['a', 'e', 'i', 'o'], coda = ['', '', 'n', 'l'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const syllables = 2 + Math.floor(r() * 2);
    let s = '';
    for (let k = 0; k < syllables; k++) s += pick(onset) + pick(vowel) + (k === syllables - 1 ? pick(coda) : '');
    out.push(s[0].toUpperCase() + s.slice(1));
  }
  return out.join('\n') + '\n';
}

describe('heed train --task lm / generate / eval', () => {
  let dir = '', trained: Awaited<ReturnType<typeof heed>>;
  beforeAll(async () => {
    dir = tempDir();
    writeFileSync(join(dir, 'names.txt'), names(500, 1));
    writeFileSync(join(dir, 'test.txt'), names(100, 2));
    trained = await heed(['train', 'names.txt', '--task', 'lm', '--epochs', '6', '--d-model', '32', '--out', 'lm.safetensors'], dir);
  }, 120_000);

  it('trains a causal LM, reporting loss per token, perplexity and bits/char', () => {
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toMatch(/500 lines; one example per line, max length \d+; char vocabulary \d+/);
    expect(trained.stderr).toMatch(/^epoch 1\/6  loss\/token [\d.]+  ppl [\d.]+  val loss\/token [\d.]+  val ppl [\d.]+/m);
    const m = /validation loss ([\d.]+) nats\/token \(perplexity ([\d.]+), ([\d.]+) bits\/char\)/.exec(trained.stdout);
    expect(m, trained.stdout).not.toBeNull();
    // Uniform over ~17 symbols is 2.8 nats; the syllable grammar is far more predictable.
    expect(Number(m![1])).toBeLessThan(2.2);
    expect(Number(m![2])).toBeCloseTo(Math.exp(Number(m![1])), 1);
  });

  it('generate prints N samples, one per line, the same for the same seed; a prompt starts every sample', async () => {
    const a = await heed(['generate', 'lm.safetensors', '-n', '6', '--seed', '3'], dir);
    expect(a.code, a.stderr).toBe(0);
    expect(lines(a.stdout)).toHaveLength(6);
    const b = await heed(['generate', 'lm.safetensors', '-n', '6', '--seed', '3'], dir);
    expect(b.stdout).toBe(a.stdout);
    const c = await heed(['generate', 'lm.safetensors', '-n', '6', '--seed', '4'], dir);
    expect(c.stdout).not.toBe(a.stdout);
    for (const s of lines(a.stdout)) expect(s).toMatch(/^[A-Z][a-z]*$/);
    const p = await heed(['generate', 'lm.safetensors', '-n', '3', '--prompt', 'Ka', '--top-k', '3', '--top-p', '0.9', '--temperature', '0.7'], dir);
    expect(p.code, p.stderr).toBe(0);
    for (const s of lines(p.stdout)) expect(s.startsWith('Ka')).toBe(true);
    const g = await heed(['generate', 'lm.safetensors', '-n', '3', '--temperature', '0', '--seed', '9'], dir);
    expect(new Set(lines(g.stdout)).size).toBe(1);   // greedy: no randomness
    const short = await heed(['generate', 'lm.safetensors', '-n', '2', '--max-tokens', '2', '--prompt', 'B'], dir);
    for (const s of lines(short.stdout)) expect([...s].length).toBeLessThanOrEqual(3);
    const long = await heed(['generate', 'lm.safetensors', '-n', '1', '--max-tokens', '1000'], dir);
    expect(long.code).toBe(0);
    expect(long.stderr).toMatch(/^heed: the model's context of \d+ tokens leaves room for \d+ new tokens after the prompt; --max-tokens 1000 is cut to \d+\n$/);
  });

  it('a prompt with characters the model never saw is read as unknown, and said so', async () => {
    const r = await heed(['generate', 'lm.safetensors', '-n', '1', '--prompt', 'Zé'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('heed: the prompt has 2 pieces the model never saw (read as unknown)\n');
    expect(r.stdout).toMatch(/^<unk><unk>/);
  });

  it('eval: "loss" is the mean nats per predicted token (every character and each end marker)', async () => {
    const r = await heed(['eval', 'lm.safetensors', 'test.txt', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    const text = readFileSync(join(dir, 'test.txt'), 'utf8').trim().split('\n');
    expect(j.tokens).toBe(text.reduce((n, l) => n + l.length + 1, 0));
    expect(j.perplexity).toBeCloseTo(Math.exp(j.loss), 6);
    expect(j.bitsPerChar).toBeCloseTo(j.loss / Math.LN2, 6);   // char tokens: one per character or line end
    // The same figure from a forward pass of the saved model, line by line.
    const h = await init({ backend: 'js' });
    const { model, tokenizer } = loadModel(h, readFileSync(join(dir, 'lm.safetensors')));
    const t = Tokenizer.fromJSON(tokenizer), V = model.config.vocabSize;
    let nats = 0, n = 0;
    for (const line of text) {
      const ids = [0, ...t.encode(line)], next = [...ids.slice(1), 0];
      const logits = model.forward(Int32Array.from(ids), [1, ids.length]), z = logits.toArray();
      logits.dispose();
      for (let i = 0; i < ids.length; i++) {
        const row = z.subarray(i * V, (i + 1) * V), m = Math.max(...row);
        nats += m + Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0)) - row[next[i]];
        n++;
      }
    }
    model.dispose();
    expect(j.loss).toBeCloseTo(nats / n, 4);
    const plain = await heed(['eval', 'lm.safetensors', 'test.txt'], dir);
    expect(plain.stdout).toMatch(/100 lines, \d+ predicted tokens\nloss [\d.]+ nats\/token {3}perplexity [\d.]+ {3}[\d.]+ bits\/char\n/);
  });

  it('explain gives the next tokens after a text and the attention of that prediction over it', async () => {
    const r = await heed(['explain', 'lm.safetensors', 'Kal', '--json', '--html', 'e.html'], dir);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.pieces).toEqual(['<start>', 'K', 'a', 'l']);
    expect(j.weights).toHaveLength(4);
    expect(j.weights.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 6);
    expect(j.next).toHaveLength(5);
    for (let i = 1; i < 5; i++) expect(j.next[i].probability).toBeLessThanOrEqual(j.next[i - 1].probability);
    expect(readFileSync(join(dir, 'e.html'), 'utf8')).toContain(`Prediction: ${j.next[0].token}`);
    const plain = await heed(['explain', 'lm.safetensors', 'Kal'], dir);
    expect(plain.stdout).toMatch(/^next token: "[^"]+" [\d.]+%, /);
    expect(plain.stdout).toContain('attention of that prediction over its context (rollout)');
  });

  it('reads the rollout at the last position: the last row of the full product of the layers', () => {
    const r = rng(7), T = 5, H = 2, layers = Array.from({ length: 3 }, () => {
      const A = new Float32Array(H * T * T);
      for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
        const row = Array.from({ length: i + 1 }, () => r()), s = row.reduce((a, b) => a + b, 0);
        row.forEach((x, j) => { A[(h * T + i) * T + j] = x / s; });   // causal rows summing to 1
      }
      return A;
    });
    let R: number[][] | null = null;
    for (const A of layers) {
      const M = Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => {
        let a = 0;
        for (let h = 0; h < H; h++) a += A[(h * T + i) * T + j] / H;
        return 0.5 * a + (i === j ? 0.5 : 0);
      }));
      R = R === null ? M : M.map((row) => R!.map((_, j) => row.reduce((s, m, k) => s + m * R![k][j], 0)));
    }
    expectClose(lastRowRollout(layers, H, T), R![T - 1], 1e-9, 1e-9);
  });

  it('--context N reads running text in windows; generate then prints running text', async () => {
    writeFileSync(join(dir, 'story.txt'), names(300, 5).replace(/\n/g, (_, i: number) => (i % 7 ? ' ' : '\n')));
    const r = await heed(['train', 'story.txt', '--task', 'lm', '--context', '32', '--epochs', '2', '--d-model', '16', '--no-refit', '--out', 'w.safetensors'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\d+ windows of 32 tokens/);
    const g = await heed(['generate', 'w.safetensors', '-n', '2', '--max-tokens', '20'], dir);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stdout.split('\n\n')).toHaveLength(2);
    const e = JSON.parse((await heed(['eval', 'w.safetensors', 'story.txt', '--json'], dir)).stdout);
    expect(e.mode).toBe('windows');
    expect(e.loss).toBeGreaterThan(0);
  }, 60_000);

  it('bad input is one clear line, and nothing is written', async () => {
    writeFileSync(join(dir, 'empty.txt'), '\n \n');
    writeFileSync(join(dir, 'bin.dat'), Uint8Array.from([1, 2, 0, 3, 10, 65]));
    writeFileSync(join(dir, 'train.csv'), synthCsv(90, 1));
    const before = ls(dir);
    const one = (r: Awaited<ReturnType<typeof heed>>) => r.stderr.trim().split('\n')[0];
    const empty = await heed(['train', 'empty.txt', '--task', 'lm', '--out', 'x.safetensors'], dir);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe(`heed: ${join(dir, 'empty.txt')}: is empty (no line holds any text); a corpus needs at least one line of text\n`);
    const bin = await heed(['train', 'bin.dat', '--task', 'lm', '--out', 'x.safetensors'], dir);
    expect(bin.stderr).toMatch(/^heed: .*bin\.dat: holds NUL bytes; a corpus must be plain text/);
    const resume = await heed(['train', 'names.txt', '--task', 'lm', '--resume'], dir);
    expect([resume.code, one(resume)]).toEqual([2, 'heed: --resume is not available with --task lm yet (a language-model run keeps no checkpoint)']);
    const ngram = await heed(['train', 'names.txt', '--task', 'lm', '--tokenizer', 'ngram'], dir);
    expect(ngram.code).toBe(2);
    const dropout = await heed(['train', 'names.txt', '--task', 'lm', '--token-dropout', '0.1'], dir);
    expect([dropout.code, one(dropout)]).toEqual([2, 'heed: --token-dropout is not used with --task lm (every token is the context of the next)']);
    const both = await heed(['train', 'names.txt', '--task', 'lm', '--context', '8', '--max-len', '8'], dir);
    expect(both.code).toBe(2);
    const ctx = await heed(['train', 'train.csv', '--context', '8'], dir);
    expect([ctx.code, one(ctx)]).toEqual([2, 'heed: --context is for --task lm (windows of a running text)']);
    expect(ls(dir)).toEqual(before);

    for (const [flags, msg] of [
      [['--temperature', 'nan'], "heed: --temperature must be a finite number (0 or less: greedy), got 'nan'"],
      [['--top-p', '0'], "heed: --top-p must be a number in (0, 1], got '0'"],
      [['--top-p', '1.5'], "heed: --top-p must be a number in (0, 1], got '1.5'"],
      [['-n', '0'], null],
    ] as const) {
      const r = await heed(['generate', 'lm.safetensors', ...flags], dir);
      expect(r.code).toBe(2);
      if (msg) expect(one(r)).toBe(msg);
    }
    const classifier = await heed(['train', 'train.csv', '--model', 'pooling', '--tokenizer', 'word', '--epochs', '1', '--out', 'clf.safetensors', '--quiet'], dir);
    expect(classifier.code, classifier.stderr).toBe(0);
    const gen = await heed(['generate', 'clf.safetensors'], dir);
    expect(gen.code).toBe(1);
    expect(gen.stderr).toBe(`heed: ${join(dir, 'clf.safetensors')}: this is a pooling model, not a language model; generate reads the causal LMs 'heed train --task lm' saves\n`);
    const predict = await heed(['predict', 'lm.safetensors', 'Kala'], dir);
    expect(predict.code).toBe(1);
    expect(predict.stderr).toBe(`heed: ${join(dir, 'lm.safetensors')}: this is a language model; predict reads classifiers and taggers — sample from it with heed generate, score text with heed eval, see its attention with heed explain\n`);
  }, 60_000);
});
