// heed bench: the heed part of the benchmark suite (no dev dependencies), side by side on
// js, wasm-scalar and wasm, with rates and ratios; --quick for a short run, --json for machines.
import { formatTable, runBench } from '../bench/run.js';
import { KERNEL_WORKLOADS, MODEL_WORKLOADS } from '../bench/workloads.js';
import { parse } from './args.js';
import type { Io } from './main.js';

export async function bench(args: string[], io: Io): Promise<number> {
  const { values: v } = parse('bench', args, { quick: { type: 'boolean' }, json: { type: 'boolean' } });
  if (v.help) { io.stdout.write('usage: heed bench [--quick] [--json]\n'); return 0; }
  const rows = await runBench([...KERNEL_WORKLOADS, ...MODEL_WORKLOADS], {
    quick: !!v.quick, skipSlowJs: !!v.quick,
    log: v.json ? undefined : (l) => io.stderr.write(l + '\n'),
  });
  io.stdout.write(v.json ? JSON.stringify({ node: process.version, rows }) + '\n' : '\n' + formatTable(rows) + '\n');
  return 0;
}
