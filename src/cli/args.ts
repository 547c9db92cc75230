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
  try {
    const r = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '');
    throw new UsageError(`${command}: ${msg}`);
  }
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
