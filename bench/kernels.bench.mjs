// The reference workloads (K1 matmul, K2 attention forward + backward, W1/W2 train steps, I1/I2
// inference) on heed's js, wasm-scalar, wasm and wasm-relaxed backends and on TensorFlow.js's wasm and cpu
// backends, side by side in one process: for each workload heed's rows, then tfjs's, so that the
// rows compared are measured minutes apart at most.
// Usage: npm run bench [-- --quick] [-- --json] [-- --no-tfjs] [-- --only K1,W1]
//   --quick    shorter timing, and the js / tfjs-cpu runs of the slow workloads skipped
//   --json     one JSON object on stdout instead of the tables
//   --no-tfjs  heed's backends only (TensorFlow.js is a dev dependency; this needs none)
//   --only     workload ids to run, comma-separated (K1, K2, W1, W2, I1, I2)
import os from 'node:os';
import v8 from 'node:v8';

// Node 20 validates relaxed SIMD only behind this V8 flag (22+ have it on, and no longer know the
// flag); set before anything compiles, so that the wasm-relaxed rows run here too.
if (Number(process.versions.node.split('.')[0]) < 22) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');

const { formatTable, memoryFlatness, relaxedRatios, runBench } = await import('../dist/bench/run.js');
const { KERNEL_WORKLOADS, MODEL_WORKLOADS } = await import('../dist/bench/workloads.js');
const { init } = await import('../dist/index.js');
const { measureCeiling } = await import('./ceiling.mjs');

const argv = process.argv.slice(2);
const usage = 'usage: node bench/kernels.bench.mjs [--quick] [--json] [--no-tfjs] [--only K1,K2,W1,W2,I1,I2]';
let quick = false, json = false, tfjs = true, only;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--quick') quick = true;
  else if (a === '--json') json = true;
  else if (a === '--no-tfjs') tfjs = false;
  else if (a === '--only' || a.startsWith('--only=')) {
    const v = a === '--only' ? argv[++i] : a.slice('--only='.length);
    if (!v) { console.error(`--only needs a list of workload ids\n${usage}`); process.exit(2); }
    only = new Set(v.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean));
  } else { console.error(`unknown argument ${a}\n${usage}`); process.exit(2); }
}

const all = [...KERNEL_WORKLOADS, ...MODEL_WORKLOADS];
if (only) {
  const ids = new Set(all.map((w) => w.id));
  for (const id of only) if (!ids.has(id)) { console.error(`--only: unknown workload id ${id} (known: ${[...ids].join(', ')})\n${usage}`); process.exit(2); }
}
const workloads = all.filter((w) => !only || only.has(w.id));

// Imported only when asked for, so that --no-tfjs runs without the dev dependencies.
const tfjsBench = tfjs ? await import('./tfjs-workloads.mjs') : undefined;

const log = json ? undefined : (l) => console.log(l);
const started = performance.now();

// First make sure the tfjs models are heed's models: same weights ⇒ same logits and losses.
const tfjsCheck = tfjsBench ? await tfjsBench.checkTfjsBackends(await init({ backend: 'wasm' })) : undefined;
if (tfjsCheck && log) {
  const worst = (b) => Math.max(...Object.values(tfjsCheck[b]).flatMap((d) => Object.values(d)));
  log(`tfjs models against heed's with the same weights (logits, 3 train steps' losses, logits after): ` +
    Object.keys(tfjsCheck).map((b) => `tfjs-${b} max |Δ| ${worst(b).toExponential(1)}`).join(', '));
}

// The machine's f32x4 mul+add ceiling, before and after the workloads (a shared VM's clock drifts).
const ceilingBefore = await measureCeiling();
const rows = [], tfjsRows = [];
for (const w of workloads) {
  rows.push(...(await runBench([w], { quick, skipSlowJs: quick, log })));
  if (tfjsBench && !w.threads) tfjsRows.push(...(await tfjsBench.runTfjsBench([w], { quick, skipSlowCpu: quick, log })));
}
const memory = await memoryFlatness(1000);
const ceilingAfter = await measureCeiling();
const ceiling = { before: ceilingBefore, after: ceilingAfter };
const seconds = (performance.now() - started) / 1000;

/** Multi-threaded rows against the same workload on one thread, heed wasm (both from this run). */
const scaling = workloads.filter((w) => w.threads).map((w) => {
  const many = rows.find((r) => r.name === w.name && r.backend === 'wasm');
  const one = rows.find((r) => r.backend === 'wasm' && r.id === w.id && !workloads.find((x) => x.name === r.name)?.threads);
  return { id: w.id, name: w.name, threads: w.threads, ms: many?.ms, singleThreadMs: one?.ms, speedup: many && one ? one.ms / many.ms : undefined };
});

/** The relaxed-SIMD build against the plain SIMD one, workload by workload (one run). */
const relaxed = relaxedRatios(rows);

/** heed wasm's speed over each tfjs backend's, per workload (a ratio > 1: heed is faster). */
const ratios = tfjsBench
  ? workloads.filter((w) => !w.threads).map((w) => {
    const heed = rows.find((r) => r.name === w.name && r.backend === 'wasm');
    const tw = tfjsRows.find((r) => r.name === w.name && r.backend === 'tfjs-wasm');
    const tc = tfjsRows.find((r) => r.name === w.name && r.backend === 'tfjs-cpu');
    return {
      id: w.id, name: w.name,
      heedWasmMs: heed?.ms, tfjsWasmMs: tw?.ms, tfjsCpuMs: tc?.ms,
      vsTfjsWasm: heed && tw ? tw.ms / heed.ms : undefined,
      vsTfjsCpu: heed && tc ? tc.ms / heed.ms : undefined,
    };
  })
  : undefined;

const machine = { node: process.version, v8: process.versions.v8, cpu: os.cpus()[0]?.model, cores: os.cpus().length };
if (json) {
  console.log(JSON.stringify({
    ...machine, date: new Date().toISOString(), seconds,
    tfjs: tfjsBench ? { version: tfjsBench.tfjsVersion, backends: ['wasm', 'cpu'], checkAgainstHeed: tfjsCheck } : undefined,
    rows: [...rows, ...tfjsRows], ratios, relaxed, scaling, memory, ceilingGflops: ceiling,
  }, null, 2));
} else {
  console.log(`\nNode ${machine.node}, V8 ${machine.v8}, ${machine.cpu}, ${machine.cores} cores` +
    (tfjsBench ? `; TensorFlow.js ${tfjsBench.tfjsVersion}` : '') + `; ${seconds.toFixed(0)} s\n`);
  console.log(formatTable(rows));
  const k1 = rows.filter((r) => r.id === 'K1' && r.backend === 'wasm');
  const top = Math.max(ceiling.before, ceiling.after);
  console.log(`\nf32x4 mul+add ceiling of this machine (bench/ceiling.mjs): ${ceiling.before.toFixed(1)} GFLOP/s before the workloads, ${ceiling.after.toFixed(1)} after` +
    (k1.length ? `; heed wasm K1 at ${k1.map((r) => `${Math.round((100 * r.gflops) / top)}%`).join(' / ')} of ${top.toFixed(1)}` : ''));
  if (relaxed.length) {
    console.log('\nwasm-relaxed (f32x4.relaxed_madd) against wasm, same run: ' +
      relaxed.map((r) => `${r.id} ${r.name} ${r.speedup.toFixed(2)}×`).join(', '));
  }
  for (const sc of scaling) {
    if (sc.speedup !== undefined) {
      console.log(`\n${sc.id} data-parallel on heed wasm: ${sc.threads} threads ${(1000 / sc.ms).toFixed(2)} steps/s, 1 thread ${(1000 / sc.singleThreadMs).toFixed(2)} steps/s: ${sc.speedup.toFixed(2)}× (${os.cpus().length} cores)`);
    }
  }
  const mb = (b) => (b / 2 ** 20).toFixed(2);
  console.log(`\nmemory over ${memory.steps} W1 train steps after the first: linear ${mb(memory.linearBefore)} → ${mb(memory.linearAfter)} MiB, ` +
    `JS heap ${mb(memory.heapBefore)} → ${mb(memory.heapAfter)} MiB${globalThis.gc ? '' : ' (run with --expose-gc for exact heap figures)'}`);
  if (tfjsBench) {
    console.log(`\nheed wasm against TensorFlow.js ${tfjsBench.tfjsVersion} (tfjs-wasm: XNNPACK, one thread; tfjs-cpu: plain JS); ratio = tfjs ms ÷ heed ms\n`);
    console.log(formatTfjsTable(rows, tfjsRows, ratios));
  }
}

function formatTfjsTable(heedRows, tRows, rs) {
  const ms = (r) => (r ? r.ms.toFixed(3) + (r.cold ? '¹' : '') : '–');
  const gf = (r) => (r ? r.gflops.toFixed(2) : '–');
  const x = (v) => (v === undefined ? '–' : `${v >= 10 ? v.toFixed(1) : v.toFixed(2)}×`);
  const find = (list, name, backend) => list.find((r) => r.name === name && r.backend === backend);
  const head = '| id | workload | heed wasm ms | tfjs-wasm ms | tfjs-cpu ms | heed wasm GFLOP/s | tfjs-wasm GFLOP/s | tfjs-cpu GFLOP/s | heed wasm ÷ tfjs-wasm | heed wasm ÷ tfjs-cpu |';
  const lines = rs.map((r) => {
    const h = find(heedRows, r.name, 'wasm'), tw = find(tRows, r.name, 'tfjs-wasm'), tc = find(tRows, r.name, 'tfjs-cpu');
    return `| ${r.id} | ${r.name} | ${ms(h)} | ${ms(tw)} | ${ms(tc)} | ${gf(h)} | ${gf(tw)} | ${gf(tc)} | ${x(r.vsTfjsWasm)} | ${x(r.vsTfjsCpu)} |`;
  });
  const out = [head, head.replace(/[^|]+/g, '---'), ...lines];
  const seq = rs.filter((r) => find(heedRows, r.name, 'wasm')?.seqPerSec !== undefined);
  if (seq.length) {
    const head2 = '| id | workload | heed wasm steps/s | heed wasm seq/s | tfjs-wasm steps/s | tfjs-wasm seq/s | tfjs-cpu steps/s | tfjs-cpu seq/s |';
    const rate = (r) => (r ? `${(1000 / r.ms).toFixed(2)} | ${r.seqPerSec.toFixed(1)}` : '– | –');
    out.push('', head2, head2.replace(/[^|]+/g, '---'), ...seq.map((r) =>
      `| ${r.id} | ${r.name} | ${rate(find(heedRows, r.name, 'wasm'))} | ${rate(find(tRows, r.name, 'tfjs-wasm'))} | ${rate(find(tRows, r.name, 'tfjs-cpu'))} |`));
  }
  if (tRows.some((r) => r.cold)) out.push('', '¹ one cold call (tfjs-cpu calls of over 10 s; heed\'s js rows of the slow workloads are one timed call too)');
  return out.join('\n');
}
