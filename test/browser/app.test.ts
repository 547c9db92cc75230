// The browser example (examples/browser/) end to end in real headless Chromium: Debian's chromium
// package at /usr/bin/chromium, driven by playwright-core (never a downloaded browser). The page is
// served by examples/browser/serve.mjs on a free loopback port and imports dist/bundle/heed.js as it
// is (npm run build first; npm test does it).
//
// It loads the page, loads the example data, trains a pooling model for a few epochs in a Web
// Worker (heed.fit, worker: true), checks the chart was redrawn while it trained and the page kept
// drawing animation frames meanwhile, types a text and checks the prediction and the attention heat
// map, downloads the model (a heed safetensors file, which Node's heed loads and predicts the same),
// loads it back into a fresh page and predicts, and trains again with ?backend=wasm-scalar.
// Screenshots and the downloaded model go to test/browser/artifacts/ (or $HEED_ARTIFACTS_DIR).
//
// Without /usr/bin/chromium the browser tests are skipped, saying how to install it, except under
// CI=true, where they fail instead (CI installs chromium; a skip there would hide a broken setup).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.HEED_CHROMIUM ?? '/usr/bin/chromium'; // Debian's package; HEED_CHROMIUM only to try the skip
const ARTIFACTS = resolve(process.env.HEED_ARTIFACTS_DIR ?? join(ROOT, 'test/browser/artifacts'));
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const INSTALL = 'install Debian\'s chromium (as root: apt-get update && apt-get install -y chromium) to run them';
const haveChromium = existsSync(CHROMIUM);

/** Starts serve.mjs on a free port; resolves with the child and the page URL it prints first. */
function startServer(extra: string[] = []): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(ROOT, 'examples/browser/serve.mjs'), '--port', '0', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => { child.kill(); rej(new Error(`serve.mjs did not start in 10 s\n${out}${err}`)); }, 10_000);
    child.stderr!.setEncoding('utf8').on('data', (s: string) => { err += s; });
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /^heed example: (http:\/\/\S+)$/m.exec(out);
      if (m) { clearTimeout(timer); res({ child, url: m[1] }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); rej(new Error(`serve.mjs exited with code ${code}\n${out}${err}`)); });
  });
}

describe('examples/browser/serve.mjs', () => {
  let server: { child: ChildProcess; url: string };
  beforeAll(async () => { server = await startServer(); });
  afterAll(() => { server?.child.kill(); });

  it('serves the page, the bundle and wasm with the right types, read-only, and nothing outside the repo', async () => {
    const origin = new URL(server.url).origin;
    const get = (p: string, init?: RequestInit) => fetch(origin + p, { redirect: 'manual', ...init });
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    const page = await get('/examples/browser/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('app.js');
    expect((await get('/examples/browser/app.js')).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await get('/examples/browser/style.css')).headers.get('content-type')).toMatch(/^text\/css/);
    expect((await get('/')).headers.get('location')).toBe('/examples/browser/');
    expect((await get('/examples/browser')).status).toBe(301);
    if (existsSync(join(ROOT, 'build/simd.wasm'))) {
      const wasm = await get('/build/simd.wasm');
      expect(wasm.headers.get('content-type')).toBe('application/wasm');
      expect(new Uint8Array(await wasm.arrayBuffer()).subarray(0, 4)).toEqual(new Uint8Array([0, 0x61, 0x73, 0x6d]));
    }
    for (const p of ['/.git/config', '/%2e%2e/etc/passwd', '/examples/../../etc/passwd', '/examples/%2e%2e/%2e%2e/etc/passwd', '/.ci/run', '/nope.js', '/%E0%A4%A']) {
      expect((await get(p)).status, p).toBe(404);
    }
    expect((await get('/examples/browser/index.html', { method: 'POST', body: 'x' })).status).toBe(405);
    expect((await get('/examples/browser/index.html', { method: 'PUT', body: 'x' })).status).toBe(405);
  });
});

if (!haveChromium && process.env.CI) {
  describe('browser app in headless Chromium', () => {
    it(`needs ${CHROMIUM} under CI`, () => {
      throw new Error(`${CHROMIUM} is missing, so the browser tests cannot run: ${INSTALL} (.ci/run should do this)`);
    });
  });
} else if (!haveChromium) {
  console.warn(`test/browser: skipping the headless Chromium tests: ${CHROMIUM} is missing; ${INSTALL}.`);
  describe.skip(`browser app in headless Chromium (skipped: ${CHROMIUM} is missing; ${INSTALL})`, () => {
    it('trains, predicts, downloads and loads a model', () => {});
  });
} else {
  describe('browser app in headless Chromium', () => {
    let server: { child: ChildProcess; url: string };
    let isolated: { child: ChildProcess; url: string };
    let browser: BrowserContext;
    let profile: string;
    const pageErrors: string[] = [];
    const TEXT = 'the president signed the new tax law after a long debate in congress';
    let trained: { probabilities: Record<string, number>; label: string; pieces: string[]; weights: number[] };
    let modelFile: string;

    async function openPage(query = '', base = server.url): Promise<Page> {
      const page = await browser.newPage();
      page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
      page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`); });
      await page.goto(base + query);
      await page.waitForSelector('body[data-state="ready"], body[data-state="error"]', { timeout: 20_000 });
      const error = await page.locator('#error').textContent();
      expect(await page.getAttribute('body', 'data-state'), `the page failed to start: ${error}`).toBe('ready');
      return page;
    }

    /** Loads the example data, sets the epochs (and the patience, the tokenizer) and trains;
     *  resolves with window.heedApp.lastTraining. */
    async function train(page: Page, epochs: number, { patience = 5, tokenizer = 'word' } = {}) {
      await page.click('#load-example');
      await page.waitForFunction(() => !(document.getElementById('train') as HTMLButtonElement).disabled);
      expect(await page.textContent('#data-info')).toMatch(/^3146 rows, 5 labels: computers 858/);
      await page.fill('#epochs', String(epochs));
      await page.fill('#patience', String(patience));
      await page.selectOption('#tokenizer', tokenizer);
      await page.selectOption('#model-kind', 'pooling');
      const before = await page.evaluate(() => (window as any).heedApp.trainingsDone as number);
      await page.click('#train');
      await page.waitForFunction((n) => (window as any).heedApp.trainingsDone > n || !document.getElementById('error')!.hidden
        || !document.getElementById('train-error')!.hidden, before, { timeout: 40_000 });
      expect(await page.locator('#error').isHidden(), (await page.locator('#error').textContent()) ?? '').toBe(true);
      expect(await page.locator('#train-error').isHidden(), (await page.locator('#train-error').textContent()) ?? '').toBe(true);
      return page.evaluate(() => (window as any).heedApp.lastTraining);
    }

    beforeAll(async () => {
      for (const f of ['dist/bundle/heed.js', 'dist/bundle/worker.js']) {
        if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run npm run build first (npm test does it)`);
      }
      mkdirSync(ARTIFACTS, { recursive: true });
      server = await startServer();
      isolated = await startServer(['--isolate']);
      const { chromium } = await import('playwright-core');
      profile = mkdtempSync(join(tmpdir(), 'heed-chromium-'));
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM, headless: true, args: FLAGS, acceptDownloads: true,
        viewport: { width: 1100, height: 900 },
      });
    });

    afterAll(async () => {
      await browser?.close();
      server?.child.kill();
      isolated?.child.kill();
      if (profile) rmSync(profile, { recursive: true, force: true });
    });

    it('trains in a Web Worker with a live chart while the page keeps drawing frames', async () => {
      const page = await openPage();
      expect(await page.textContent('#backend')).toBe('wasm-relaxed'); // Chromium has relaxed SIMD (since 114)
      expect(await page.getAttribute('#chart', 'data-points')).toBe('0');
      const blank = await page.evaluate(() => (document.getElementById('chart') as HTMLCanvasElement).toDataURL());

      const t = await train(page, 6);
      console.log(`browser training (wasm): ${JSON.stringify(t)}`);
      expect(t).toMatchObject({ backend: 'wasm-relaxed', kind: 'pooling', epochs: 6, cancelled: false });
      expect(t.accuracy).toBeGreaterThan(0.5); // 5 classes: chance is 0.2
      expect(t.valAccuracy).toBeGreaterThan(0.4);
      // The chart was drawn from the steps as they streamed in, not once at the end.
      expect(t.chartDrawsDuring).toBeGreaterThan(2);
      expect(Number(await page.getAttribute('#chart', 'data-points'))).toBeGreaterThan(6 * 60); // ~79 steps an epoch
      expect(await page.evaluate(() => (document.getElementById('chart') as HTMLCanvasElement).toDataURL())).not.toBe(blank);
      expect(await page.locator('#history tbody tr').count()).toBe(6);
      // Responsive: the main thread kept drawing animation frames while the worker trained.
      const minFrames = Math.max(5, Math.floor(t.seconds * 10));
      expect(t.frames, `only ${t.frames} frames in ${t.seconds.toFixed(2)} s of training`).toBeGreaterThanOrEqual(minFrames);
      expect(t.maxFrameGapMs).toBeLessThan(500);
      expect(await page.textContent('#progress')).toMatch(/^trained: 6 epochs in .* on wasm/);

      // Type a text: a prediction, every label's probability and a heat map over its tokens.
      await page.fill('#text', TEXT);
      await page.waitForSelector('#heatmap span');
      const p = await page.evaluate(() => (window as any).heedApp.lastPrediction);
      expect(p.pieces).toEqual(TEXT.split(' '));
      expect(await page.locator('#heatmap span').allTextContents()).toEqual(p.pieces);
      expect(p.weights.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4); // pooling: softmax over tokens
      const shades = await page.locator('#heatmap span').evaluateAll((spans) => spans.map((s) => getComputedStyle(s).backgroundColor));
      expect(new Set(shades).size).toBeGreaterThan(1);
      expect(await page.textContent('#prediction')).toBe(`Prediction: ${p.label} (${(100 * p.probability).toFixed(1)}%)`);
      expect(Object.keys(p.probabilities).sort()).toEqual(['computers', 'men_women', 'politics', 'science', 'work']);
      expect(Object.values(p.probabilities as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(await page.locator('#probabilities .bar').count()).toBe(5);
      trained = p;

      const shot = join(ARTIFACTS, 'app.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot: ${shot}`);

      // Download the model: a heed safetensors file.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      expect(download.suggestedFilename()).toBe('heed-model.safetensors');
      modelFile = join(ARTIFACTS, 'model.safetensors');
      await download.saveAs(modelFile);
      const bytes = readFileSync(modelFile);
      const n = Number(bytes.readBigUInt64LE(0));
      const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
      expect(header.__metadata__.format).toBe('heed');
      expect(JSON.parse(header.__metadata__.labels)).toEqual(['computers', 'men_women', 'politics', 'science', 'work']);
      expect(JSON.parse(header.__metadata__.config)).toMatchObject({ kind: 'pooling', classes: 5 });
      expect(Object.keys(header).filter((k) => k !== '__metadata__').sort()).toEqual(['attn.bias', 'attn.weight', 'embed.weight', 'head.bias', 'head.weight']);
      const end = Math.max(...Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, v]) => (v as { data_offsets: number[] }).data_offsets[1]));
      expect(bytes.length).toBe(8 + n + end);

      // Node's heed reads the browser's file and predicts the same.
      const heedNode = await import(pathToFileURL(join(ROOT, 'dist/bundle/heed.js')).href);
      const ctx = await heedNode.init({ backend: 'wasm' });
      const clf = heedNode.loadClassifier(ctx, new Uint8Array(bytes), 'model.safetensors');
      const q = clf.explain(TEXT);
      expect(q.label).toBe(p.label);
      for (const [label, v] of Object.entries(p.probabilities as Record<string, number>)) expect(q.probabilities[label]).toBeCloseTo(v, 5);
      clf.dispose();
      await page.close();
    });

    it('loads the downloaded model into a fresh page and predicts the same', async () => {
      expect(modelFile, 'the training test did not produce a model file').toBeTruthy();
      const page = await openPage();
      await page.setInputFiles('#model-file', modelFile);
      await page.waitForSelector('body[data-model="loaded"]');
      expect(await page.textContent('#model-info')).toMatch(/^Model \(model\.safetensors\): pooling, d 64, vocabulary \d+, labels computers, men_women, politics, science, work/);
      await page.fill('#text', TEXT);
      await page.waitForSelector('#heatmap span');
      const p = await page.evaluate(() => (window as any).heedApp.lastPrediction);
      expect(p.label).toBe(trained.label);
      expect(p.probabilities).toEqual(trained.probabilities); // same bytes, same backend: bit for bit
      expect(p.weights).toEqual(trained.weights);
      // A file that is not a model is refused with a message, and the page keeps working.
      // A person scrolled down to section 4 sees it next to the file input, not above the fold.
      await page.locator('#model-file').scrollIntoViewIfNeeded();
      await page.setInputFiles('#model-file', { name: 'junk.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a model at all') });
      await page.waitForSelector('#model-error:not([hidden])');
      expect(await page.textContent('#model-error')).toMatch(/junk\.safetensors/);
      expect(await page.locator('#error').isHidden()).toBe(true);
      expect(await inViewport(page, '#model-error')).toBe(true);
      expect(await page.evaluate(() => (window as any).heedApp.lastPrediction.label)).toBe(trained.label);
      await page.screenshot({ path: join(ARTIFACTS, 'app-bad-model.png') });
      // Loading a good file clears the message.
      await page.setInputFiles('#model-file', modelFile);
      await page.waitForSelector('#model-error[hidden]', { state: 'attached' });

      // The page says what it does with empty and over-long text instead of predicting quietly.
      await page.fill('#text', '   ');
      await page.waitForFunction(() => !document.getElementById('text-note')!.hidden);
      expect(await page.textContent('#text-note')).toBe('Nothing to classify: the text is only whitespace.');
      expect(await page.textContent('#prediction')).toBe('');
      expect(await page.locator('#heatmap span').count()).toBe(0);
      await page.fill('#text', '\u200b\u0001');
      await page.waitForFunction(() => /no token/.test(document.getElementById('text-note')!.textContent!));
      expect(await page.textContent('#prediction')).toBe('');
      await page.fill('#text', TEXT);
      await page.waitForFunction(() => document.getElementById('text-note')!.hidden);
      const long = 'the senate passed the bill '.repeat(820);   // 4,100 tokens; the pooling model reads 4,096
      await page.fill('#text', long);
      await page.waitForFunction(() => !document.getElementById('text-note')!.hidden);
      expect(await page.textContent('#text-note')).toBe('The model reads only the first 4096 of this text\'s 4100 tokens; the prediction and the heat map are about those.');
      expect(await page.evaluate(() => (window as any).heedApp.lastPrediction.truncated)).toBe(true);
      expect(await page.locator('#heatmap span').count()).toBe(4096);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth)).toBe(true);
      await page.close();
    });

    it('forces the scalar fallback with ?backend=wasm-scalar and still trains', async () => {
      const page = await openPage('?backend=wasm-scalar');
      expect(await page.textContent('#backend')).toBe('wasm-scalar');
      expect(await page.getAttribute('body', 'data-backend')).toBe('wasm-scalar');
      expect(await page.inputValue('#backend-select')).toBe('wasm-scalar');
      const t = await train(page, 2);
      console.log(`browser training (wasm-scalar): ${JSON.stringify(t)}`);
      expect(t).toMatchObject({ backend: 'wasm-scalar', kind: 'pooling', epochs: 2, cancelled: false });
      expect(Number.isFinite(t.loss)).toBe(true);
      expect(t.accuracy).toBeGreaterThan(0.3);
      expect(Number(await page.getAttribute('#chart', 'data-points'))).toBeGreaterThan(2 * 60);
      expect(await page.textContent('#progress')).toMatch(/^trained: 2 epochs in .* on wasm-scalar/);
      await page.fill('#text', TEXT);
      await page.waitForSelector('#heatmap span');
      expect(await page.textContent('#prediction')).toMatch(/^Prediction: (computers|men_women|politics|science|work) \(\d+\.\d%\)$/);
      await page.screenshot({ path: join(ARTIFACTS, 'app-scalar.png'), fullPage: true });
      await page.close();
    });

    it('trains data-parallel with ?threads=2 on a cross-origin isolated page (serve.mjs --isolate)', async () => {
      const page = await openPage('?threads=2', isolated.url);
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      const t = await train(page, 3);
      console.log(`browser training (wasm, 2 threads): ${JSON.stringify(t)}`);
      expect(t).toMatchObject({ backend: 'wasm-relaxed', threads: 2, kind: 'pooling', epochs: 3, cancelled: false });
      expect(t.accuracy).toBeGreaterThan(0.4);
      expect(t.valAccuracy).toBeGreaterThan(0.3);
      expect(t.maxFrameGapMs).toBeLessThan(500);
      expect(await page.textContent('#progress')).toMatch(/^trained: 3 epochs in .* on wasm/);
      await page.close();
    });

    it('without isolation, ?threads=2 is refused as the page opens, naming npm run serve -- --isolate; Train stays off', async () => {
      const page = await openPage('?threads=2');
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      await page.waitForSelector('#train-error:not([hidden])');
      expect(await page.textContent('#train-error')).toMatch(/^\?threads=2 trains on 2 threads, which needs SharedArrayBuffer, which needs a cross-origin isolated page: start the server with npm run serve -- --isolate/);
      expect(await page.textContent('#train-error code')).toBe('npm run serve -- --isolate');
      await page.click('#load-example');
      await page.waitForFunction(() => /^3146 rows/.test(document.getElementById('data-info')!.textContent!));
      expect(await page.locator('#train').isDisabled()).toBe(true);
      expect(await page.evaluate(() => (window as any).heedApp.trainingsDone)).toBe(0);
      await page.screenshot({ path: join(ARTIFACTS, 'app-threads-refused.png') });
      for (const bad of ['0', 'two', '17', '1.5']) {
        const p = await openPage(`?threads=${bad}`);
        expect(await p.textContent('#train-error'), bad).toMatch(new RegExp(`^\\?threads=${bad.replace('.', '\\.')} is not a thread count: give a whole number from 1 to 16`));
        await p.close();
      }
      await page.close();
    });

    it('loading a model file clears the last run\'s chart, epoch table and accuracy', async () => {
      expect(modelFile, 'the training test did not produce a model file').toBeTruthy();
      const page = await openPage();
      const t = await train(page, 2);
      expect(t.epochs).toBe(2);
      expect(Number(await page.getAttribute('#chart', 'data-points'))).toBeGreaterThan(0);
      expect(await page.locator('#history tbody tr').count()).toBe(2);
      await page.setInputFiles('#model-file', modelFile);
      await page.waitForSelector('body[data-model="loaded"]');
      await page.waitForFunction(() => document.getElementById('chart')!.dataset.points === '0');
      expect(await page.locator('#history').isHidden()).toBe(true);
      expect(await page.locator('#history tbody tr').count()).toBe(0);
      expect(await page.textContent('#progress')).toBe('Using the model from model.safetensors; train to replace it.');
      expect(await page.textContent('#model-info')).toMatch(/^Model \(model\.safetensors\)/);
      await page.screenshot({ path: join(ARTIFACTS, 'app-model-loaded.png'), fullPage: true });
      await page.close();
    });

    it('stops early as the command line does: up to 30 epochs, patience 5 by default; the best epoch\'s figures', async () => {
      const page = await openPage();
      expect(await page.inputValue('#epochs')).toBe('30');
      expect(await page.inputValue('#patience')).toBe('5');
      const t = await train(page, 60, { patience: 2 });
      console.log(`browser training with early stopping: ${JSON.stringify(t)}`);
      expect(t.stoppedEarly).toBe(true);
      expect(t.epochs).toBeLessThan(60);
      expect(t.bestEpoch).toBe(t.epochs - 2);
      expect(await page.locator('#history tbody tr').count()).toBe(t.epochs);
      expect(await page.textContent('#progress')).toMatch(new RegExp(`^trained: ${t.epochs} epochs .* stopped early: no better validation loss after epoch ${t.bestEpoch}, whose weights the model keeps`));
      await page.close();
    });

    it('trains with the char tokenizer when chosen; the model file keeps it', async () => {
      const page = await openPage();
      const t = await train(page, 1, { tokenizer: 'char' });
      expect(t).toMatchObject({ tokenizer: 'char', epochs: 1 });
      expect(await page.evaluate(() => (window as any).heedApp.classifier.tokenizer.type)).toBe('char');
      await page.fill('#text', 'tax law');
      await page.waitForSelector('#heatmap span');
      expect(await page.locator('#heatmap span').allTextContents()).toEqual(['t', 'a', 'x', ' ', 'l', 'a', 'w']);
      await page.close();
    });

    it('fits a 390 px phone screen: nothing wider than the screen, the epoch table included', async () => {
      const page = await openPage();
      await page.setViewportSize({ width: 390, height: 844 });
      const t = await train(page, 6, { patience: 0 });
      expect(t.epochs).toBe(6);
      await page.fill('#text', TEXT);
      await page.waitForSelector('#heatmap span');
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth, screen: document.documentElement.clientWidth,
        table: document.getElementById('history')!.getBoundingClientRect().right,
        wider: Array.from(document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
          .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`),
      }));
      expect(widths.page).toBe(390);
      expect(widths.screen).toBe(390);
      expect(widths.table).toBeLessThanOrEqual(390);
      expect(widths.wider).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, 'app-390.png'), fullPage: true });
      await page.close();
    });

    /** Whether the element's box lies within the viewport (what a person sees without scrolling). */
    function inViewport(page: Page, selector: string): Promise<boolean> {
      return page.$eval(selector, (e) => {
        const r = e.getBoundingClientRect();
        return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
      });
    }

    it('logged no page errors', () => {
      // The junk model file's HeedError and the refused ?threads=2 are shown on the page and logged
      // with console.error on purpose.
      expect(pageErrors.filter((e) => !e.includes('junk.safetensors'))).toEqual([]);
    });
  });
}
