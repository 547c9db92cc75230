// Who imports whom reads top-down (issue 12, item 6): the runtime import graph of dist/ (what
// Node actually loads: tsc has dropped the type-only imports) has no cycle. A cycle makes a
// module's exports undefined while its partner is still evaluating, depending on which entry
// was loaded first.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, requireBuild, specifiers } from './util.js';

beforeAll(requireBuild);

const DIST = join(ROOT, 'dist');

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'bundle' ? [] : jsFiles(p);
    return e.name.endsWith('.js') ? [p] : [];
  });
}

/** The first cycle of static imports found, as a path of dist-relative files (null: none). */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>(), path: string[] = [];
  const visit = (f: string): string[] | null => {
    if (state.get(f) === 'done') return null;
    if (state.get(f) === 'open') return [...path.slice(path.indexOf(f)), f];
    state.set(f, 'open');
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      const c = visit(g);
      if (c) return c;
    }
    path.pop();
    state.set(f, 'done');
    return null;
  };
  for (const f of [...graph.keys()].sort()) {
    const c = visit(f);
    if (c) return c;
  }
  return null;
}

describe('the runtime import graph', () => {
  it('finds a cycle when there is one (the check is sound)', () => {
    expect(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]))).toBeNull();
  });

  it('of dist/ has no cycle of static imports', () => {
    const graph = new Map<string, string[]>();
    for (const f of jsFiles(DIST)) {
      const rel = relative(DIST, f);
      graph.set(rel, specifiers(readFileSync(f, 'utf8')).static.map((s) => relative(DIST, resolve(dirname(f), s))));
    }
    expect(graph.get('worker/run.js')).toBeDefined(); // the walk saw the tree
    expect(graph.get('index.js')!.length).toBeGreaterThan(3);
    expect(findCycle(graph)).toBeNull();
  });
});
