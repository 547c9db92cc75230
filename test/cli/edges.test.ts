// Issue 11's command-line edges, end to end on the built binary: what --out may replace, signals
// and checkpoints on a long run, streaming predict, empty and over-long texts, TSV input, help and
// "did you mean", labels that hold control characters, and long label lists. `npm run build` first.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/io/checkpoint.js';
import { layoutFor } from '../../src/nn/registry.js';
import { BIN, epochLines, heed, killAll, lines, ls, removeTempDirs, start, synthCsv, tempDir, waitUntil, type Result } from './util.js';

let MODEL: Buffer;

beforeAll(async () => {
  expect(existsSync(BIN), 'run `npm run build` first').toBe(true);
  const d = tempDir();
  writeFileSync(join(d, 'data.csv'), synthCsv(150, 3));
  const r = await heed(['train', 'data.csv', '--epochs', '2', '--quiet', '--tokenizer', 'word'], d);   // one token per word: the tests count them
  expect(r.code, r.stderr).toBe(0);
  MODEL = readFileSync(join(d, 'model.safetensors'));
});
afterEach(() => killAll());
afterAll(() => removeTempDirs());

function oneErrorLine(r: Result, code: number, ...mention: string[]): void {
  expect(r.code, r.stderr).toBe(code);
  const err = lines(r.stderr).filter((l) => l.startsWith('heed:'));
  expect(err, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  for (const m of mention) expect(err[0]).toContain(m);
}

describe('--out replaces only a regular file, and never an input', () => {
  it('refuses a FIFO, a symbolic link, a device, the input CSV and a path ending in a slash', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), synthCsv(60, 1));
    const csv = readFileSync(join(d, 'data.csv'));
    execFileSync('mkfifo', [join(d, 'pipe')]);
    writeFileSync(join(d, 'target'), 'precious');
    symlinkSync(join(d, 'target'), join(d, 'link'));
    mkdirSync(join(d, 'sub'));
    const cases: [string, string[]][] = [
      ['pipe', ['named pipe']], ['link', ['symbolic link']], ['/dev/null', ['device']],
      ['data.csv', ['input file']], ['./data.csv', ['input file']], ['sub/missing/', ['names a directory']],
    ];
    for (const [out, mention] of cases) {
      const r = await heed(['train', 'data.csv', '--epochs', '1', '--quiet', '--out', out], d);
      oneErrorLine(r, 1, '--out', ...mention);
    }
    expect(lstatSync(join(d, 'pipe')).isFIFO()).toBe(true);
    expect(lstatSync(join(d, 'link')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(d, 'target'), 'utf8')).toBe('precious');
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(readFileSync(join(d, 'data.csv')).equals(csv)).toBe(true);
    expect(ls(join(d, 'sub'))).toEqual([]);
    // The checkpoint beside --out obeys the same rule.
    execFileSync('mkfifo', [join(d, 'm.safetensors.ckpt')]);
    oneErrorLine(await heed(['train', 'data.csv', '--epochs', '1', '--quiet', '--out', 'm.safetensors'], d), 1, 'm.safetensors.ckpt', 'named pipe');
    // explain --html may not overwrite the model it reads.
    writeFileSync(join(d, 'model.safetensors'), MODEL);
    oneErrorLine(await heed(['explain', 'model.safetensors', 'goal', '--html', 'model.safetensors'], d), 1, '--html', 'input file');
    expect(readFileSync(join(d, 'model.safetensors')).equals(MODEL)).toBe(true);
  });

  it('removes the temporaries a killed run left beside --out and its checkpoint', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), synthCsv(60, 1));
    const dead = 2 ** 22 + 12345; // above Linux's pid_max: no such process
    const stale = [`.model.safetensors.${dead}.abc123.tmp`, `.model.safetensors.ckpt.${dead}.abc124.tmp`];
    for (const f of stale) writeFileSync(join(d, f), 'half a file');
    writeFileSync(join(d, '.model.safetensors.notes'), 'not ours'); // not a temporary's name: kept
    const r = await heed(['train', 'data.csv', '--epochs', '1', '--quiet'], d);
    expect(r.code, r.stderr).toBe(0);
    expect(ls(d)).toEqual(['.model.safetensors.notes', 'data.csv', 'model.safetensors']);
  });
});

// A small task whose epochs take about a millisecond: a long run is many epochs, not big ones.
const LONG = ['--epochs', '50000', '--patience', '0', '--val-split', '0.2', '--no-refit', '--tokenizer', 'word', '--model', 'pooling'];

describe('a long run: bounded checkpoints, prompt signals, resumable', () => {
  it('the checkpoint does not grow with the epoch count; SIGTERM mid-run exits 130 within a second or two and the run resumes', { timeout: 120_000 }, async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.csv'), synthCsv(60, 1));
    const ckpt = join(d, 'model.safetensors.ckpt');
    const r = start(['train', 'data.csv', ...LONG], d);
    // Checkpoints are written at most once a second: poll the file until it holds the epochs wanted.
    const onDisk = () => { try { return decodeCheckpoint(readFileSync(ckpt), ckpt, layoutFor).epoch; } catch { return 0; } };
    await waitUntil(() => onDisk() >= 200 || r.child.exitCode !== null, 'a checkpoint of epoch 200 or later', 60_000);
    const early = statSync(ckpt).size, at = onDisk();
    await waitUntil(() => onDisk() >= at + 1500 || r.child.exitCode !== null, '1,500 more epochs on disk', 90_000);
    const later = statSync(ckpt).size;
    // Before: every epoch's row went into the checkpoint (~150 bytes each).
    expect(later - early).toBeLessThan(2000);
    const t0 = Date.now();
    r.child.kill('SIGTERM');
    const res = await r.done;
    const waited = Date.now() - t0;
    expect(res.code, res.stderr).toBe(130);
    expect(waited).toBeLessThan(2000);
    expect(lines(res.stderr).at(-1)).toMatch(/^heed: interrupted; epoch (\d+) is saved in .*model\.safetensors\.ckpt \(continue with --resume\); .*model\.safetensors was not written$/);
    const saved = Number(/epoch (\d+) is saved/.exec(res.stderr)![1]);
    expect(saved).toBeGreaterThanOrEqual(at + 1500);
    const c = decodeCheckpoint(readFileSync(ckpt), ckpt, layoutFor);
    expect(c.epoch).toBe(saved);
    expect(c.history.length).toBeLessThanOrEqual(101);
    expect(ls(d)).toEqual(['data.csv', 'model.safetensors.ckpt']); // no temporary left
    // Resumable: the next run continues after the saved epoch.
    const r2 = start(['train', 'data.csv', ...LONG, '--resume'], d);
    await waitUntil(() => epochLines(r2.stderr).length > 0 || r2.child.exitCode !== null, 'a resumed epoch', 60_000);
    expect(epochLines(r2.stderr)[0]).toBe(saved + 1);
    r2.child.kill('SIGINT');
    expect((await r2.done).code).toBe(130);
  });

  it('SIGINT while the CSV is still being read: exit 130 at once, nothing written', async () => {
    const d = tempDir();
    const row = 'food,garlic soup with butter and bread and a long tail of words to make the file big\n';
    writeFileSync(join(d, 'big.csv'), 'label,sequence\n' + row.repeat(400_000)); // 34 MB: a few seconds to read
    const r = start(['train', 'big.csv', '--epochs', '1'], d);
    // Wait until heed has the CSV open (it is then reading it, chunk by chunk).
    const reading = () => { try { return readdirSync(`/proc/${r.child.pid}/fd`).some((f) => { try { return readlinkSync(`/proc/${r.child.pid}/fd/${f}`).endsWith('big.csv'); } catch { return false; } }); } catch { return false; } };
    await waitUntil(() => reading() || r.child.exitCode !== null, 'heed to open the CSV', 20_000);
    const t0 = Date.now();
    r.child.kill('SIGINT');
    const res = await r.done;
    expect(res.code, res.stderr).toBe(130);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(lines(res.stderr).at(-1)).toMatch(/^heed: interrupted; .*model\.safetensors was not written$/);
    expect(ls(d)).toEqual(['big.csv']);
  });
});

describe('predict streams stdin', () => {
  it('answers each line as it arrives, before stdin ends', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'model.safetensors'), MODEL);
    const child = spawn(process.execPath, [BIN, 'predict', 'model.safetensors'], { cwd: d, env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    try {
      child.stdin.write('garlic soup with bread\n');
      await waitUntil(() => lines(out).length === 1, 'the first answer while stdin is open', 20_000);
      child.stdin.write('the striker scored a goal\n');
      await waitUntil(() => lines(out).length === 2, 'the second answer', 20_000);
      child.stdin.end();
      const code = await new Promise((res) => child.on('close', res));
      expect(code).toBe(0);
      expect(lines(out).map((l) => l.split('\t')[2])).toEqual(['garlic soup with bread', 'the striker scored a goal']);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('reads 40 MB of input (a line with no end among ordinary ones) in a 48 MB heap', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'model.safetensors'), MODEL);
    const input = 'soup\n' + 'goal '.repeat(8e6) + '\nbread and cheese\n';
    const child = spawn(process.execPath, ['--max-old-space-size=48', BIN, 'predict', 'model.safetensors'], { cwd: d, env: { ...process.env, NO_COLOR: '1' } });
    let out = '', err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
    const code = await new Promise((res) => child.on('close', res));
    expect(code, err).toBe(0);
    const rows = lines(out).map((l) => l.split('\t'));
    expect(rows).toHaveLength(3);
    expect(rows[0][2]).toBe('soup');
    expect(rows[2][2]).toBe('bread and cheese');
    expect(err).toMatch(/^heed: line 2 has more than 4096 tokens; only the first 4096 were read$/m);
  });

  it('a directory as stdin is an error, not an empty input', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'model.safetensors'), MODEL);
    const fd = openSync(d, 'r');
    try {
      const child = spawn(process.execPath, [BIN, 'predict', 'model.safetensors'], { cwd: d, stdio: [fd, 'pipe', 'pipe'] });
      let err = '';
      child.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s; });
      const code = await new Promise((res) => child.on('close', res));
      expect(code).toBe(1);
      expect(err).toMatch(/^heed: predict: stdin is a directory/);
    } finally {
      closeSync(fd);
    }
  });
});

describe('empty and over-long texts', () => {
  it('predict gives no prediction for an empty text; explain refuses one', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'model.safetensors'), MODEL);
    const p = await heed(['predict', 'model.safetensors', '', 'goal'], d);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout.split('\n')[0]).toBe('\t\t');
    expect(p.stdout.split('\n')[1]).toMatch(/^\w+\t0\.\d{4}\tgoal$/);
    const s = await heed(['predict', 'model.safetensors', '--json'], d, 'goal\n\n   \n');
    const rows = lines(s.stdout).map((l) => JSON.parse(l) as { label: string | null; error?: string });
    expect(rows.map((r) => r.label === null)).toEqual([false, true, true]);
    expect(rows[1].error).toBe('no tokens');
    const x = await heed(['explain', 'model.safetensors', '  '], d);
    oneErrorLine(x, 1, 'no tokens');
  });

  it('predict and explain say when a text is longer than the model reads', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'model.safetensors'), MODEL);
    const long = 'goal '.repeat(5000);
    const p = await heed(['predict', 'model.safetensors', long, 'goal'], d);
    expect(p.code).toBe(0);
    expect(lines(p.stderr)).toEqual(['heed: text 1 has more than 4096 tokens; only the first 4096 were read']);
    const j = await heed(['predict', 'model.safetensors', '--json', long, 'goal'], d);
    expect(lines(j.stdout).map((l) => (JSON.parse(l) as { truncated: boolean }).truncated)).toEqual([true, false]);
    const x = await heed(['explain', 'model.safetensors', long, '--html', 'p.html'], d);
    expect(x.code, x.stderr).toBe(0);
    expect(x.stdout).toContain('note: the text has more than 4096 tokens; only the first 4096 were read');
    expect(readFileSync(join(d, 'p.html'), 'utf8')).toContain('only its first 4096 tokens were used');
  });
});

describe('TSV input', () => {
  const tsv = synthCsv(90, 2).replace(/,/g, '\t').replace('food\t', 'food\t"quoted" ');
  it('without --delimiter: one line saying the file is tab-separated and how to read it', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.tsv'), tsv);
    oneErrorLine(await heed(['train', 'data.tsv', '--quiet'], d), 1, 'data.tsv', 'tabs', '--delimiter tab');
    writeFileSync(join(d, 'plain.tsv'), synthCsv(90, 2).replace(/,/g, '\t'));
    const r = await heed(['train', 'plain.tsv', '--quiet'], d);
    oneErrorLine(r, 1, 'plain.tsv:1', '--delimiter tab');
    expect(r.stderr).not.toContain('--label-col');
  });
  it('with --delimiter tab: trains, and eval reads it too', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'data.tsv'), synthCsv(90, 2).replace(/,/g, '\t'));
    const r = await heed(['train', 'data.tsv', '--delimiter', 'tab', '--epochs', '1', '--quiet'], d);
    expect(r.code, r.stderr).toBe(0);
    const e = await heed(['eval', 'model.safetensors', 'data.tsv', '--delimiter', 'tab', '--json'], d);
    expect(e.code, e.stderr).toBe(0);
    expect((JSON.parse(e.stdout) as { n: number }).n).toBe(90);
    oneErrorLine(await heed(['train', 'data.tsv', '--delimiter', 'ab'], d), 2, '--delimiter');
  });
});

describe('help and flags', () => {
  it('heed --help lists every train flag', async () => {
    const r = await heed(['--help'], tempDir());
    for (const f of ['--threads', '--no-refit', '--weight-decay', '--token-dropout', '--d-model', '--json', '--delimiter', '--resume', '--patience']) {
      expect(r.stdout, f).toContain(f);
    }
  });
  it('an unknown flag gets a "did you mean"', async () => {
    const d = tempDir();
    const r = await heed(['train', 'data.csv', '--epoch', '3'], d);
    oneErrorLine(r, 2, "--epoch", "did you mean '--epochs'?");
    oneErrorLine(await heed(['train', 'data.csv', '--weightdecay', '1'], d), 2, "did you mean '--weight-decay'?");
    oneErrorLine(await heed(['predict', 'm', '--jsno'], d), 2, "did you mean '--json'?");
    const far = await heed(['train', 'data.csv', '--banana'], d);
    oneErrorLine(far, 2, '--banana');
    expect(far.stderr).not.toContain('did you mean');
  });
});

describe('labels are escaped', () => {
  it('a label with a line break or terminal escapes prints as visible escapes, one line per text', async () => {
    const d = tempDir();
    const rows = ['label,sequence'];
    for (let i = 0; i < 60; i++) rows.push(i % 2 ? `"two\nlines",goal match team ${i}` : `"\x1b[31mred\x1b[0m\u009b",soup bread oven ${i}`);
    writeFileSync(join(d, 'data.csv'), rows.join('\n') + '\n');
    const t = await heed(['train', 'data.csv', '--epochs', '3'], d);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toContain('\\x1b[31mred\\x1b[0m\\x9b: 30');
    expect(t.stderr).toContain('two\\nlines: 30');
    const p = await heed(['predict', 'model.safetensors', 'goal match', 'soup bread'], d);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).not.toMatch(/[\x1b\u009b]/);
    const out = lines(p.stdout).map((l) => l.split('\t'));
    expect(out.map((f) => f.length)).toEqual([3, 3]);
    expect(out.map((f) => f[0]).sort()).toEqual(['\\x1b[31mred\\x1b[0m\\x9b', 'two\\nlines']);
    const j = await heed(['predict', 'model.safetensors', '--json', 'soup bread'], d);
    expect(j.stdout).not.toMatch(/[\x1b\u009b]/);
    expect(lines(j.stdout)).toHaveLength(1);
    const e = await heed(['eval', 'model.safetensors', 'data.csv'], d);
    expect(e.stdout).not.toMatch(/[\x1b\u009b]/);
    const x = await heed(['explain', 'model.safetensors', 'soup bread'], d);
    expect(x.stdout).not.toMatch(/[\x1b\u009b]/);
  });

  it('eval on a 400-class model: per-class rows, the confusion matrix as its non-zero cells, in bounded memory', async () => {
    const d = tempDir();
    const rows = ['label,sequence'];
    for (let i = 0; i < 800; i++) rows.push(`c${i % 400},w${i % 400} common`);
    writeFileSync(join(d, 'data.csv'), rows.join('\n') + '\n');
    expect((await heed(['train', 'data.csv', '--epochs', '1', '--no-refit', '--quiet'], d)).code).toBe(0);
    const e = await heed(['eval', 'model.safetensors', 'data.csv'], d);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain('confusion matrix not shown for 400 classes (--json lists its non-zero cells)');
    const j = await heed(['eval', 'model.safetensors', 'data.csv', '--json'], d);
    const o = JSON.parse(j.stdout) as { confusion: unknown; confusionCells: [number, number, number][]; classes: unknown[] };
    expect(o.confusion).toBeNull();
    expect(o.classes).toHaveLength(400);
    expect(o.confusionCells.reduce((a, c) => a + c[2], 0)).toBe(800);
    expect(j.stdout.length).toBeLessThan(200_000); // not 400² cells
  });

  it('a file with hundreds of labels gets a one-line summary, not every label', async () => {
    const d = tempDir();
    const rows = ['label,sequence'];
    for (let i = 0; i < 600; i++) rows.push(`class${i % 300},word${i % 300} common`);
    writeFileSync(join(d, 'data.csv'), rows.join('\n') + '\n');
    const r = await heed(['train', 'data.csv', '--epochs', '1', '--no-refit'], d);
    expect(r.code, r.stderr).toBe(0);
    const line = lines(r.stderr).find((l) => l.startsWith('600 rows'))!;
    expect(line).toMatch(/^600 rows, 300 classes \(class0: 2, .* and 290 more\)$/);
    expect(line.length).toBeLessThan(200);
  });
});
