// Terminal output: a live progress line (stderr, redrawn in place on a TTY; one line per epoch
// otherwise), tables, durations and colours that switch off when NO_COLOR is set or not a TTY.
import type { EpochInfo, StepInfo } from '../train/loop.js';

export interface Out { write(s: string): void; isTTY?: boolean }

export const useColor = (o: Out): boolean => !!o.isTTY && !process.env.NO_COLOR && process.env.TERM !== 'dumb';

export function duration(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const t = Math.round(s), h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

export function bar(fraction: number, width: number): string {
  const f = Math.max(0, Math.min(1, fraction)), full = Math.floor(f * width);
  return '█'.repeat(full) + (full < width ? '░'.repeat(width - full) : '');
}

export class Progress {
  #last = 0;
  #active = false;
  constructor(private readonly out: Out) {}

  step(i: StepInfo): void {
    if (!this.out.isTTY) return;
    const now = Date.now();
    if (now - this.#last < 80 && i.step !== i.steps) return; // redraw at most ~12 times a second
    this.#last = now;
    const line = `epoch ${i.epoch}/${i.epochs} ${bar(i.step / i.steps, 24)} ${i.step}/${i.steps}` +
      `  loss ${i.loss.toFixed(4)}  acc ${(i.accuracy * 100).toFixed(1)}%  ${Math.round(i.seqPerSec)} seq/s  ETA ${duration(i.etaSeconds)}`;
    this.out.write(`\r\x1b[2K${line}`);
    this.#active = true;
  }

  epoch(e: EpochInfo, epochs: number): void {
    if (this.#active) this.out.write('\r\x1b[2K');
    this.#active = false;
    const val = e.valLoss !== undefined ? `  val loss ${e.valLoss.toFixed(4)}  val acc ${(e.valAccuracy! * 100).toFixed(1)}%` : '';
    this.out.write(`epoch ${e.epoch}/${epochs}  loss ${e.loss.toFixed(4)}  acc ${(e.accuracy * 100).toFixed(1)}%${val}  ${secs(e.seconds)}  ${Math.round(e.seqPerSec)} seq/s\n`);
  }

  clear(): void {
    if (this.#active) this.out.write('\r\x1b[2K');
    this.#active = false;
  }
}

/** Seconds for a table or a progress line: milliseconds below one second (a 0.0 says nothing). */
export function secs(s: number): string {
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`;
}

/** A plain text table with right-aligned numeric columns. */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => String(c)))];
  const w = head.map((_, j) => Math.max(...cells.map((r) => [...(r[j] ?? '')].length)));
  const line = (r: string[]) => r.map((c, j) => (j === 0 ? c.padEnd(w[j]) : c.padStart(w[j]))).join('  ').trimEnd();
  return [line(cells[0]), w.map((x) => '─'.repeat(x)).join('  '), ...cells.slice(1).map(line)].join('\n') + '\n';
}

/** Background colour for an attention weight in [0, 1] (truecolor), text unchanged. */
export function heat(text: string, w: number, color: boolean): string {
  if (!color) return text;
  const t = Math.max(0, Math.min(1, w));
  const r = 255, g = Math.round(255 - 155 * t), b = Math.round(255 - 235 * t);
  return `\x1b[48;2;${r};${g};${b}m\x1b[38;2;0;0;0m${text}\x1b[0m`;
}

/** A string from a file (a label, a column name) made safe for a terminal and for one line of
 *  tab-separated output: control characters (C0, DEL, C1 — among them ESC and CSI, which would
 *  start terminal escape sequences), tabs, line breaks and the Unicode line and paragraph
 *  separators become visible escapes such as \n, \t and \x1b. Other text is unchanged. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    const code = c.charCodeAt(0);
    return named[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`);
  });
}

/** JSON for stdout: JSON.stringify leaves DEL and the C1 controls (CSI among them) raw; escaped
 *  here as \u00XX, which any JSON reader decodes to the same string. */
export function jsonLine(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n';
}

/** Up to `max` items joined with ', ', then "and N more": a list that stays one short line
 *  however many labels a file has. */
export function summarise(items: readonly string[], max = 10): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${(items.length - max).toLocaleString('en')} more`;
}
