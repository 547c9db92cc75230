// docs/api/ is TypeDoc's Markdown reference of heed and heed/infer (typedoc.json, `npm run docs`),
// committed so users read it on the repository and in the package. These tests fail when it is
// stale (TypeDoc run afresh gives other files) and when a runtime export of either entry is
// missing from it.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { requireBuild, ROOT, run } from '../package/util.js';

const DOCS = join(ROOT, 'docs/api');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name))).sort();
let out = '';
afterAll(() => { if (out) rmSync(out, { recursive: true, force: true }); });

describe('docs/api (TypeDoc)', () => {
  it('is what TypeDoc generates from the sources today (run npm run docs when this fails)', async () => {
    out = mkdtempSync(join(tmpdir(), 'heed-typedoc-'));
    const r = await run(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--out', out], { cwd: ROOT, timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/\[warning\]|\[error\]/);
    expect(files(DOCS), 'docs/api holds other files than TypeDoc writes: npm run docs').toEqual(files(out));
    for (const f of files(out)) {
      expect(readFileSync(join(DOCS, f), 'utf8'), `docs/api/${f} is stale: npm run docs`).toBe(readFileSync(join(out, f), 'utf8'));
    }
  }, 150_000);

  it.each([['heed', 'dist/bundle/heed.js', 'heed.md'], ['heed/infer', 'dist/bundle/infer.js', 'heed/infer.md']])(
    'documents every runtime export of %s', async (_, bundle, page) => {
      requireBuild();
      const names = Object.keys(await import(pathToFileURL(join(ROOT, bundle)).href));
      expect(names.length).toBeGreaterThan(5);
      const md = readFileSync(join(DOCS, page), 'utf8');
      const documented = new Set([...md.matchAll(/^### (\w+)(?:\(\))?$/gm)].map((m) => m[1]));
      expect(names.filter((n) => !documented.has(n))).toEqual([]);
    });

  it('names the types users meet: loadModel gives a TokenizerJSON, Tokenizer.fromJSON is described', () => {
    const md = readFileSync(join(DOCS, 'heed.md'), 'utf8');
    expect(md).toMatch(/loadModel\(bytes\): LoadedModel & \{\n\s+tokenizer: TokenizerJSON \| null;\n\s*\}/);
    expect(md).toMatch(/##### fromJSON\(\)[\s\S]{0,400}A tokenizer from its JSON form/);
    expect(md).not.toMatch(/shared\//);
  });
});
