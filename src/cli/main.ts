#!/usr/bin/env node
// heed's command line: train, eval, predict, explain, generate, bench. Exit 0 on success, 2 for a usage
// error, 1 for any other failure, 130 when interrupted; errors are one line on stderr.
import { HeedError } from '../errors.js';
import { UsageError } from './args.js';
import { printable } from './ui.js';

const USAGE = `heed — attention models on a WebAssembly SIMD core

usage:
  heed train <data.csv> [--task classify|tag|lm] [--context N] [--from DIR|MODEL-ID] [--model auto|pooling|transformer] [--epochs N]
             [--batch-size N] [--lr X] [--max-len N] [--tokenizer auto|ngram|word|char] [--seed N]
             [--val-split F] [--out FILE] [--label-col NAME] [--text-col NAME] [--delimiter C]
             [--patience N] [--resume] [--no-refit] [--weight-decay X] [--token-dropout F] [--d-model N] [--backend B]
             [--threads N] [--quiet]
  heed eval <model.safetensors> <data.csv | text.txt> [--json] [--label-col NAME] [--text-col NAME] [--delimiter C]
  heed predict <model.safetensors> [text ...] [--json]   (reads stdin lines when no text is given)
  heed explain <model.safetensors> <text> [--html FILE] [--json]
  heed export <model.safetensors> --hf <dir>   (a BERT-family model as a Hugging Face checkpoint)
  heed generate <model.safetensors> [--prompt TEXT] [-n N] [--temperature T] [--top-k K] [--top-p P]
             [--seed S] [--max-tokens M]   (a model from heed train --task lm; temperature <= 0: greedy)
  heed bench [--quick] [--json]

Run 'heed <command> --help' for a command's options.`;

export interface Io {
  stdout: { write(s: string): void; isTTY?: boolean };
  stderr: { write(s: string): void; isTTY?: boolean };
  stdin?: NodeJS.ReadableStream;
  cwd: string;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'train': return await (await import('./train.js')).train(rest, io);
      case 'eval': return await (await import('./eval.js')).evaluate(rest, io);
      case 'predict': return await (await import('./predict.js')).predict(rest, io);
      case 'explain': return await (await import('./explain.js')).explain(rest, io);
      case 'generate': return await (await import('./lm.js')).generate(rest, io);
      case 'bench': return await (await import('./bench.js')).bench(rest, io);
      case 'export': return await (await import('./export.js')).exportModel(rest, io);
      case undefined: case '-h': case '--help': case 'help':
        io.stdout.write(USAGE + '\n');
        return command === undefined ? 2 : 0;
      case '--version': case '-v':
        io.stdout.write(`heed ${await version()}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}' (expected train, eval, predict, explain, export, generate or bench)`);
    }
  } catch (e) {
    return report(e, io);
  }
}

export function report(e: unknown, io: Io): number {
  // One line, whatever the message holds (a label or a column name may contain a line break).
  const line = (s: string) => printable(s.replace(/\s*[\r\n]+\s*/g, ' ').trim());
  if (e instanceof UsageError) {
    io.stderr.write(`heed: ${line(e.message)}\nRun 'heed --help' for usage.\n`);
    return 2;
  }
  if (e instanceof HeedError) {
    io.stderr.write(`heed: ${line(e.message)}\n`);
    return 1;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && err.syscall) {
    const what = { ENOENT: 'no such file or directory', EACCES: 'permission denied', EISDIR: 'is a directory', ENOSPC: 'no space left on device', EROFS: 'read-only file system' }[err.code] ?? err.code;
    io.stderr.write(`heed: ${err.path ?? ''}${err.path ? ': ' : ''}${what}\n`);
    return 1;
  }
  io.stderr.write(`heed: internal error: ${line(String((e as Error)?.message ?? e))}${process.env.HEED_DEBUG ? `\n${(e as Error)?.stack}` : ' (set HEED_DEBUG=1 for a stack trace)'}\n`);
  return 1;
}

async function version(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

// Run when executed directly (the bin), not when imported by tests.
const { fileURLToPath } = await import('node:url');
const { realpathSync } = await import('node:fs');
const self = fileURLToPath(import.meta.url);
const invoked = process.argv[1] ? (() => { try { return realpathSync(process.argv[1]); } catch { return process.argv[1]; } })() : '';
if (invoked === self) {
  // A closed pipe (heed predict … | head -1) ends the output quietly, not with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
  const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd() });
  process.exitCode = code;
}
