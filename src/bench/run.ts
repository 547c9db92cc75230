// Runs workloads on several backends side by side in one process with tinybench and reports
// rates and ratios against the js backend. Ratios from one run are what we quote: the machine
// is shared and absolute rates drift from run to run.
import { Bench } from 'tinybench';
import type { BackendName } from '../backends/backend.js';
import { init } from '../index.js';
import type { Workload } from './workloads.js';

export interface BenchRow {
  id: string;
  name: string;
  backend: BackendName;
  /** Median milliseconds per call. */
  ms: number;
  gflops: number;
  samples: number;
  /** This backend's speed over the js backend's on the same workload (undefined when js was skipped). */
  vsJs?: number;
}

export interface BenchOptions {
  backends?: BackendName[];
  quick?: boolean;
  /** Skip the js backend on workloads marked slow (it can take tens of seconds per call). */
  skipSlowJs?: boolean;
  log?: (line: string) => void;
}

export async function runBench(workloads: Workload[], options: BenchOptions = {}): Promise<BenchRow[]> {
  const backends = options.backends ?? ['js', 'wasm-scalar', 'wasm'];
  const log = options.log ?? (() => {});
  const rows: BenchRow[] = [];
  for (const w of workloads) {
    for (const backend of backends) {
      if (backend === 'js' && w.slow && options.skipSlowJs) continue;
      const h = await init({ backend });
      const { run, dispose } = w.setup(h);
      const slowJs = backend === 'js' && w.slow;
      const bench = new Bench({
        time: options.quick ? 150 : 1000,
        iterations: slowJs ? 1 : options.quick ? 2 : 5,
        warmup: !slowJs,
        warmupIterations: 1,
        warmupTime: options.quick ? 20 : 100,
        throws: true,
      });
      bench.add(`${w.name} ${backend}`, run);
      await bench.run();
      dispose();
      const r = bench.tasks[0].result;
      if (!r || !('latency' in r)) throw new Error(`benchmark ${w.name} on ${backend} produced no result`);
      const ms = r.latency.p50 ?? r.latency.mean;
      const row: BenchRow = { id: w.id, name: w.name, backend, ms, gflops: w.flops / (ms * 1e6), samples: r.latency.samples?.length ?? 0 };
      rows.push(row);
      log(`${w.id.padEnd(3)} ${w.name.padEnd(36)} ${backend.padEnd(12)} ${ms.toFixed(3).padStart(10)} ms ${row.gflops.toFixed(2).padStart(8)} GFLOP/s`);
    }
    const js = rows.find((r) => r.name === w.name && r.backend === 'js');
    if (js) for (const r of rows) if (r.name === w.name) r.vsJs = js.ms / r.ms;
  }
  return rows;
}

/** A Markdown table: one line per workload, one column group per backend. */
export function formatTable(rows: BenchRow[]): string {
  const backends = [...new Set(rows.map((r) => r.backend))];
  const names = [...new Set(rows.map((r) => r.name))];
  const head = `| id | workload | ${backends.map((b) => `${b} ms | ${b} GFLOP/s`).join(' | ')} | ${backends.filter((b) => b !== 'js').map((b) => `${b} ÷ js`).join(' | ')} |`;
  const sep = head.replace(/[^|]+/g, '---');
  const lines = names.map((n) => {
    const rs = backends.map((b) => rows.find((r) => r.name === n && r.backend === b));
    const id = rs.find((r) => r)!.id;
    const cells = rs.map((r) => (r ? `${r.ms.toFixed(3)} | ${r.gflops.toFixed(2)}` : '– | –'));
    const ratios = rs.filter((_, i) => backends[i] !== 'js').map((r) => (r?.vsJs ? `${r.vsJs.toFixed(1)}×` : '–'));
    return `| ${id} | ${n} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`;
  });
  return [head, sep, ...lines].join('\n');
}
