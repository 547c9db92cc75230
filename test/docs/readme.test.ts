// The README's TypeScript/JavaScript examples, run as they are against the built package: each
// ```ts or ```js block is written to a file in an empty folder where `heed` resolves to this
// package (node_modules/heed → the repository, so its exports map and dist/ are what users get)
// and run with node. A block that needs a model file finds model.safetensors there, made by
// `heed train` on the example data.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuild, ROOT, run } from '../package/util.js';

/** The ```ts / ```js blocks of a Markdown text, with the line each starts on. */
export function codeBlocks(markdown: string): { line: number; code: string }[] {
  const blocks: { line: number; code: string }[] = [];
  for (const m of markdown.matchAll(/^```(?:ts|js|typescript|javascript)\n([\s\S]*?)^```$/gm)) {
    blocks.push({ line: markdown.slice(0, m.index).split('\n').length, code: m[1] });
  }
  return blocks;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = codeBlocks(README);
let dir = '';

beforeAll(async () => {
  requireBuild();
  dir = mkdtempSync(join(tmpdir(), 'heed-readme-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'heed'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'readme-examples', type: 'module', private: true }));
  const made = await run(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'train', join(ROOT, 'examples/fortunes5.csv'),
    '--epochs', '2', '--quiet', '--out', 'model.safetensors'], { cwd: dir, timeoutMs: 60_000 });
  expect(made.code, made.stderr).toBe(0);
}, 90_000);

afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('README.md examples', () => {
  it('finds the examples (an extraction that finds none would pass vacuously)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const b of blocks) expect(b.code, `README.md line ${b.line}`).toMatch(/^import .* from 'heed(\/infer)?';$/m);
  });

  it.each(blocks.map((b) => [b.line, b.code] as const))('the example at README.md line %i runs and prints', async (line, code) => {
    const file = join(dir, `example-${line}.mjs`);
    writeFileSync(file, code);
    const r = await run(process.execPath, [file], { cwd: dir, timeoutMs: 60_000 });
    expect(r.stderr, `README.md line ${line}`).toBe('');
    expect(r.code, `README.md line ${line}`).toBe(0);
    expect(r.stdout.trim(), `README.md line ${line} printed nothing`).not.toBe('');
  }, 70_000);
});
