// K1 (matmul) and K2 (attention forward + backward) on js, wasm-scalar and wasm, side by side.
// Usage: npm run bench [-- --quick] [-- --json]
import os from 'node:os';
import { formatTable, memoryFlatness, runBench } from '../dist/bench/run.js';
import { KERNEL_WORKLOADS, MODEL_WORKLOADS } from '../dist/bench/workloads.js';

const args = new Set(process.argv.slice(2));
const json = args.has('--json');
const rows = await runBench([...KERNEL_WORKLOADS, ...MODEL_WORKLOADS], {
  quick: args.has('--quick'),
  skipSlowJs: args.has('--quick'),
  log: json ? undefined : (l) => console.log(l),
});
const memory = await memoryFlatness(1000);
if (json) {
  console.log(JSON.stringify({ node: process.version, cpu: os.cpus()[0]?.model, rows, memory }, null, 2));
} else {
  console.log(`\nNode ${process.version}, ${os.cpus()[0]?.model}, ${os.cpus().length} cores\n`);
  console.log(formatTable(rows));
  const mb = (b) => (b / 2 ** 20).toFixed(2);
  console.log(`\nmemory over ${memory.steps} W1 train steps after the first: linear ${mb(memory.linearBefore)} → ${mb(memory.linearAfter)} MiB, ` +
    `JS heap ${mb(memory.heapBefore)} → ${mb(memory.heapAfter)} MiB${globalThis.gc ? '' : ' (run with --expose-gc for exact heap figures)'}`);
}
