// Flag parsing on node:util parseArgs, with values checked and converted here so that a bad value
// is a usage error (exit 2) that names the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { checkDelimiter } from '../io/csv-parser.js';

/** A mistake in how heed was called: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parse(command: string, args: string[], options: Options): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const all: Options = { ...options, help: { type: 'boolean', short: 'h' } };
  try {
    const r = parseArgs({ args: attachValues(args, all), options: all, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    const err = e as Error & { code?: string };
    const flag = /option '(-[^' ]+)/i.exec(err.message)?.[1];
    // parseArgs' messages run over several lines; the CLI's errors are one line.
    const msg = err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag && all[flag.replace(/^-+/, '')]?.type === 'string'
      ? `option '${flag}' needs a value`
      : err.message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '').split('\n')[0];
    const guess = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag ? closest(flag.replace(/^-+/, '').split('=')[0], Object.keys(all)) : null;
    throw new UsageError(`${command}: ${msg}${guess ? ` (did you mean '--${guess}'?)` : ''}`);
  }
}

/** `--epochs -1` → `--epochs=-1`: a value starting with '-' (a negative number, say) goes to its
 *  flag, so the flag's own check reports it, unless it is itself one of the command's options. */
function attachValues(args: string[], options: Options): string[] {
  const shorts = new Set(Object.values(options).map((o) => o.short).filter((s): s is string => !!s));
  const isOption = (a: string) => a === '--' || (a.startsWith('--') ? Object.hasOwn(options, a.slice(2).split('=')[0]) : a.length === 2 && shorts.has(a[1]));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { out.push(...args.slice(i)); break; }
    const next = args[i + 1];
    if (a.startsWith('--') && !a.includes('=') && options[a.slice(2)]?.type === 'string' && next !== undefined && next.startsWith('-') && !isOption(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

export function intFlag(v: string | boolean | undefined, flag: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return dflt;
  const s = String(v).trim();
  const n = Number(s);
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer${max < Number.MAX_SAFE_INTEGER ? ` in [${min}, ${max}]` : ` ≥ ${min}`}, got '${String(v)}'`);
  }
  return n;
}

export function floatFlag(v: string | boolean | undefined, flag: string, dflt: number, ok: (x: number) => boolean, what: string): number {
  if (v === undefined) return dflt;
  const s = String(v).trim();
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${flag} must be ${what}, got '${String(v)}'`);
  return n;
}

export function choiceFlag<T extends string>(v: string | boolean | undefined, flag: string, dflt: T, choices: readonly T[]): T {
  if (v === undefined) return dflt;
  if (!choices.includes(v as T)) throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got '${String(v)}'`);
  return v as T;
}

/** The option name nearest to a mistyped one: within an edit distance of 2 (1 for short names), or
 *  the only option it is a prefix of; null when nothing is close. */
export function closest(name: string, options: readonly string[]): string | null {
  const lower = name.toLowerCase();
  let best: string | null = null, bestD = Infinity;
  for (const o of options) {
    const d = editDistance(lower, o);
    if (d < bestD) { best = o; bestD = d; }
  }
  if (best !== null && bestD <= (name.length <= 4 ? 1 : 2)) return best;
  const prefixed = lower.length >= 2 ? options.filter((o) => o.startsWith(lower)) : [];
  return prefixed.length === 1 ? prefixed[0] : null;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** --delimiter: one character or 'tab' (default ','). */
export function delimiterFlag(v: string | boolean | undefined): string {
  try {
    return checkDelimiter(v === undefined ? undefined : String(v), '--delimiter');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
