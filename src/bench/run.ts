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
  /** Sequences per second (train and inference workloads). */
  seqPerSec?: number;
  samples: number;
  /** This backend's speed over the js backend's on the same workload (undefined when js was skipped). */
  vsJs?: number;
}

export interface BenchOptions {
  /** Default: js, wasm-scalar, wasm, and wasm-relaxed where the host validates it. */
  backends?: BackendName[];
  quick?: boolean;
  /** Skip the js backend on workloads marked slow (it can take tens of seconds per call). */
  skipSlowJs?: boolean;
  log?: (line: string) => void;
}

export async function runBench(workloads: Workload[], options: BenchOptions = {}): Promise<BenchRow[]> {
  const relaxed = (await init({ backend: 'js' })).features.relaxedSimd;
  const backends = options.backends ?? ['js', 'wasm-scalar', 'wasm', ...(relaxed ? ['wasm-relaxed' as const] : [])];
  const log = options.log ?? (() => {});
  const rows: BenchRow[] = [];
  for (const w of workloads) {
    for (const backend of backends) {
      if (backend === 'js' && w.slow && options.skipSlowJs) continue;
      if (w.backends && !w.backends.includes(backend)) continue;
      // Start each row from a collected heap (node --expose-gc): V8's concurrent marking after an
      // earlier row's garbage would otherwise take the core that a data-parallel row's helper uses.
      (globalThis as { gc?: () => void }).gc?.();
      const h = await init({ backend });
      const { run, dispose } = await w.setup(h);
      const slowJs = backend === 'js' && w.slow;
      const bench = new Bench({
        time: options.quick ? 150 : 1000,
        iterations: slowJs ? 1 : options.quick ? 2 : 5,
        warmup: !slowJs,
        // A fresh helper worker starts on V8's baseline wasm code; a few steps let it tier up.
        warmupIterations: w.threads ? 3 : 1,
        warmupTime: options.quick ? 20 : 100,
        throws: true,
      });
      bench.add(`${w.name} ${backend}`, run);
      await bench.run();
      await dispose();
      const r = bench.tasks[0].result;
      if (!r || !('latency' in r)) throw new Error(`benchmark ${w.name} on ${backend} produced no result`);
      const ms = r.latency.p50 ?? r.latency.mean;
      const row: BenchRow = { id: w.id, name: w.name, backend, ms, gflops: w.flops / (ms * 1e6), samples: r.latency.samples?.length ?? 0 };
      if (w.sequences) row.seqPerSec = (w.sequences * 1000) / ms;
      rows.push(row);
      log(`${w.id.padEnd(3)} ${w.name.padEnd(40)} ${backend.padEnd(12)} ${ms.toFixed(3).padStart(10)} ms ${row.gflops.toFixed(2).padStart(8)} GFLOP/s` +
        (row.seqPerSec ? ` ${row.seqPerSec.toFixed(1).padStart(9)} seq/s ${(1000 / ms).toFixed(2).padStart(8)} steps/s` : ''));
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
  const out = [head, sep, ...lines].join('\n');
  const seqRows = rows.filter((r) => r.seqPerSec !== undefined);
  if (!seqRows.length) return out;
  const seqNames = [...new Set(seqRows.map((r) => r.name))];
  const head2 = `| id | workload | ${backends.map((b) => `${b} steps/s | ${b} seq/s`).join(' | ')} |`;
  const lines2 = seqNames.map((n) => {
    const rs = backends.map((b) => seqRows.find((r) => r.name === n && r.backend === b));
    return `| ${rs.find((r) => r)!.id} | ${n} | ${rs.map((r) => (r ? `${(1000 / r.ms).toFixed(2)} | ${r.seqPerSec!.toFixed(1)}` : '– | –')).join(' | ')} |`;
  });
  return [out, '', head2, head2.replace(/[^|]+/g, '---'), ...lines2].join('\n');
}

/** wasm-relaxed's speed over wasm's per workload, both from `rows` (one run). */
export function relaxedRatios(rows: BenchRow[]): { id: string; name: string; wasmMs: number; relaxedMs: number; speedup: number }[] {
  return rows.filter((r) => r.backend === 'wasm-relaxed').flatMap((r) => {
    const w = rows.find((x) => x.name === r.name && x.backend === 'wasm');
    return w ? [{ id: r.id, name: r.name, wasmMs: w.ms, relaxedMs: r.ms, speedup: w.ms / r.ms }] : [];
  });
}

/** Linear memory and JS heap across `steps` W1-sized training steps: both should stay flat. */
export async function memoryFlatness(steps: number): Promise<{ steps: number; linearBefore: number; linearAfter: number; heapBefore: number; heapAfter: number }> {
  const h = await init({ backend: 'wasm' });
  const model = h.attentionPoolingClassifier({ vocabSize: 128, dModel: 64, classes: 2, seed: 1 });
  const opt = h.adamwOptimizer(model, { lr: 1e-3, weightDecay: 0 });
  const B = 32, T = 64, tok = Int32Array.from({ length: B * T }, (_, i) => 1 + ((i * 7919) % 127)), labels = Int32Array.from({ length: B }, (_, i) => i % 2);
  const gc = (globalThis as { gc?: () => void }).gc;
  h.trainStep(model, opt, tok, [B, T], labels);
  gc?.();
  const linearBefore = h.memory().bytes, heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < steps; i++) h.trainStep(model, opt, tok, [B, T], labels);
  gc?.();
  const r = { steps, linearBefore, linearAfter: h.memory().bytes, heapBefore, heapAfter: process.memoryUsage().heapUsed };
  opt.dispose(); model.dispose();
  return r;
}
