// heed in the browser: paste or open a CSV, train an attention classifier in a Web Worker (heed.fit)
// with a live loss/accuracy chart, then type text to see the prediction and the attention over its
// tokens; download the model as .safetensors and load one back. No framework and no build step:
// this module imports the library's browser bundle as it is (run `npm run build` first, then
// `node examples/browser/serve.mjs`).
//
// ?backend=wasm-scalar (or wasm, js) in the URL picks heed's backend; the default is the SIMD
// WebAssembly core, falling back to the scalar build where the browser lacks SIMD.
//
// window.heedApp exposes a little state for the end-to-end test (test/browser/app.test.ts).
import { indexLabels, init, loadClassifier, stratifiedSplit, Tokenizer } from '../../dist/bundle/heed.js';

const $ = (id) => document.getElementById(id);
const el = {
  error: $('error'), frames: $('frames'), spinner: $('spinner'), backend: $('backend'), backendSelect: $('backend-select'),
  csv: $('csv'), csvFile: $('csv-file'), loadExample: $('load-example'), dataInfo: $('data-info'),
  kind: $('model-kind'), tokenizer: $('tokenizer'), epochs: $('epochs'), patience: $('patience'),
  batchSize: $('batch-size'), valSplit: $('val-split'),
  train: $('train'), cancel: $('cancel'), trainError: $('train-error'), progress: $('progress'), chart: $('chart'), history: $('history'),
  text: $('text'), textNote: $('text-note'), prediction: $('prediction'), heatmap: $('heatmap'), probabilities: $('probabilities'),
  download: $('download'), modelFile: $('model-file'), modelError: $('model-error'), modelInfo: $('model-info'),
};

// ---------------------------------------------------------------------------------------------
// State shown to the test harness (and handy in the console).

const app = {
  heed: null,
  backend: null,
  /** Data-parallel threads for training, from ?threads= (default 1; more needs a cross-origin
   *  isolated page: serve.mjs --isolate). */
  threads: 1,
  /** Why training cannot start whatever the data (a ?threads= the page cannot honour), or null. */
  trainBlocked: null,
  frames: 0,
  /** Longest gap between two animation frames while the last training ran (ms). */
  maxFrameGapMs: 0,
  /** Points the chart drew last time (step losses, step accuracies, epoch markers). */
  chartPoints: 0,
  chartDraws: 0,
  trainingsDone: 0,
  lastTraining: null,
  classifier: null,
  modelBytes: null,
  modelSource: null,
  lastPrediction: null,
};
window.heedApp = app;

// ---------------------------------------------------------------------------------------------
// Errors

/** Shows an error next to what caused it (`where`: the section's alert; the page's top one by
 *  default) and scrolls it into view: a message above the fold is a message nobody reads. */
function showError(e, where = el.error) {
  const msg = e instanceof Error ? `${e.name === 'HeedError' || e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  where.textContent = msg;
  where.hidden = false;
  where.scrollIntoView?.({ block: 'nearest' });
  console.error(e);
}
function clearError() {
  for (const where of [el.error, el.modelError, el.trainError]) {
    if (where === el.trainError && app.trainBlocked) continue;   // stays until the page is reloaded right
    where.hidden = true;
    where.textContent = '';
  }
}
window.addEventListener('unhandledrejection', (e) => showError(e.reason));

// ---------------------------------------------------------------------------------------------
// An animation that runs on the page's main thread: it keeps moving while the model trains,
// because training happens on a Web Worker. The frame counter and the longest gap between
// frames are the proof (the test reads them).

let training = false, chartDirty = true;
let lastFrame = performance.now();
/** Set while the worker trains (from fit() returning to `done` settling): the frames measured. */
let measureFrom = Infinity;
function frame(t) {
  app.frames++;
  if (lastFrame >= measureFrom) app.maxFrameGapMs = Math.max(app.maxFrameGapMs, t - lastFrame);
  lastFrame = t;
  el.frames.textContent = String(app.frames);
  el.spinner.style.transform = `rotate(${(t * 0.36) % 360}deg)`;
  if (chartDirty) drawChart();
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180: quoted fields, "" inside quotes, CRLF or LF, a leading BOM)

function parseCsv(text) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records = [];
  let fields = [], field = '', i = 0, line = 1, recordLine = 1, quoted = false, wasQuoted = false;
  const n = text.length;
  const endField = () => { fields.push(field); field = ''; wasQuoted = false; };
  const endRecord = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === '' )) records.push({ fields, line: recordLine });
    fields = [];
  };
  while (i < n) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; i++; continue;
      }
      if (ch === '\n') line++;
      field += ch; i++; continue;
    }
    if (ch === '"') {
      if (field !== '' || wasQuoted) throw new Error(`CSV line ${line}: a quote inside an unquoted field (quote the whole field and double the quote)`);
      quoted = true; wasQuoted = true; i++; continue;
    }
    if (ch === ',') { endField(); i++; continue; }
    if (ch === '\r' || ch === '\n') {
      endRecord();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
      line++; recordLine = line;
      continue;
    }
    if (wasQuoted) throw new Error(`CSV line ${line}: text after a closing quote`);
    field += ch; i++;
  }
  if (quoted) throw new Error(`CSV line ${recordLine}: a quoted field is never closed`);
  if (field !== '' || fields.length > 0 || wasQuoted) endRecord();
  return records;
}

/** { labels, texts } from CSV text with a header naming `label` and `sequence` (or `text`). */
function readLabeledCsv(text) {
  const records = parseCsv(text);
  if (records.length === 0) throw new Error('the CSV is empty');
  const header = records[0].fields.map((h) => h.trim().toLowerCase());
  const li = header.indexOf('label');
  let ti = header.indexOf('sequence');
  if (ti < 0) ti = header.indexOf('text');
  if (li < 0 || ti < 0) {
    throw new Error(`CSV line 1: the header must name the columns "label" and "sequence", got ${JSON.stringify(records[0].fields)}`);
  }
  const labels = [], texts = [];
  for (const { fields, line } of records.slice(1)) {
    if (fields.length !== header.length) throw new Error(`CSV line ${line}: ${fields.length} fields, but the header has ${header.length}`);
    const label = fields[li].trim();
    if (label === '') throw new Error(`CSV line ${line}: the label is empty`);
    labels.push(label);
    texts.push(fields[ti]);
  }
  if (labels.length === 0) throw new Error('the CSV has a header but no rows');
  return { labels, texts };
}

// ---------------------------------------------------------------------------------------------
// Data input

let data = null; // { labels, texts, classes, ids } or null

function updateData() {
  data = null;
  el.train.disabled = true;
  const text = el.csv.value;
  if (text.trim() === '') { el.dataInfo.textContent = ''; return; }
  try {
    const { labels, texts } = readLabeledCsv(text);
    if (new Set(labels).size < 2) throw new Error(`training needs at least two labels; the data has only ${JSON.stringify(labels[0])}`);
    const { classes, ids } = indexLabels(labels);   // heed's: the CLI's class order
    data = { labels, texts, classes, ids };
    const counts = classes.map((c, k) => `${c} ${ids.filter((id) => id === k).length}`);
    el.dataInfo.textContent = `${texts.length} rows, ${classes.length} labels: ${counts.join(' · ')}`;
    el.train.disabled = training || !app.heed || app.trainBlocked !== null;
  } catch (e) {
    el.dataInfo.textContent = `⚠ ${e.message}`;
  }
}

let csvTimer = 0;
el.csv.addEventListener('input', () => { clearTimeout(csvTimer); csvTimer = setTimeout(updateData, 200); });

el.loadExample.addEventListener('click', async () => {
  clearError();
  try {
    const res = await fetch('../fortunes5.csv');
    if (!res.ok) throw new Error(`could not fetch the example data: ${res.status} ${res.statusText}`);
    el.csv.value = await res.text();
    updateData();
  } catch (e) {
    showError(e);
  }
});

el.csvFile.addEventListener('change', async () => {
  const file = el.csvFile.files?.[0];
  if (!file) return;
  clearError();
  el.csv.value = await file.text();
  updateData();
});

// ---------------------------------------------------------------------------------------------
// Training

const HYPER = {
  // The command line's defaults (src/cli/train.ts): strong regularisation for small text data.
  pooling: { lr: 1e-2, weightDecay: 2, tokenDropout: 0.25 },
  transformer: { lr: 2e-3, weightDecay: 0.1, tokenDropout: 0.2 },
};

/** The 95th-percentile length in tokens, clamped to [16, 256] (as `heed train` picks --max-len). */
function pickMaxLen(tokenizer, texts) {
  const lengths = texts.map((t) => tokenizer.pieces(t).length).sort((a, b) => a - b);
  const p95 = lengths[Math.min(lengths.length - 1, Math.floor(0.95 * lengths.length))] ?? 16;
  return Math.min(256, Math.max(16, p95));
}

function intIn(input, lo, hi, name) {
  const v = Number(input.value);
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${name} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(input.value)}`);
  return v;
}

const chartData = { steps: [], epochs: [], totalEpochs: 1, waiting: false };
let run = null, stopping = false;

el.train.addEventListener('click', () => { startTraining().catch((e) => showError(e, el.trainError)); });
el.cancel.addEventListener('click', () => {
  if (!run) return;
  run.cancel(); // stops after the current step; `done` resolves with the model as trained so far
  stopping = true;
  el.cancel.disabled = true;
  el.progress.textContent += ' · stopping…';
});

async function startTraining() {
  clearError();
  if (!data) updateData();
  if (!data || !app.heed) return;
  const heed = app.heed;
  const kind = el.kind.value;
  const epochs = intIn(el.epochs, 1, 200, 'epochs');
  const patience = intIn(el.patience, 0, 200, 'patience');
  const batchSize = intIn(el.batchSize, 1, 1024, 'batch');
  const valPct = intIn(el.valSplit, 0, 50, 'validation %');

  const { texts, classes, ids } = data;
  const heedSplit = stratifiedSplit(ids, valPct / 100, 0);   // heed's, seeded: the CLI's split
  const split = { train: Array.from(heedSplit.train), val: Array.from(heedSplit.val) };
  const tokenizer = Tokenizer.build(split.train.map((i) => texts[i]), { type: el.tokenizer.value });
  const maxLen = pickMaxLen(tokenizer, split.train.map((i) => texts[i]));
  const encode = (rows) => ({ sequences: rows.map((i) => tokenizer.encode(texts[i], maxLen)), labels: Int32Array.from(rows, (i) => ids[i]) });
  const modelOptions = kind === 'transformer'
    ? { kind, vocabSize: tokenizer.vocabSize, maxLen, dModel: 64, heads: 4, ffDim: 128, layers: 2, classes: classes.length, seed: 0 }
    : { kind, vocabSize: tokenizer.vocabSize, dModel: 64, classes: classes.length, seed: 0 };

  clearRun(epochs, true);
  app.maxFrameGapMs = 0;
  const t0 = performance.now();
  let framesAtStart = app.frames, ema = null, accEma = null, prev = { step: 0, seen: 0, correct: 0 };
  const nTrain = split.train.length;

  setTraining(true);
  const early = split.val.length > 0 && patience > 0;
  el.progress.textContent = `starting a Web Worker (${heed.backend}) · ${split.train.length} training rows, ${split.val.length} validation · ${tokenizer.type} vocabulary ${tokenizer.vocabSize} · max ${maxLen} tokens`
    + (early ? ` · up to ${epochs} epochs, stopping after ${patience} without a better validation loss` : '');
  try {
    run = heed.fit({
      modelOptions,
      data: encode(split.train),
      validation: split.val.length > 0 ? encode(split.val) : undefined,
      epochs, batchSize, ...HYPER[kind], ...(early ? { patience } : {}),
      warmup: 0.05, schedule: 'cosine', clipNorm: 1, maxLen, seed: 0,
      worker: true, threads: app.threads,
      onStep(s) {
        // s.accuracy is the running accuracy of the epoch so far; recover this batch's own.
        if (s.step === 1) prev = { step: 0, seen: 0, correct: 0 };
        const seen = Math.min(s.step * batchSize, nTrain), correct = s.accuracy * seen;
        const batchAcc = seen > prev.seen ? (correct - prev.correct) / (seen - prev.seen) : s.accuracy;
        prev = { step: s.step, seen, correct };
        ema = ema === null ? s.loss : 0.9 * ema + 0.1 * s.loss;
        accEma = accEma === null ? batchAcc : 0.9 * accEma + 0.1 * batchAcc;
        chartData.steps.push({ x: s.epoch - 1 + s.step / s.steps, loss: s.loss, smooth: ema, acc: accEma });
        chartDirty = true;
        el.progress.textContent = `epoch ${s.epoch}/${s.epochs} · step ${s.step}/${s.steps} · loss ${ema.toFixed(3)} · accuracy ${(100 * s.accuracy).toFixed(1)}% · ${Math.round(s.seqPerSec)} seq/s · ${heed.backend} in a Web Worker${app.threads > 1 ? ` (+ ${app.threads - 1} data-parallel)` : ''}${stopping ? ' · stopping…' : ''}`;
      },
      onEpoch(e) {
        chartData.epochs.push({ x: e.epoch, loss: e.loss, acc: e.accuracy, valLoss: e.valLoss, valAcc: e.valAccuracy });
        chartDirty = true;
        const fmt = (v, pct) => (v === undefined ? '–' : pct ? `${(100 * v).toFixed(1)}%` : v.toFixed(3));
        const tr = document.createElement('tr');
        for (const v of [String(e.epoch), fmt(e.loss), fmt(e.accuracy, true), fmt(e.valLoss), fmt(e.valAccuracy, true), e.seconds.toFixed(2)]) {
          const td = document.createElement('td');
          td.textContent = v;
          tr.append(td);
        }
        el.history.tBodies[0].append(tr);
        el.history.hidden = false;
      },
    });
    // From here until `done` settles, only the worker computes: count the frames drawn meanwhile.
    measureFrom = performance.now();
    framesAtStart = app.frames;
    const drawsAtStart = app.chartDraws;
    let result;
    try {
      result = await run.done;
    } finally {
      measureFrom = Infinity;
    }
    const { model, history, cancelled, stoppedEarly, bestEpoch } = result;
    const framesDuring = app.frames - framesAtStart, chartDrawsDuring = app.chartDraws - drawsAtStart;
    chartData.totalEpochs = Math.max(1, history.length);   // fit the x axis to the epochs run
    chartDirty = true;
    const seconds = (performance.now() - t0) / 1000;
    const bytes = heed.saveModel(model, { tokenizer, labels: classes });
    model.dispose();
    setClassifier(loadClassifier(heed, bytes, 'the trained model'), bytes, 'trained here');
    // Stopped early, the model holds the best epoch's weights: report that epoch's figures.
    const last = stoppedEarly && bestEpoch ? history[bestEpoch - 1] : history.at(-1);
    app.lastTraining = {
      backend: heed.backend, threads: app.threads, kind, tokenizer: tokenizer.type, epochs: history.length, cancelled, stoppedEarly, bestEpoch, seconds,
      frames: framesDuring, maxFrameGapMs: app.maxFrameGapMs, chartDrawsDuring,
      loss: last?.loss, accuracy: last?.accuracy, valAccuracy: last?.valAccuracy,
    };
    app.trainingsDone++;
    el.progress.textContent = `${cancelled ? 'stopped' : 'trained'}: ${history.length} epoch${history.length === 1 ? '' : 's'} in ${seconds.toFixed(1)} s on ${heed.backend}`
      + (stoppedEarly ? ` · stopped early: no better validation loss after epoch ${bestEpoch}, whose weights the model keeps` : '')
      + (last ? ` · accuracy ${(100 * last.accuracy).toFixed(1)}%${last.valAccuracy !== undefined ? `, validation ${(100 * last.valAccuracy).toFixed(1)}%` : ''}` : '')
      + ` · the page drew ${app.lastTraining.frames} frames meanwhile (longest gap ${Math.round(app.maxFrameGapMs)} ms)`;
  } catch (e) {
    el.progress.textContent = 'training failed';
    throw e;
  } finally {
    run = null;
    stopping = false;
    setTraining(false);
  }
}

function setTraining(on) {
  training = on;
  document.body.dataset.state = on ? 'training' : 'ready';
  el.train.disabled = on || !data || app.trainBlocked !== null;
  el.cancel.disabled = !on;
  el.kind.disabled = el.tokenizer.disabled = el.epochs.disabled = el.patience.disabled = el.batchSize.disabled = el.valSplit.disabled = on;
  el.modelFile.disabled = on;
  el.loadExample.disabled = el.csvFile.disabled = on;
  el.csv.readOnly = on;
}

/** Clears the last run's chart, epoch table and summary: a new run starts, or a model file replaced
 *  the trained model, and figures on screen must be those of the model in use. */
function clearRun(totalEpochs = 1, starting = false) {
  chartData.steps = [];
  chartData.epochs = [];
  chartData.totalEpochs = totalEpochs;
  chartData.waiting = starting;
  chartDirty = true;
  el.history.hidden = true;
  el.history.tBodies[0].replaceChildren();
  el.progress.textContent = '';
}

// ---------------------------------------------------------------------------------------------
// The chart: a canvas drawn by hand. Loss on the left axis, accuracy (0–100%) on the right; x in
// epochs. Redrawn at most once per animation frame.

function drawChart() {
  chartDirty = false;
  const c = el.chart, dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth || c.width, h = c.clientHeight || c.height;
  if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const L = 48, R = 48, T = 12, B = 30, pw = w - L - R, ph = h - T - B;
  const { steps, epochs, totalEpochs } = chartData;

  g.font = '11px system-ui, sans-serif';
  g.lineWidth = 1;
  const maxLoss = Math.max(0.1, ...steps.map((p) => p.loss), ...epochs.map((p) => p.valLoss ?? 0)) * 1.05;
  const X = (x) => L + (x / totalEpochs) * pw;
  const YL = (v) => T + ph - (v / maxLoss) * ph;
  const YA = (v) => T + ph - v * ph;

  // Grid and axes
  g.strokeStyle = '#eaeef2';
  g.fillStyle = color('--muted');
  g.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const y = T + (i / 4) * ph;
    g.beginPath(); g.moveTo(L, y + 0.5); g.lineTo(L + pw, y + 0.5); g.stroke();
    g.textAlign = 'right'; g.fillText((maxLoss * (1 - i / 4)).toFixed(2), L - 6, y);
    g.textAlign = 'left'; g.fillText(`${100 - i * 25}%`, L + pw + 6, y);
  }
  g.textAlign = 'center'; g.textBaseline = 'top';
  const every = Math.max(1, Math.ceil(totalEpochs / 10));
  for (let e = 0; e <= totalEpochs; e += every) g.fillText(String(e), X(e), T + ph + 6);
  g.fillText('epoch', L + pw / 2, T + ph + 17);
  g.save(); g.translate(12, T + ph / 2); g.rotate(-Math.PI / 2); g.textBaseline = 'middle'; g.fillText('loss', 0, 0); g.restore();
  g.save(); g.translate(w - 10, T + ph / 2); g.rotate(Math.PI / 2); g.textBaseline = 'middle'; g.fillText('accuracy', 0, 0); g.restore();
  g.strokeStyle = color('--line');
  g.strokeRect(L + 0.5, T + 0.5, pw, ph);

  let points = 0;
  if (steps.length === 0 && epochs.length === 0) {
    g.fillStyle = color('--muted'); g.textBaseline = 'middle'; g.font = '13px system-ui, sans-serif';
    const words = chartData.waiting ? ['waiting for the first step…'] : ['loss and accuracy appear here', 'while a model trains'];
    if (g.measureText(words.join(' ')).width < pw - 16) g.fillText(words.join(' '), L + pw / 2, T + ph / 2);
    else words.forEach((w, i) => g.fillText(w, L + pw / 2, T + ph / 2 + (i - (words.length - 1) / 2) * 17));
  }
  const line = (pts, x, y, stroke, width, alpha = 1) => {
    const ok = pts.filter((p) => y(p) !== undefined);
    if (ok.length === 0) return;
    g.globalAlpha = alpha; g.strokeStyle = stroke; g.lineWidth = width; g.lineJoin = 'round';
    g.beginPath();
    ok.forEach((p, i) => (i ? g.lineTo(X(x(p)), y(p)) : g.moveTo(X(x(p)), y(p))));
    g.stroke();
    g.globalAlpha = 1;
    points += ok.length;
  };
  const dots = (pts, y, fill) => {
    g.fillStyle = fill;
    for (const p of pts) { const v = y(p); if (v === undefined) continue; g.beginPath(); g.arc(X(p.x), v, 3, 0, 2 * Math.PI); g.fill(); points++; }
  };
  line(steps, (p) => p.x, (p) => YL(p.loss), color('--loss'), 1, 0.2);
  line(steps, (p) => p.x, (p) => YL(p.smooth), color('--loss'), 2);
  line(steps, (p) => p.x, (p) => YA(p.acc), color('--acc'), 1.5);
  const vl = (p) => (p.valLoss === undefined ? undefined : YL(p.valLoss));
  const va = (p) => (p.valAcc === undefined ? undefined : YA(p.valAcc));
  line(epochs, (p) => p.x, vl, color('--vloss'), 2);
  line(epochs, (p) => p.x, va, color('--vacc'), 2);
  dots(epochs, vl, color('--vloss'));
  dots(epochs, va, color('--vacc'));

  app.chartPoints = points;
  app.chartDraws++;
  c.dataset.points = String(points);
}
window.addEventListener('resize', () => { chartDirty = true; });

// ---------------------------------------------------------------------------------------------
// Prediction and the attention heat map

function setClassifier(clf, bytes, source) {
  app.classifier?.dispose();
  app.classifier = clf;
  app.modelBytes = bytes;
  app.modelSource = source;
  if (el.download.href) URL.revokeObjectURL(el.download.href);
  el.download.href = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  el.download.classList.remove('disabled');
  el.download.removeAttribute('aria-disabled');
  const cfg = clf.model.config;
  el.modelInfo.textContent = `Model (${source}): ${cfg.kind}, d ${cfg.dModel}${cfg.kind === 'transformer' ? `, ${cfg.layers} layers × ${cfg.heads} heads` : ''}`
    + `, vocabulary ${clf.tokenizer.vocabSize}, labels ${clf.labels.join(', ')} · ${(bytes.length / 1024).toFixed(1)} KB`;
  document.body.dataset.model = source === 'trained here' ? 'trained' : 'loaded';
  el.text.disabled = false;
  if (!el.text.value) el.text.placeholder = `type a sentence to classify (${clf.labels.slice(0, 4).join(', ')}${clf.labels.length > 4 ? ', …' : ''})`;
  predict();
}

let predictQueued = false;
el.text.addEventListener('input', () => {
  if (predictQueued) return;
  predictQueued = true;
  requestAnimationFrame(() => { predictQueued = false; predict(); });
});

/** A line under the prediction ('' hides it). */
function note(text) {
  el.textNote.textContent = text;
  el.textNote.hidden = text === '';
}

function predict() {
  const clf = app.classifier, text = el.text.value;
  // A model answers something for any input; an answer about nothing would read as a finding.
  const pieces = clf && text.trim() !== '' ? clf.tokenizer.pieces(text) : [];
  if (!clf || pieces.length === 0) {
    el.prediction.replaceChildren();
    el.heatmap.replaceChildren();
    el.probabilities.replaceChildren();
    app.lastPrediction = null;
    note(!clf || text === '' ? '' : text.trim() === ''
      ? 'Nothing to classify: the text is only whitespace.'
      : 'Nothing to classify: the tokenizer finds no token in this text.');
    return;
  }
  // The model reads at most maxLen tokens (the transformer's length; 4,096 for pooling): say so
  // when the text is longer, rather than let the prediction pass for one of the whole text.
  note(pieces.length > clf.maxLen
    ? `The model reads only the first ${clf.maxLen} of this text's ${pieces.length} tokens; the prediction and the heat map are about those.`
    : '');
  let e;
  try {
    e = clf.explain(text);
  } catch (err) {
    showError(err);
    return;
  }
  app.lastPrediction = { ...e, tokens: pieces.length, truncated: pieces.length > clf.maxLen };
  // Prediction
  const strong = document.createElement('strong');
  strong.textContent = e.label;
  el.prediction.replaceChildren('Prediction: ', strong, ` (${(100 * e.probability).toFixed(1)}%)`);
  // Heat map: each token shaded by its attention weight relative to the largest
  const max = Math.max(1e-12, ...e.weights);
  el.heatmap.replaceChildren(...e.pieces.map((p, i) => {
    const s = document.createElement('span'), a = e.weights[i] / max;
    s.textContent = p;
    s.title = `attention ${(100 * e.weights[i]).toFixed(1)}%`;
    s.dataset.weight = e.weights[i].toFixed(4);
    s.style.background = `rgba(var(--heat), ${a.toFixed(3)})`;
    return s;
  }));
  // Probabilities, most probable first
  const rows = Object.entries(e.probabilities).sort((a, b) => b[1] - a[1]);
  el.probabilities.replaceChildren(...rows.flatMap(([label, p]) => {
    const name = document.createElement('span'), bar = document.createElement('div'), fill = document.createElement('div'), pct = document.createElement('span');
    name.textContent = label;
    if (label === e.label) name.className = 'top';
    bar.className = 'bar';
    fill.style.width = `${(100 * p).toFixed(1)}%`;
    bar.append(fill);
    pct.className = 'pct';
    pct.textContent = `${(100 * p).toFixed(1)}%`;
    return [name, bar, pct];
  }));
}

// ---------------------------------------------------------------------------------------------
// Loading a model file

el.modelFile.addEventListener('change', async () => {
  const file = el.modelFile.files?.[0];
  if (!file || !app.heed) return;
  clearError();
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    setClassifier(loadClassifier(app.heed, bytes, file.name), bytes, file.name);
    clearRun();   // the chart and accuracy on screen were the trained model's, no longer in use
    el.progress.textContent = `Using the model from ${file.name}; train to replace it.`;
  } catch (e) {
    showError(e, el.modelError);   // next to the file input, the previous model still in use
  } finally {
    el.modelFile.value = '';
  }
});

// ---------------------------------------------------------------------------------------------
// Start-up: the backend from ?backend=, else heed's default (SIMD, or the scalar fallback)

const params = new URLSearchParams(location.search);
{
  // ?threads=N: checked now, not when Train is pressed, so the page says at once what it needs.
  const raw = params.get('threads') ?? '1';
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 16) {
    app.trainBlocked = `?threads=${raw} is not a thread count: give a whole number from 1 to 16 (or drop ?threads= for one thread).`;
  } else if (n > 1 && !globalThis.crossOriginIsolated) {
    app.trainBlocked = `?threads=${n} trains on ${n} threads, which needs SharedArrayBuffer, which needs a cross-origin isolated page: `
      + 'start the server with npm run serve -- --isolate, or drop ?threads= to train on one thread.';
  }
  app.threads = app.trainBlocked ? 1 : n;
  if (app.trainBlocked) {
    // The command as code, so it reads as something to type.
    const [before, after] = app.trainBlocked.split('npm run serve -- --isolate');
    const code = document.createElement('code');
    code.textContent = 'npm run serve -- --isolate';
    el.trainError.replaceChildren(...(after === undefined ? [before] : [before, code, after]));
    el.trainError.hidden = false;
    el.train.title = app.trainBlocked;
  }
}
const asked = params.get('backend') || '';
el.backendSelect.value = asked;
el.backendSelect.addEventListener('change', () => {
  const p = new URLSearchParams(location.search);
  if (el.backendSelect.value) p.set('backend', el.backendSelect.value);
  else p.delete('backend');
  location.search = p.toString();
});

try {
  app.heed = await init(asked ? { backend: asked } : {});
  app.backend = app.heed.backend;
  const f = app.heed.features;
  el.backend.textContent = app.heed.backend;
  el.backend.title = `host offers: SIMD ${f.simd ? 'yes' : 'no'}, relaxed SIMD ${f.relaxedSimd ? 'yes' : 'no'}, threads ${f.threads ? 'yes' : 'no'}`;
  document.body.dataset.backend = app.heed.backend;
  document.body.dataset.state = 'ready';
  updateData();
} catch (e) {
  el.backend.textContent = 'none';
  document.body.dataset.state = 'error';
  showError(e);
}
