// K1 (matmul) and K2 (attention forward + backward) on js, wasm-scalar and wasm, side by side.
// Usage: npm run bench [-- --quick] [-- --json]
import os from 'node:os';
import { formatTable, runBench } from '../dist/bench/run.js';
import { KERNEL_WORKLOADS } from '../dist/bench/workloads.js';

const args = new Set(process.argv.slice(2));
const json = args.has('--json');
const rows = await runBench(KERNEL_WORKLOADS, {
  quick: args.has('--quick'),
  skipSlowJs: args.has('--quick'),
  log: json ? undefined : (l) => console.log(l),
});
if (json) {
  console.log(JSON.stringify({ node: process.version, cpu: os.cpus()[0]?.model, rows }, null, 2));
} else {
  console.log(`\nNode ${process.version}, ${os.cpus()[0]?.model}, ${os.cpus().length} cores\n`);
  console.log(formatTable(rows));
}
