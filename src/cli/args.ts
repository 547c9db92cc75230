// Flag parsing on node:util parseArgs, with values checked and converted here so that a bad value
// is a usage error (exit 2) that names the flag.
import { parseArgs, type ParseArgsConfig } from 'node:util';

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
    const flag = /Option '(-[^' ]+)/.exec(err.message)?.[1];
    // parseArgs' messages run over several lines; the CLI's errors are one line.
    const msg = err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag && all[flag.replace(/^-+/, '')]?.type === 'string'
      ? `option '${flag}' needs a value`
      : err.message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '').split('\n')[0];
    throw new UsageError(`${command}: ${msg}`);
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
