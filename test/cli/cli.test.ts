// End-to-end tests of the `heed` command line (spec/API.md, "Command line"): the built binary
// dist/cli/main.js is spawned in a fresh temporary directory per test, with NO_COLOR=1, and its exit
// code, stdout, stderr and the files it leaves are checked. `npm test` builds first; run
// `npm run build` before `npx vitest run test/cli` by hand.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, epochLines, heed, killAll, lines, ls, removeTempDirs, ROOT, start, synthCsv, tempDir, waitUntil, type Result } from './util.js';

/** Bytes of a real model file (trained once in beforeAll): the "existing --out" and corruption source. */
let MODEL: Buffer;

beforeAll(async () => {
  for (const f of [BIN, join(ROOT, 'dist/worker/worker.js')]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` before these tests`);
  }
  const d = tempDir();
  writeFileSync(join(d, 'data.csv'), synthCsv(150, 3));
  const r = await heed(['train', 'data.csv', '--epochs', '2', '--quiet'], d);
  expect(r.code, r.stderr).toBe(0);
  MODEL = readFileSync(join(d, 'model.safetensors'));
});

afterEach(() => killAll());
afterAll(() => removeTempDirs());

/** A failed run: the exit code, nothing on stdout, and one `heed: ` line on stderr (plus the usage
 *  hint for a usage error) that mentions each of `mention`, with no stack trace. */
function expectError(r: Result, code: 1 | 2, mention: (string | RegExp)[], what = ''): void {
  expect(r.code, `${what} exit code; stderr: ${r.stderr}`).toBe(code);
  expect(r.signal, what).toBeNull();
  expect(r.stdout, what).toBe('');
  const err = lines(r.stderr);
  if (code === 2 && err.length === 2) expect(err[1], what).toBe("Run 'heed --help' for usage.");
  else expect(err, `${what} stderr must be a single line`).toHaveLength(1);
  expect(err[0], what).toMatch(/^heed: \S/);
  expect(r.stderr, what).not.toMatch(/^\s+at /m);
  expect(r.stderr, what).not.toMatch(/internal error/);
  for (const m of mention) {
    if (typeof m === 'string') expect(err[0], what).toContain(m);
    else expect(err[0], what).toMatch(m);
  }
}

describe('help and usage', () => {
  it('heed --help and -h print the usage and exit 0', async () => {
    const d = tempDir();
    for (const flag of ['--help', '-h']) {
      const r = await heed([flag], d);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      for (const w of ['usage:', 'heed train', 'heed eval', 'heed predict', 'heed explain', 'heed bench']) expect(r.stdout).toContain(w);
    }
  });

  it('each command has --help (exit 0, stdout)', async () => {
    const d = tempDir();
    const r = await heed(['train', '--help'], d);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const w of ['usage: heed train', '--epochs', '--out', '--resume', '--label-col', '--val-split']) expect(r.stdout).toContain(w);
    for (const cmd of ['eval', 'predict', 'explain']) {
      const h = await heed([cmd, '--help'], d);
      expect(h.code, cmd).toBe(0);
      expect(h.stdout).toContain(`usage: heed ${cmd}`);
    }
    expect(ls(d)).toEqual([]);
  });

  it('--version prints the package version', async () => {
    const r = await heed(['--version'], tempDir());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`heed ${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('heed alone prints the usage and exits 2', async () => {
    const r = await heed([], tempDir());
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain('usage:');
    expect(r.stdout + r.stderr).toContain('heed train');
  });

  it('an unknown command exits 2 with one line naming it', async () => {
    expectError(await heed(['bogus'], tempDir()), 2, ["'bogus'"]);
    expectError(await heed(['bench', '--bogus'], tempDir()), 2, ['--bogus']);
  });
});

describe('train → eval → predict → explain', () => {
  it('works end to end on a small learnable CSV', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), synthCsv(300));

    const t = await heed(['train', 'data.csv', '--epochs', '3', '--model', 'pooling'], d);
    expect(t.code, t.stderr).toBe(0);
    expect(lines(t.stdout)).toHaveLength(1);
    expect(t.stdout).toMatch(new RegExp(`^saved ${join(d, 'model.safetensors')} \\(`));
    expect(t.stderr).toContain('300 rows, 3 classes');
    expect(epochLines(t.stderr)).toEqual([1, 2, 3]);
    expect(t.stderr).not.toMatch(/\x1b\[/); // NO_COLOR and not a TTY: plain text
    expect(ls(d)).toEqual(['data.csv', 'model.safetensors']); // no temporary or checkpoint file left

    const e = await heed(['eval', 'model.safetensors', 'data.csv'], d);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toBe('');
    const acc = /accuracy (\d+(?:\.\d+)?)%/.exec(e.stdout);
    expect(acc, e.stdout).not.toBeNull();
    expect(Number(acc![1])).toBeGreaterThan(85);
    for (const w of ['300 rows', 'loss', 'precision', 'recall', 'F1', 'support', 'confusion matrix']) expect(e.stdout).toContain(w);
    for (const label of ['food', 'sport', 'tech']) expect(e.stdout).toMatch(new RegExp(`^${label} +[01]\\.\\d{3} +[01]\\.\\d{3} +[01]\\.\\d{3} +100$`, 'm'));
    expect(e.stdout).toMatch(/^ +food +sport +tech$/m); // the confusion matrix header
    // Confusion matrix rows: label then three counts that add up to that class's 100 rows.
    const rows = [...e.stdout.matchAll(/^(food|sport|tech) +(\d+) +(\d+) +(\d+)$/gm)];
    expect(rows.map((m) => m[1])).toEqual(['food', 'sport', 'tech']);
    for (const m of rows) expect(Number(m[2]) + Number(m[3]) + Number(m[4])).toBe(100);

    const j = await heed(['eval', 'model.safetensors', 'data.csv', '--json'], d);
    expect(j.code, j.stderr).toBe(0);
    expect(lines(j.stdout)).toHaveLength(1);
    const o = JSON.parse(j.stdout) as { accuracy: unknown; loss: unknown; n: unknown };
    expect(typeof o.accuracy).toBe('number');
    expect(typeof o.loss).toBe('number');
    expect(o.n).toBe(300);
    expect(o.accuracy as number).toBeGreaterThan(0.85);
    expect(o.accuracy as number).toBeLessThanOrEqual(1);
    expect(Number.isFinite(o.loss)).toBe(true);
    expect(o.accuracy).toBeCloseTo(Number(acc![1]) / 100, 3);

    const texts = ['the striker scored a goal for the team', 'garlic soup with butter and bread', 'the kernel and the compiler on my laptop'];
    const p = await heed(['predict', 'model.safetensors', ...texts], d);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toBe('');
    const out = lines(p.stdout).map((l) => l.split('\t'));
    expect(out.map((f) => f.length)).toEqual([3, 3, 3]);
    expect(out.map((f) => f[0])).toEqual(['sport', 'food', 'tech']);
    expect(out.map((f) => f[2])).toEqual(texts);
    for (const f of out) {
      expect(f[1]).toMatch(/^[01]\.\d{4}$/);
      expect(Number(f[1])).toBeGreaterThan(1 / 3);
    }

    const s = await heed(['predict', 'model.safetensors'], d, 'a new recipe for cheese salad\nthe router and the database server\n');
    expect(s.code, s.stderr).toBe(0);
    expect(lines(s.stdout).map((l) => l.split('\t')).map((f) => [f[0], f[2]])).toEqual([
      ['food', 'a new recipe for cheese salad'], ['tech', 'the router and the database server'],
    ]);

    const x = await heed(['explain', 'model.safetensors', 'the coach of the team saw the match'], d);
    expect(x.code, x.stderr).toBe(0);
    expect(x.stderr).toBe('');
    expect(lines(x.stdout)[0]).toMatch(/^prediction: sport \(\d+\.\d%\)$/);
    expect(x.stdout).toContain('most attended tokens:');
    for (const tok of ['coach', 'team', 'match']) expect(x.stdout).toMatch(new RegExp(`^  ${tok} +0\\.\\d{3} `, 'm'));
    expect(x.stdout).not.toMatch(/\x1b\[/);

    const hx = await heed(['explain', 'model.safetensors', 'the coach of the team saw the match', '--html', 'page.html'], d);
    expect(hx.code, hx.stderr).toBe(0);
    expect(hx.stdout).toContain(`wrote ${join(d, 'page.html')}`);
    const html = readFileSync(join(d, 'page.html'), 'utf8');
    expect(html).toMatch(/<html[\s>]/);
    expect(html).toContain('</html>');
    for (const tok of ['coach', 'team', 'match', 'sport']) expect(html).toContain(tok);
    // Self-contained: no scripts, no external resources.
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc\s*=|@import|url\(/i);
    expect(ls(d)).toEqual(['data.csv', 'model.safetensors', 'page.html']);
  });

  it('escapes the text in the HTML page', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'model.safetensors'), MODEL);
    const r = await heed(['explain', 'model.safetensors', '<script>alert(1)</script> & goal', '--html', 'x.html'], d);
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(d, 'x.html'), 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;script&gt;');
  });
});

describe('determinism', () => {
  it('the same data, options and seed give byte-identical model files, whatever the directory or --out', async () => {
    const csv = synthCsv(300, 5);
    const [a, b] = [tempDir(), tempDir()];
    writeFileSync(join(a, 'data.csv'), csv);
    writeFileSync(join(b, 'train.csv'), csv);
    mkdirSync(join(b, 'nested'));
    const common = ['--epochs', '3', '--seed', '7', '--quiet'];
    const [ra, rb, rc] = await Promise.all([
      heed(['train', 'data.csv', ...common], a),
      heed(['train', 'train.csv', ...common, '--out', 'nested/other-name.safetensors'], b),
      heed(['train', 'data.csv', ...common.slice(0, 2), '--seed', '8', '--out', 'seed8.safetensors'], a),
    ]);
    for (const r of [ra, rb, rc]) expect(r.code, r.stderr).toBe(0);
    const ma = readFileSync(join(a, 'model.safetensors')), mb = readFileSync(join(b, 'nested/other-name.safetensors'));
    expect(ma.length).toBeGreaterThan(1000);
    expect(ma.equals(mb)).toBe(true);
    // The comparison means something: another seed gives other weights.
    expect(ma.equals(readFileSync(join(a, 'seed8.safetensors')))).toBe(false);
    // No timestamp, path or host detail in the file.
    const text = ma.toString('latin1');
    for (const leak of [a, b, 'data.csv', 'train.csv', 'nested', String(new Date().getFullYear())]) expect(text).not.toContain(leak);
  });

  it('the transformer is deterministic too', async () => {
    const [a, b] = [tempDir(), tempDir()];
    for (const d of [a, b]) writeFileSync(join(d, 'data.csv'), synthCsv(150, 9));
    const args = ['train', 'data.csv', '--model', 'transformer', '--epochs', '2', '--d-model', '16', '--quiet'];
    const [ra, rb] = await Promise.all([heed(args, a), heed(args, b)]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    expect(readFileSync(join(a, 'model.safetensors')).equals(readFileSync(join(b, 'model.safetensors')))).toBe(true);
  });
});

// --- bad input -------------------------------------------------------------------------------

const GOOD = synthCsv(30, 11);

interface TrainCase { name: string; csv?: string | Buffer; args: string[]; code: 1 | 2; mention: (d: string) => (string | RegExp)[]; setup?: (d: string) => void }

const TRAIN_CASES: TrainCase[] = [
  // usage errors: exit 2
  { name: 'an unknown flag', args: ['train', 'data.csv', '--bogus', '1'], code: 2, mention: () => ['--bogus'] },
  { name: '--epochs -1', args: ['train', 'data.csv', '--epochs', '-1'], code: 2, mention: () => ['--epochs', "'-1'"] },
  { name: '--epochs 0', args: ['train', 'data.csv', '--epochs', '0'], code: 2, mention: () => ['--epochs', "'0'"] },
  { name: '--epochs 2.5', args: ['train', 'data.csv', '--epochs', '2.5'], code: 2, mention: () => ['--epochs', "'2.5'"] },
  { name: '--epochs without a value', args: ['train', 'data.csv', '--epochs'], code: 2, mention: () => ['--epochs'] },
  { name: '--epochs followed by another flag', args: ['train', 'data.csv', '--epochs', '--lr', '0.1'], code: 2, mention: () => ['--epochs'] },
  { name: '--lr abc', args: ['train', 'data.csv', '--lr', 'abc'], code: 2, mention: () => ['--lr', "'abc'"] },
  { name: '--lr -0.1', args: ['train', 'data.csv', '--lr', '-0.1'], code: 2, mention: () => ['--lr', "'-0.1'"] },
  { name: '--val-split 1.5', args: ['train', 'data.csv', '--val-split', '1.5'], code: 2, mention: () => ['--val-split', "'1.5'"] },
  { name: '--batch-size x', args: ['train', 'data.csv', '--batch-size', 'x'], code: 2, mention: () => ['--batch-size', "'x'"] },
  { name: '--model cnn', args: ['train', 'data.csv', '--model', 'cnn'], code: 2, mention: () => ['--model', "'cnn'"] },
  { name: '--seed -3', args: ['train', 'data.csv', '--seed', '-3'], code: 2, mention: () => ['--seed', "'-3'"] },
  { name: '--out ""', args: ['train', 'data.csv', '--out', ''], code: 2, mention: () => ['--out'] },
  { name: 'a boolean flag with a value', args: ['train', 'data.csv', '--quiet=yes'], code: 2, mention: () => ['--quiet'] },
  { name: 'no CSV file', args: ['train'], code: 2, mention: () => ['train', 'CSV'] },
  { name: 'two CSV files', args: ['train', 'data.csv', 'data.csv'], code: 2, mention: () => ['train'] },
  // other failures: exit 1, naming the file (and line) or the flag
  { name: 'a missing CSV file', args: ['train', 'nope.csv'], code: 1, mention: (d) => [`${d}/nope.csv`, 'no such file'] },
  { name: 'a directory as the CSV', args: ['train', 'sub'], code: 1, mention: (d) => [`${d}/sub`, 'directory'], setup: (d) => mkdirSync(join(d, 'sub')) },
  { name: 'an empty CSV', csv: '', args: ['train', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv`, 'empty'] },
  { name: 'a header without the columns', csv: 'category,text\nfood,soup\nsport,goal\n', args: ['train', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv:1:`, '"label"', '"sequence"'] },
  { name: 'a header only', csv: 'label,sequence\n', args: ['train', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv`, 'no data rows'] },
  { name: 'a row with too many fields', csv: 'label,sequence\nfood,soup\nsport,goal\ntech,a,b\nfood,bread\n', args: ['train', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv:4:`, 'too many fields'] },
  { name: 'a row with too few fields', csv: 'label,sequence\nfood,soup\nsport\n', args: ['train', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv:3:`, 'too few fields'] },
  { name: 'an unterminated quote', csv: 'label,sequence\nfood,soup\nsport,"goal\ntech,kernel\n', args: ['train', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv:3:`, 'unterminated'] },
  { name: 'a single label class', csv: 'label,sequence\nfood,soup\nfood,bread\nfood,cheese\n', args: ['train', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv`, '"food"', '2 classes'] },
  { name: 'an empty label', csv: 'label,sequence\nfood,soup\n  ,bread\nsport,goal\n', args: ['train', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv:3:`, 'label'] },
  {
    name: 'non-UTF-8 bytes', csv: Buffer.concat([Buffer.from('label,sequence\nfood,soup\nsport,go'), Buffer.from([0xff, 0xfe]), Buffer.from('al\ntech,kernel\n')]),
    args: ['train', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv:3:`, 'UTF-8'],
  },
  { name: '--label-col naming a missing column', args: ['train', 'data.csv', '--label-col', 'category'], code: 1, mention: (d) => [`${d}/data.csv:1:`, '"category"'] },
  { name: '--text-col naming a missing column', args: ['train', 'data.csv', '--text-col', 'body'], code: 1, mention: (d) => [`${d}/data.csv:1:`, '"body"'] },
  { name: '--out in a missing directory', args: ['train', 'data.csv', '--out', 'nodir/m.safetensors'], code: 1, mention: (d) => ['--out', `${d}/nodir`] },
  { name: '--out naming a directory', args: ['train', 'data.csv', '--out', 'sub'], code: 1, mention: (d) => ['--out', `${d}/sub`, 'directory'], setup: (d) => mkdirSync(join(d, 'sub')) },
  { name: '--resume without a checkpoint', args: ['train', 'data.csv', '--resume'], code: 1, mention: (d) => ['--resume', `${d}/model.safetensors.ckpt`] },
  { name: '--resume with a corrupt checkpoint', args: ['train', 'data.csv', '--resume'], code: 1, mention: (d) => [`${d}/model.safetensors.ckpt`], setup: (d) => writeFileSync(join(d, 'model.safetensors.ckpt'), 'not a checkpoint at all') },
];

describe('train: bad input fails cleanly and leaves an existing model file alone', () => {
  it.each(TRAIN_CASES)('$name', async (c) => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), c.csv ?? GOOD);
    writeFileSync(join(d, 'model.safetensors'), MODEL);
    c.setup?.(d);
    const before = ls(d);
    const r = await heed(c.args, d);
    expectError(r, c.code, c.mention(d));
    expect(ls(d)).toEqual(before); // no partial output, temporary or checkpoint file
    expect(readFileSync(join(d, 'model.safetensors')).equals(MODEL)).toBe(true);
  });
});

interface ModelCase { name: string; file: string; make: (d: string) => void }

const MODEL_CASES: ModelCase[] = [
  { name: 'a missing model file', file: 'nope.safetensors', make: () => {} },
  { name: 'garbage bytes', file: 'bad.safetensors', make: (d) => writeFileSync(join(d, 'bad.safetensors'), Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 97 + 13) & 255))) },
  { name: 'a plausible header length over garbage', file: 'bad.safetensors', make: (d) => writeFileSync(join(d, 'bad.safetensors'), Buffer.concat([Buffer.from([40, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"x": not json at all ........  }')])) },
  { name: 'a truncated model file', file: 'bad.safetensors', make: (d) => writeFileSync(join(d, 'bad.safetensors'), MODEL.subarray(0, Math.floor(MODEL.length / 2))) },
  { name: 'a model file cut inside its header', file: 'bad.safetensors', make: (d) => writeFileSync(join(d, 'bad.safetensors'), MODEL.subarray(0, 100)) },
  { name: 'an empty model file', file: 'bad.safetensors', make: (d) => writeFileSync(join(d, 'bad.safetensors'), '') },
  { name: 'a CSV given as the model', file: 'data.csv', make: () => {} },
  { name: 'a directory given as the model', file: 'sub', make: (d) => mkdirSync(join(d, 'sub')) },
];

const COMMANDS = [
  { cmd: 'eval', args: (m: string) => ['eval', m, 'data.csv'] },
  { cmd: 'eval --json', args: (m: string) => ['eval', m, 'data.csv', '--json'] },
  { cmd: 'predict', args: (m: string) => ['predict', m, 'some text'] },
  { cmd: 'predict (stdin)', args: (m: string) => ['predict', m] },
  { cmd: 'explain --html', args: (m: string) => ['explain', m, 'some text', '--html', 'page.html'] },
];

describe('eval / predict / explain: an unreadable or corrupt model file fails cleanly', () => {
  it.each(MODEL_CASES)('$name', async (c) => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), GOOD);
    c.make(d);
    const before = ls(d);
    for (const { cmd, args } of COMMANDS) {
      const r = await heed(args(c.file), d, 'a line of text\n');
      expectError(r, 1, [`${d}/${c.file}`], cmd);
      expect(ls(d), cmd).toEqual(before); // explain wrote no page
    }
  });
});

describe('eval / predict / explain: other bad input', () => {
  const cases: { name: string; csv?: string | Buffer; args: string[]; code: 1 | 2; mention: (d: string) => (string | RegExp)[] }[] = [
    { name: 'eval with one argument', args: ['eval', 'model.safetensors'], code: 2, mention: () => ['eval'] },
    { name: 'eval with an unknown flag', args: ['eval', 'model.safetensors', 'data.csv', '--fast'], code: 2, mention: () => ['--fast'] },
    { name: 'eval --batch-size 0', args: ['eval', 'model.safetensors', 'data.csv', '--batch-size', '0'], code: 2, mention: () => ['--batch-size'] },
    { name: 'predict without a model', args: ['predict'], code: 2, mention: () => ['predict'] },
    { name: 'explain without a text', args: ['explain', 'model.safetensors'], code: 2, mention: () => ['explain'] },
    { name: 'eval with a missing CSV', args: ['eval', 'model.safetensors', 'nope.csv'], code: 1, mention: (d) => [`${d}/nope.csv`] },
    { name: 'eval with a label the model does not know', csv: 'label,sequence\nfood,soup\nweather,rain\n', args: ['eval', 'model.safetensors', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv:3:`, "'weather'"] },
    { name: 'eval with an unterminated quote', csv: 'label,sequence\nfood,"soup\n', args: ['eval', 'model.safetensors', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv:2:`, 'unterminated'] },
    { name: 'eval with non-UTF-8 bytes', csv: Buffer.from([...Buffer.from('label,sequence\nfood,soup\nfood,'), 0xc3, 0x28, 10]), args: ['eval', 'model.safetensors', 'data.csv'], code: 1, mention: (d) => [`${d}/data.csv:3:`, 'UTF-8'] },
    { name: 'eval --text-col naming a missing column', args: ['eval', 'model.safetensors', 'data.csv', '--text-col', 'body'], code: 1, mention: (d) => [`${d}/data.csv:1:`, '"body"'] },
    { name: 'explain --html in a missing directory', args: ['explain', 'model.safetensors', 'goal', '--html', 'nodir/p.html'], code: 1, mention: (d) => ['--html', `${d}/nodir`] },
  ];
  it.each(cases)('$name', async (c) => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), c.csv ?? GOOD);
    writeFileSync(join(d, 'model.safetensors'), MODEL);
    const before = ls(d);
    expectError(await heed(c.args, d), c.code, c.mention(d));
    expect(ls(d)).toEqual(before);
  });
});

// --- interruption and --resume --------------------------------------------------------------

// A run slow enough to interrupt (each epoch takes a few tenths of a second) that stops early:
// a noisy synthetic task on which the transformer overfits by about epoch 5 with patience 1.
const SLOW = ['--model', 'transformer', '--epochs', '8', '--patience', '1', '--lr', '0.01', '--weight-decay', '0', '--token-dropout', '0'];
const slowCsv = () => synthCsv(1200, 2, 0.45);

describe('--resume', () => {
  it('continues a killed run from its checkpoint and gives the model an uninterrupted run gives', { timeout: 120_000 }, async () => {
    const [ref, d] = [tempDir(), tempDir()];
    for (const dir of [ref, d]) writeFileSync(join(dir, 'data.csv'), slowCsv());
    const args = ['train', 'data.csv', ...SLOW];
    const model = join(d, 'model.safetensors'), ckpt = `${model}.ckpt`;

    // The reference, uninterrupted (concurrently with the first run below).
    const reference = heed(args, ref);

    // 1. Killed (SIGKILL: no cleanup at all) once the first epoch's checkpoint is on disk.
    const r1 = start(args, d);
    await waitUntil(() => existsSync(ckpt) || r1.child.exitCode !== null, 'the first checkpoint');
    r1.child.kill('SIGKILL');
    expect((await r1.done).signal).toBe('SIGKILL');
    expect(existsSync(model)).toBe(false);
    expect(existsSync(ckpt)).toBe(true);

    // A resume must see the same data and options.
    writeFileSync(join(d, 'other.csv'), readFileSync(join(d, 'data.csv'), 'utf8') + 'food,one more row of soup\n');
    const ckptBytes = readFileSync(ckpt);
    for (const other of [['train', 'other.csv', ...SLOW, '--out', 'model.safetensors'], [...args, '--seed', '1']]) {
      const r = await heed([...other, '--resume'], d);
      expectError(r, 1, ['--resume', ckpt, 'other data or options']);
      expect(existsSync(model)).toBe(false);
      expect(readFileSync(ckpt).equals(ckptBytes)).toBe(true);
    }

    // 2. Resumed: it starts after the checkpointed epoch (not from epoch 1); killed again while
    //    refitting on all rows, after the validation phase is over.
    const r2 = start([...args, '--resume'], d);
    await waitUntil(() => r2.stderr.includes('refitting on all') || r2.child.exitCode !== null, 'the refit');
    r2.child.kill('SIGKILL');
    const d2 = await r2.done;
    expect(d2.signal, d2.stderr).toBe('SIGKILL');
    const resumedEpochs = epochLines(d2.stderr);
    expect(resumedEpochs.length).toBeGreaterThan(0);
    expect(resumedEpochs[0]).toBeGreaterThan(1);
    expect(existsSync(model)).toBe(false);
    expect(existsSync(ckpt)).toBe(true);

    // 3. Resumed again: no validation epochs left to run, only the refit; then the model is
    //    written, the checkpoint removed, and the file equals the uninterrupted run's.
    const r3 = await heed([...args, '--resume'], d);
    expect(r3.code, r3.stderr).toBe(0);
    expect(epochLines(r3.stderr)).toEqual([]);
    expect(r3.stderr).toContain('refitting on all 1200 rows');
    expect(r3.stdout).toMatch(/^saved .*model\.safetensors/);
    expect(ls(d)).toEqual(['data.csv', 'model.safetensors', 'other.csv']);

    const rr = await reference;
    expect(rr.code, rr.stderr).toBe(0);
    expect(rr.stderr).toContain('stopped early'); // the case where resuming has to replay early stopping
    // The full history is reported after a resume, as after an uninterrupted run.
    const table = (s: string) => s.slice(s.indexOf('epoch    loss')).replace(/ +\d+(?:\.\d)? m?s$/gm, ''); // less the time
    expect(table(r3.stderr)).toMatch(/^1 .*\n2 /m); // from epoch 1, though this run trained none
    expect(table(r3.stderr)).toBe(table(rr.stderr)); // same rows…
    expect(readFileSync(model).equals(readFileSync(join(ref, 'model.safetensors')))).toBe(true); // …same bytes
  });
});

describe('SIGINT', () => {
  it('during training: exit 130, one line, no model file; the checkpoint stays for --resume', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), slowCsv());
    const ckpt = join(d, 'model.safetensors.ckpt');
    const r = start(['train', 'data.csv', ...SLOW], d);
    await waitUntil(() => existsSync(ckpt) || r.child.exitCode !== null, 'the first checkpoint');
    r.child.kill('SIGINT');
    const res = await r.done;
    expect(res.code, res.stderr).toBe(130);
    expect(res.signal).toBeNull();
    const heedLines = lines(res.stderr).filter((l) => l.startsWith('heed:'));
    expect(heedLines).toHaveLength(1);
    expect(lines(res.stderr).at(-1)).toBe(heedLines[0]);
    expect(heedLines[0]).toMatch(/^heed: interrupted\b.*model\.safetensors\.ckpt.*--resume.*model\.safetensors was not written$/);
    expect(res.stderr).not.toMatch(/^\s+at /m);
    expect(res.stdout).toBe('');
    expect(ls(d)).toEqual(['data.csv', 'model.safetensors.ckpt']);
  });

  it('as training starts: exit 130, and an existing model file is left alone', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), slowCsv());
    writeFileSync(join(d, 'model.safetensors'), MODEL);
    const r = start(['train', 'data.csv', ...SLOW], d);
    await waitUntil(() => r.stderr.includes('transformer model on') || r.child.exitCode !== null, 'the start of training');
    r.child.kill('SIGINT');
    const res = await r.done;
    expect(res.code, res.stderr).toBe(130);
    expect(lines(res.stderr).at(-1)).toMatch(/^heed: interrupted\b.*model\.safetensors was not written$/);
    expect(lines(res.stderr).filter((l) => l.startsWith('heed:'))).toHaveLength(1);
    expect(res.stderr).not.toMatch(/^\s+at /m);
    // A checkpoint only if an epoch ended before the signal arrived (and then the message says so).
    const files = ls(d);
    expect(files.filter((f) => f !== 'model.safetensors.ckpt')).toEqual(['data.csv', 'model.safetensors']);
    if (files.includes('model.safetensors.ckpt')) expect(res.stderr).toMatch(/epoch \d+ is saved in/);
    else expect(res.stderr).not.toMatch(/is saved in/);
    expect(readFileSync(join(d, 'model.safetensors')).equals(MODEL)).toBe(true);
  });
});
