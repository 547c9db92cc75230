// The installed package runs every command with its `dependencies` alone (issue 11, item 12:
// `npx heed bench` failed because tinybench was a dev dependency). Walks the import graph of the
// built bin (dist/cli/main.js, static and dynamic imports) and checks that every bare specifier
// it reaches is a Node built-in or a package in package.json's dependencies.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from './util.js';

function bareImports(entry: string): Map<string, string> {
  const seen = new Set<string>(), bare = new Map<string, string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    // (a `from` right after a quote, a dot or a dash is text or a property: 'from', v.from, --from)
    for (const m of src.matchAll(/(?:(?<!['".\w-])from\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      const spec = m[1];
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (existsSync(target)) todo.push(target);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        bare.set(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0], file);
      }
    }
  }
  return bare;
}

describe('the bin needs only the package dependencies', () => {
  it('every package the CLI imports (heed bench included) is in dependencies, not devDependencies', () => {
    expect(existsSync(BIN), 'run `npm run build` first').toBe(true);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    const deps = Object.keys(pkg.dependencies ?? {});
    const used = bareImports(BIN);
    expect(used.has('tinybench'), 'heed bench runs on tinybench').toBe(true);
    const missing = [...used].filter(([name]) => !deps.includes(name)).map(([name, file]) => `${name} (imported by ${file.slice(ROOT.length + 1)})`);
    expect(missing).toEqual([]);
  });
});
