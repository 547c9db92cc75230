// The relaxed-SIMD build in headless Chromium (Debian's /usr/bin/chromium through playwright-core;
// Chromium validates relaxed SIMD by default since 114): init() picks 'wasm-relaxed' there, and
// every op on it agrees with the js reference on the tail sizes (1, 3, 5, 7, 13, 33), computed in
// the page from dist/bundle/heed.js as a browser loads it. Skipped without Chromium as
// app.test.ts is, and failing instead under CI=true.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.HEED_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const haveChromium = existsSync(CHROMIUM);

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(ROOT, 'examples/browser/serve.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => { child.kill(); rej(new Error(`serve.mjs did not start in 10 s\n${out}`)); }, 10_000);
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /^heed example: (http:\/\/\S+)$/m.exec(out);
      if (m) { clearTimeout(timer); res({ child, url: m[1] }); }
    });
    child.on('exit', (code) => { clearTimeout(timer); rej(new Error(`serve.mjs exited with code ${code}\n${out}`)); });
  });
}

/** Runs in the page (window.heed is dist/bundle/heed.js): every op on `backend` and on js over the tail sizes; returns the worst
 *  |got − want| − (atol + rtol·|want|) per op (≤ 0 is agreement), and what init() picked. */
async function parityInPage() {
  const heed = (window as any).heed;
  const auto = await heed.init();
  const hw = await heed.init({ backend: 'wasm-relaxed' }), js = await heed.init({ backend: 'js' });
  let seed = 1;
  const rand = (n: number) => Float32Array.from({ length: n }, () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return (seed / 2147483648) * 4 - 2;
  });
  const worst: Record<string, number> = {};
  const compare = (name: string, got: Float32Array, want: Float32Array, atol = 1e-5, rtol = 1e-4) => {
    let w = got.length === want.length ? -Infinity : Infinity;
    for (let i = 0; i < want.length; i++) {
      const e = Math.abs(got[i] - want[i]) - (atol + rtol * Math.abs(want[i]));
      w = Math.max(w, Number.isNaN(e) ? Infinity : e);
    }
    worst[name] = Math.max(worst[name] ?? -Infinity, w);
  };
  // Each case builds its inputs once and runs on both contexts: outputs as arrays.
  const both = (name: string, make: () => Float32Array[], f: (h: any, a: Float32Array[]) => Float32Array[]) => {
    const inputs = make(), want = f(js, inputs), got = f(hw, inputs);
    want.forEach((w, i) => compare(`${name}[${i}]`, got[i], w));
  };
  const arr = (t: any) => { const a = t.toArray(); t.dispose?.(); return a; };
  for (const n of [1, 3, 5, 7, 13, 33]) {
    const [M, K, N] = [n, (n * 3) % 37 + 1, (n * 5) % 41 + 1];
    for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
      both(`matmul ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`, () => [rand(M * K), rand(K * N)], (h, [a, b]) =>
        [arr(h.ops.matmul(h.tensor(a, transA ? [K, M] : [M, K]), h.tensor(b, transB ? [N, K] : [K, N]), { transA, transB }))]);
    }
    both('softmax', () => [rand(3 * n), rand(3 * n)], (h, [x, dy]) => {
      const y = h.ops.softmax(h.tensor(x, [3, n]));
      return [y.toArray(), arr(h.ops.softmaxBackward(y, h.tensor(dy, [3, n])))];
    });
    both('layerNorm', () => [rand(2 * n), rand(n), rand(n), rand(2 * n)], (h, [x, g, b, dy]) => {
      const [xt, gt] = [h.tensor(x, [2, n]), h.tensor(g, [n])];
      const r = h.ops.layerNormBackward(xt, gt, h.tensor(dy, [2, n]));
      return [arr(h.ops.layerNorm(xt, gt, h.tensor(b, [n]))), arr(r.dx), arr(r.dgamma), arr(r.dbeta)];
    });
    both('gelu', () => [rand(2 * n).map((v) => v * 4), rand(2 * n)], (h, [x, dy]) =>
      [arr(h.ops.gelu(h.tensor(x, [2, n]))), arr(h.ops.geluBackward(h.tensor(x, [2, n]), h.tensor(dy, [2, n])))]);
    both('tanh', () => [rand(2 * n).map((v) => v * 4), rand(2 * n)], (h, [x, dy]) => {
      const y = h.ops.tanh(h.tensor(x, [2, n]));
      return [y.toArray(), arr(h.ops.tanhBackward(y, h.tensor(dy, [2, n])))];
    });
    const [T, S, D] = [n, (n * 7) % 11 + 1, (n % 9) + 1];
    for (const causal of [false, true]) {
      both(`attention${causal ? ' causal' : ''}`, () => [rand(2 * T * D), rand(2 * S * D), rand(2 * S * D), rand(2 * T * D)], (h, [q, k, v, dout]) => {
        const [qt, kt, vt] = [h.tensor(q, [1, 2, T, D]), h.tensor(k, [1, 2, S, D]), h.tensor(v, [1, 2, S, D])];
        const g = h.ops.attentionBackward(qt, kt, vt, h.tensor(dout, [1, 2, T, D]), { causal });
        return [arr(h.ops.attention(qt, kt, vt, { causal })), arr(h.ops.attentionWeights(qt, kt, { causal })), arr(g.dq), arr(g.dk), arr(g.dv)];
      });
    }
    both('crossEntropy', () => [rand(n * 5)], (h, [x]) => {
      const r = h.ops.crossEntropy(h.tensor(x, [n, 5]), Int32Array.from({ length: n }, (_, i) => i % 5));
      return [Float32Array.of(r.loss), arr(r.dlogits)];
    });
    both('adamw', () => [rand(n), rand(n)], (h, [p, g]) => {
      const [pt, m, v] = [h.tensor(p, [n]), h.zeros([n]), h.zeros([n])];
      h.ops.adamw(pt, h.tensor(g, [n]), m, v, { lr: 1e-2, step: 1 });
      return [arr(pt), arr(m), arr(v)];
    });
  }
  return { auto: auto.backend, relaxedSimd: auto.features.relaxedSimd, worst };
}

if (!haveChromium && process.env.CI) {
  describe('wasm-relaxed in headless Chromium', () => {
    it(`needs ${CHROMIUM} under CI`, () => { throw new Error(`${CHROMIUM} is missing (.ci/run installs it)`); });
  });
} else if (!haveChromium) {
  describe.skip(`wasm-relaxed in headless Chromium (skipped: ${CHROMIUM} is missing)`, () => { it('parity', () => {}); });
} else {
  describe('wasm-relaxed in headless Chromium', () => {
    let server: { child: ChildProcess; url: string };
    let browser: Browser;
    let profile: string;
    beforeAll(async () => {
      if (!existsSync(join(ROOT, 'dist/bundle/heed.js'))) throw new Error('dist/bundle/heed.js is missing: run npm run build first (npm test does it)');
      server = await startServer();
      const { chromium } = await import('playwright-core');
      profile = mkdtempSync(join(tmpdir(), 'heed-chromium-'));
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
    });
    afterAll(async () => {
      await browser?.close();
      server?.child.kill();
      if (profile) rmSync(profile, { recursive: true, force: true });
    });

    it("init() picks 'wasm-relaxed' and every op agrees with js on the tail sizes", async () => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(new URL('/examples/browser/style.css', server.url).href);  // any same-origin page
      // A module script, not import() inside evaluate: vitest rewrites import() in this file's functions.
      await page.addScriptTag({ type: 'module', content: "import * as heed from '/dist/bundle/heed.js'; window.heed = heed;" });
      await page.waitForFunction(() => (window as any).heed !== undefined, undefined, { timeout: 20_000 });
      const r = await page.evaluate(parityInPage);
      expect(errors).toEqual([]);
      expect(r.auto).toBe('wasm-relaxed');
      expect(r.relaxedSimd).toBe(true);
      expect(Object.keys(r.worst).length).toBeGreaterThan(20);
      const bad = Object.entries(r.worst).filter(([, e]) => !(e <= 0));
      expect(bad, JSON.stringify(bad)).toEqual([]);
    });
  });
}
