// Helpers for the CLI's end-to-end tests: spawn the built binary (dist/cli/main.js) in a temporary
// directory with NO_COLOR=1, collect exit code, signal, stdout and stderr; a learnable synthetic
// dataset; directory listings to prove that a failed run left nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from '../util.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'dist/cli/main.js');

export interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

const env = (): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete e.HEED_DEBUG;
  delete e.FORCE_COLOR;
  return e;
};

/** A running `heed` process: its output so far, and a promise of how it ended. */
export interface Running {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  done: Promise<Result>;
}

const running = new Set<ChildProcess>();

export function start(args: string[], cwd: string, input?: string): Running {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '', stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  child.stdin!.on('error', () => { /* the child may exit without reading its input */ });
  child.stdin!.end(input ?? '');
  const done = new Promise<Result>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code, signal) => { running.delete(child); res({ code, signal, stdout, stderr }); });
  });
  return { child, get stdout() { return stdout; }, get stderr() { return stderr; }, done };
}

/** Runs `heed args...` in cwd to completion. */
export function heed(args: string[], cwd: string, input?: string): Promise<Result> {
  return start(args, cwd, input).done;
}

/** SIGKILLs whatever a failed test left running (only the children this file started). */
export function killAll(): void {
  for (const c of running) c.kill('SIGKILL');
}

export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const dirs: string[] = [];

/** A fresh temporary directory, removed by removeTempDirs(). */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'heed-cli-'));
  dirs.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Every entry of a directory, dotfiles included, sorted. */
export function ls(dir: string): string[] {
  return readdirSync(dir).sort();
}

export const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

/** Lines of the live progress ("epoch 3/8  loss …") as epoch numbers. */
export const epochLines = (stderr: string): number[] => [...stderr.matchAll(/^epoch (\d+)\/\d+ /gm)].map((m) => Number(m[1]));

export const WORDS = {
  sport: ['goal', 'match', 'team', 'coach', 'league', 'score', 'referee', 'stadium', 'striker', 'season'],
  food: ['bread', 'cheese', 'soup', 'recipe', 'oven', 'garlic', 'butter', 'salad', 'dessert', 'spice'],
  tech: ['server', 'kernel', 'compiler', 'laptop', 'network', 'browser', 'database', 'router', 'pixel', 'cache'],
} as const;
const FILLER = ['the', 'a', 'of', 'and', 'today', 'really', 'we', 'saw', 'new', 'very', 'with', 'this', 'was', 'good', 'after'];


/**
 * A label,sequence CSV of n rows in three balanced classes (food, sport, tech): each text is 6–10
 * words, at least two of them from its class's word list and the rest filler. With `noise`, that
 * share of the topic words comes from a random class instead (a harder task that overfits).
 */
export function synthCsv(n: number, seed = 1, noise = 0): string {
  const r = rng(seed), pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const labels = Object.keys(WORDS) as (keyof typeof WORDS)[];
  const rows = ['label,sequence'];
  for (let i = 0; i < n; i++) {
    const label = labels[i % labels.length];
    const len = 6 + Math.floor(r() * 5), words: string[] = [];
    for (let k = 0; k < len; k++) words.push(k < 2 || r() < 0.2 ? pick(WORDS[r() < noise ? pick(labels) : label]) : pick(FILLER));
    for (let k = words.length - 1; k > 0; k--) { const j = Math.floor(r() * (k + 1)); [words[k], words[j]] = [words[j], words[k]]; }
    rows.push(`${label},${words.join(' ')}`);
  }
  return rows.join('\n') + '\n';
}
