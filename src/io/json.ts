// A strict JSON reader for untrusted headers: unlike JSON.parse it rejects duplicate keys (which
// JSON.parse silently resolves to the last one), integers beyond 2^53 (which JSON.parse rounds),
// and nesting deeper than a small bound (no stack overflow). Errors are HeedErrors with a position.
import { HeedError } from '../errors.js';

const MAX_DEPTH = 32;

/** Cuts a text for an error message to `max` characters. */
export const cut = (t: string, max = 100): string => (t.length > max ? `${t.slice(0, max)}…` : t);

/** A string from an untrusted file as a JSON literal for a one-line error message (line breaks and
 *  control characters escaped, at most `max` characters kept). */
export const quote = (s: string, max = 80): string =>
  JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Any value from an untrusted file, as JSON on one line and cut to `max` characters. */
export function brief(v: unknown, max = 100): string {
  let t: string | undefined;
  try { t = JSON.stringify(v); } catch { /* a cycle or a BigInt: fall back to String */ }
  return cut((t ?? String(v)).replace(/[\u0000-\u001f\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`), max);
}

export function parseStrictJson(text: string, what: string): unknown {
  let i = 0;
  const fail = (msg: string): never => { throw new HeedError(`${what}: ${msg} at character ${i}`); };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = Object.create(null);
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const key = string();
        if (Object.prototype.hasOwnProperty.call(obj, key)) fail(`duplicate key ${quote(key)}`);
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj[key] = value(depth + 1);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(lit, i)) { i += lit.length; return v; }
    }
    return fail(i >= text.length ? 'unexpected end' : `unexpected character '${c}'`);
  };
  const string = (): string => {
    const start = i;
    // Find the closing quote, honouring escapes, then let JSON.parse decode the escapes.
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if (text.charCodeAt(i) < 0x20) fail('control character in string');
      i++;
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail('invalid string escape');
    }
  };
  const number = (): number => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('invalid number');
    i += m[0].length;
    const v = Number(m[0]);
    if (!m[2] && !m[3] && !Number.isSafeInteger(v)) fail(`integer ${m[0]} is beyond 2^53`);
    return v;
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}
