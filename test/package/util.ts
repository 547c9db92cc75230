// Helpers for the tests of the built package (npm run build first; npm test does it): where the
// files are, what a bundle entry loads, gzip sizes, and running node on a script.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BUNDLE = join(ROOT, 'dist/bundle');

export function requireBuild(): void {
  for (const f of ['dist/index.js', 'dist/infer.js', 'dist/bundle/heed.js', 'dist/bundle/infer.js', 'dist/bundle/worker.js', 'build/simd.wasm']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run npm run build (npm test does it first)`);
  }
}

/** Relative module specifiers of an ES module's source: static imports and re-exports, and
 *  (separately) import() calls. */
export function specifiers(code: string): { static: string[]; dynamic: string[]; bareStatic: string[] } {
  // A statement starts a line or follows a `;` (minified bundles put many on one line).
  const stat = [...code.matchAll(/(?:^|;)\s*import\s*['"]([^'"]+)['"]|(?:^|;)\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? m[2]);
  const dyn = [...code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
  return { static: stat.filter((s) => s.startsWith('.')), dynamic: dyn, bareStatic: stat.filter((s) => !s.startsWith('.')) };
}

/** Every file an entry loads: its static imports, transitively (what `import 'entry'` fetches);
 *  with `dynamic`, also what its import() calls of relative files would load. */
export function closure(entry: string, dynamic = false): string[] {
  const seen = new Set<string>(), stack = [resolve(entry)];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    const s = specifiers(readFileSync(f, 'utf8'));
    for (const spec of [...s.static, ...(dynamic ? s.dynamic.filter((d) => d.startsWith('.')) : [])]) stack.push(resolve(dirname(f), spec));
  }
  return [...seen];
}

export const gzipBytes = (file: string): number => gzipSync(readFileSync(file), { level: 9 }).length;

export interface Run { code: number | null; stdout: string; stderr: string }

/** Runs a command to completion (no shell), with a deadline. */
export function run(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); rej(new Error(`${cmd} ${args.join(' ')} timed out\n${stderr}`)); }, opts.timeoutMs ?? 60_000);
    child.on('error', (e) => { clearTimeout(timer); rej(e); });
    child.on('close', (code) => { clearTimeout(timer); res({ code, stdout, stderr }); });
  });
}
