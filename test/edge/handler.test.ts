// The edge example (examples/edge/handler.mjs) run in Node against real Request objects, the way an
// edge runtime calls it: heed/wasm/simd.wasm compiled to a WebAssembly.Module up front (as
// Cloudflare's CompiledWasm import gives it), the model file's bytes handed over, then fetch().
// The model is the example's own: make_model.mjs (heed train on examples/fortunes5.csv), cut to
// 3 epochs to keep the test quick; a small random transformer covers attention rollout.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as heed from '../../dist/index.js';
import * as inference from '../../dist/infer.js';
import { createHandler, LIMITS, type FetchHandler, type PredictionJSON } from '../../examples/edge/handler.mjs';
import { requireBuild, ROOT, run, specifiers } from '../package/util.js';

// Counts heed/infer's init() and loadClassifier() as the handler calls them.
const calls = vi.hoisted(() => ({ init: 0, loadClassifier: 0 }));
vi.mock('heed/infer', async (importOriginal) => {
  const real = await importOriginal<typeof import('heed/infer')>();
  return {
    ...real,
    init: (...a: Parameters<typeof real.init>) => { calls.init++; return real.init(...a); },
    loadClassifier: (...a: Parameters<typeof real.loadClassifier>) => { calls.loadClassifier++; return real.loadClassifier(...a); },
  };
});

const EDGE = join(ROOT, 'examples/edge');
let tmp = '', module: WebAssembly.Module, modelBytes: Uint8Array, transformerBytes: Uint8Array;
let clf: inference.Classifier;

beforeAll(async () => {
  requireBuild();
  tmp = mkdtempSync(join(tmpdir(), 'heed-edge-'));
  const modelPath = join(tmp, 'model.safetensors');
  const made = run(process.execPath, [join(EDGE, 'make_model.mjs'), '--out', modelPath, '--epochs', '3', '--model', 'pooling', '--tokenizer', 'word'], { cwd: tmp, timeoutMs: 30_000 });
  // The package's raw wasm, found through its exports map, compiled as a platform would.
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string> };
  module = new WebAssembly.Module(readFileSync(join(ROOT, pkg.exports['./wasm/simd.wasm'])));
  // A small random transformer, for attention rollout.
  const h = await heed.init();
  const tok = heed.Tokenizer.build(['the cat sat on the mat', 'a dog ran in the park', 'rain and snow'], { minFreq: 1 });
  const tm = h.transformerClassifier({ vocabSize: tok.vocabSize, maxLen: 6, dModel: 8, heads: 2, ffDim: 16, layers: 2, classes: 3, seed: 1 });
  transformerBytes = h.saveModel(tm, { tokenizer: tok.toJSON(), labels: ['pets', 'outdoors', 'weather'] });
  tm.dispose();
  const r = await made;
  expect(r.code, r.stderr + r.stdout).toBe(0);
  modelBytes = readFileSync(modelPath);
  clf = inference.loadClassifier(await inference.init({ module }), modelBytes);   // the reference answers
}, 30_000);

afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

const URL_BASE = 'https://heed.example';
const post = (body: BodyInit | null, init: RequestInit = {}, path = '/predict') =>
  new Request(URL_BASE + path, { method: 'POST', body, headers: { 'content-type': 'application/json' }, ...init });
const postJson = (value: unknown) => post(JSON.stringify(value));

interface ErrorJSON { error: { status: number; message: string } }

/** The handler's answer: the status, headers and parsed JSON (null for an empty body). */
async function ask(handler: FetchHandler, request: Request): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await handler.fetch(request, {});
  expect(res).toBeInstanceOf(Response);
  const text = await res.text();
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** An error answer: the status, JSON {error: {status, message}}, and nothing of the server's insides. */
function expectError(r: { status: number; body: ErrorJSON }, status: number, message?: RegExp): void {
  expect(r.status).toBe(status);
  expect(Object.keys(r.body)).toEqual(['error']);
  expect(Object.keys(r.body.error).sort()).toEqual(['message', 'status']);
  expect(r.body.error.status).toBe(status);
  expect(typeof r.body.error.message).toBe('string');
  expect(r.body.error.message).not.toMatch(/\n|\bat .+:\d+:\d+|\.m?[jt]s\b|node_modules|\/work\//);
  if (message) expect(r.body.error.message).toMatch(message);
}

function expectPrediction(p: PredictionJSON, labels: readonly string[]): void {
  expect(Object.keys(p)).toEqual(['label', 'probability', 'probabilities', 'attention', 'tokens', 'truncated']);
  expect(p.truncated).toBe(p.tokens > p.attention.length);
  expect(labels).toContain(p.label);
  expect(Object.keys(p.probabilities)).toEqual([...labels]);
  const ps = Object.values(p.probabilities);
  for (const v of ps) expect(v >= 0 && v <= 1).toBe(true);
  expect(ps.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  expect(p.probability).toBe(p.probabilities[p.label]);
  expect(p.probability).toBe(Math.max(...ps));
  for (const a of p.attention) {
    expect(Object.keys(a)).toEqual(['token', 'weight']);
    expect(typeof a.token).toBe('string');
    expect(Number.isFinite(a.weight) && a.weight >= 0).toBe(true);
  }
  if (p.attention.length) expect(p.attention.reduce((s, a) => s + a.weight, 0)).toBeCloseTo(1, 4);
}

describe('examples/edge/handler.mjs', () => {
  let handler: FetchHandler;
  beforeAll(() => { handler = createHandler({ module, modelBytes }); });

  it('POST /predict {text}: the model\'s label, probabilities summing to 1, attention over the text\'s tokens', async () => {
    const text = 'My code compiles, but the tests fail';
    const r = await ask(handler, postJson({ text }));
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['predictions']);
    expect(r.body.predictions).toHaveLength(1);
    const p = r.body.predictions[0] as PredictionJSON;
    expectPrediction(p, clf.labels);
    expect(p.attention.map((a) => a.token)).toEqual(['my', 'code', 'compiles', ',', 'but', 'the', 'tests', 'fail']);
    // What heed/infer answers for the same text.
    const [want] = clf.predict([text]);
    expect(p.label).toBe(want.label);
    for (const l of clf.labels) expect(p.probabilities[l]).toBeCloseTo(want.probabilities[l], 6);
    expect(p.attention.map((a) => a.weight)).toEqual(clf.explain(text).weights);
  });

  it('POST /predict {texts}: one prediction per text, in order; the limits themselves are accepted', async () => {
    const texts = ['the senate passed the budget bill', 'the physicist measured the speed of light', '.',
      'émigré café 👩‍💻 naïve', 'x'.repeat(LIMITS.maxChars), 'my boss wants the report by monday'];
    const r = await ask(handler, postJson({ texts }));
    expect(r.status).toBe(200);
    expect(r.body.predictions).toHaveLength(texts.length);
    const want = clf.predict(texts);
    r.body.predictions.forEach((p: PredictionJSON, i: number) => {
      expectPrediction(p, clf.labels);
      expect(p.label, texts[i]).toBe(want[i].label);
    });
    expect(r.body.predictions[2].attention.map((a: { token: string }) => a.token)).toEqual(['.']);
    expect(r.body.predictions.map((p: PredictionJSON) => p.truncated)).toEqual(Array(texts.length).fill(false));
    // A text with no tokens has nothing to classify (heed/infer refuses it): 400 naming it.
    const empty = await ask(handler, postJson({ texts: ['a text', ' '] }));
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/^"texts\[1\]" is only whitespace: there is nothing to classify$/);
    expect((await ask(handler, postJson({ text: '' }))).status).toBe(400);
    const many = await ask(handler, postJson({ texts: Array.from({ length: LIMITS.maxTexts }, (_, i) => `text number ${i}`) }));
    expect(many.status).toBe(200);
    expect(many.body.predictions).toHaveLength(LIMITS.maxTexts);
    expect((await ask(handler, postJson({ texts: [] }))).body).toEqual({ predictions: [] });
  });

  it('a transformer model file: attention rollout weights, finite and summing to 1', async () => {
    const t = createHandler({ module, modelBytes: transformerBytes.buffer.slice(transformerBytes.byteOffset, transformerBytes.byteOffset + transformerBytes.byteLength) as ArrayBuffer });
    const r = await ask(t, postJson({ texts: ['the cat sat on the mat', 'a dog in the snow and rain today'] }));
    expect(r.status).toBe(200);
    for (const p of r.body.predictions) expectPrediction(p, ['pets', 'outdoors', 'weather']);
    expect(r.body.predictions[1].attention).toHaveLength(6);   // cut to maxLen, and the answer says so
    expect(r.body.predictions[1]).toMatchObject({ tokens: 8, truncated: true });
    expect(r.body.predictions[0]).toMatchObject({ tokens: 6, truncated: false });
    const d = await ask(t, new Request(URL_BASE + '/'));
    expect(d.body.model).toMatchObject({ kind: 'transformer', labels: ['pets', 'outdoors', 'weather'], maxLen: 6, heads: 2, layers: 2 });
  });

  it('GET / describes the model and the limits; HEAD / answers without a body', async () => {
    const r = await ask(handler, new Request(URL_BASE + '/'));
    expect(r.status).toBe(200);
    expect(r.body.model).toMatchObject({ kind: 'pooling', labels: clf.labels, classes: clf.labels.length, dModel: 64, tokenizer: 'word' });
    expect(r.body.limits).toEqual(LIMITS);
    expect(r.body.usage).toMatch(/POST \/predict/);
    const head = await handler.fetch(new Request(URL_BASE + '/', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it.each([
    ['not JSON', 'this is not json', /not valid JSON/],
    ['an empty body', '', /not valid JSON/],
    ['truncated JSON', '{"text": "abc', /not valid JSON/],
    ['a JSON array', '["a text"]', /must be a JSON object, got an array/],
    ['a JSON string', '"a text"', /must be a JSON object, got string/],
    ['JSON null', 'null', /must be a JSON object, got null/],
    ['no text', '{}', /no "text" or "texts"/],
    ['a misspelt key', '{"txt": "a text"}', /no "text" or "texts"/],
    ['text a number', '{"text": 42}', /"text" must be a string, got number/],
    ['text null', '{"text": null}', /"text" must be a string, got null/],
    ['text an array', '{"text": ["a"]}', /"text" must be a string, got an array/],
    ['texts a string', '{"texts": "a text"}', /"texts" must be an array of strings, got string/],
    ['texts holding a number', '{"texts": ["fine", 7]}', /"texts\[1\]" must be a string, got number/],
    ['text and texts', '{"text": "a", "texts": ["b"]}', /either "text" or "texts", not both/],
    ['too many texts', JSON.stringify({ texts: Array(LIMITS.maxTexts + 1).fill('a') }), /holds 65 texts; the limit is 64/],
    ['a text too long', JSON.stringify({ text: 'x'.repeat(LIMITS.maxChars + 1) }), /"text" is 10,001 characters long; the limit is 10,000/],
    ['one of the texts too long', JSON.stringify({ texts: ['ok', 'y'.repeat(LIMITS.maxChars + 1)] }), /"texts\[1\]" is 10,001 characters/],
    ['an empty text', '{"text": ""}', /^"text" is empty: there is nothing to classify$/],
    ['a whitespace-only text', JSON.stringify({ text: ' \n\t\u00a0\u3000 ' }), /^"text" is only whitespace: there is nothing to classify$/],
    ['an empty text among others', '{"texts": ["fine", ""]}', /^"texts\[1\]" is empty/],
    ['a whitespace-only text among others', '{"texts": ["fine", "ok", "   "]}', /^"texts\[2\]" is only whitespace/],
    ['a text without a token', JSON.stringify({ text: '\u0001\u200b' }), /^"text" has no token the model reads/],
    ['a text without a token among others', JSON.stringify({ texts: ['fine', '\u200b'] }), /^"texts\[1\]" has no token the model reads/],
  ])('400 for a bad body: %s', async (_, body, message) => {
    expectError(await ask(handler, post(body)), 400, message);
  });

  it('400 for a body that is not UTF-8; 413 for a body over the size limit, with or without Content-Length', async () => {
    expectError(await ask(handler, post(new Uint8Array([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]))), 400, /not valid UTF-8/);
    const big = JSON.stringify({ text: 'z'.repeat(LIMITS.maxBodyBytes) });
    expectError(await ask(handler, post(big)), 413, /over the limit of 4,194,304 bytes/);
    // A declared Content-Length over the limit is refused before reading anything.
    const declared = post(big, { headers: { 'content-type': 'application/json', 'content-length': String(big.length) } });
    expectError(await ask(handler, declared), 413, new RegExp(`^the body is ${big.length.toLocaleString('en-US')} bytes; the limit is 4,194,304 bytes$`));
    expect(declared.bodyUsed).toBe(false);
    const chunk = new TextEncoder().encode('z'.repeat(1 << 20));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) { if (sent++ < 8) c.enqueue(chunk); else c.close(); },
    });
    expectError(await ask(handler, post(stream, { duplex: 'half' } as RequestInit)), 413, /over the limit/);
    expect(sent).toBeLessThan(8);   // stopped reading once over the limit
    // A smaller limit, given to createHandler.
    const small = createHandler({ module, modelBytes, limits: { maxTexts: 2, maxChars: 5 } });
    expectError(await ask(small, postJson({ texts: ['a', 'b', 'c'] })), 400, /holds 3 texts; the limit is 2/);
    expectError(await ask(small, postJson({ text: 'abcdef' })), 400, /6 characters long; the limit is 5/);
  });

  it('404 for an unknown path, whatever the method; 405 with Allow for a known path and the wrong method', async () => {
    for (const [method, path] of [['GET', '/nope'], ['POST', '/predict/'], ['POST', '/predict/x'], ['GET', '/index.html'], ['DELETE', '/favicon.ico']]) {
      expectError(await ask(handler, new Request(URL_BASE + path, { method })), 404, /no such path/);
    }
    for (const [method, path, allow] of [['GET', '/predict', 'POST'], ['PUT', '/predict', 'POST'], ['DELETE', '/predict', 'POST'],
      ['POST', '/', 'GET, HEAD'], ['PUT', '/', 'GET, HEAD'], ['OPTIONS', '/', 'GET, HEAD']]) {
      const r = await ask(handler, new Request(URL_BASE + path, { method, body: method === 'POST' || method === 'PUT' ? '{"text":"a"}' : null }));
      expectError(r, 405, new RegExp(`^${path.replace('/', '\\/')} takes `));
      expect(r.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
    // A query string does not change the route.
    expect((await ask(handler, postJson({ text: 'a' }).clone())).status).toBe(200);
    expect((await ask(handler, new Request(URL_BASE + '/predict?x=1', { method: 'POST', body: '{"text":"a"}' }))).status).toBe(200);
  });

  it('500 without details when the model cannot be loaded, logged on the server; the next request tries again', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      let attempt = 0;
      const flaky = createHandler({ module, modelBytes: () => (++attempt === 1 ? new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]) : modelBytes) });
      const r = await ask(flaky, postJson({ text: 'hello' }));
      expectError(r, 500, /internal error/);
      expect(JSON.stringify(r.body)).not.toMatch(/safetensors|header|HeedError/);
      expect(log).toHaveBeenCalledTimes(1);
      expect(String(log.mock.calls[0][1])).toMatch(/HeedError: model file/);   // the details, in the server log
      expect((await ask(flaky, postJson({ text: 'hello' }))).status).toBe(200);
      expect(attempt).toBe(2);
      // Bad body errors come before the model is needed: a handler whose model never loads still says 400.
      const broken = createHandler({ module, modelBytes: new Uint8Array(3) });
      expectError(await ask(broken, post('nope')), 400);
      expectError(await ask(broken, new Request(URL_BASE + '/')), 500);
      // The default export reads env.HEED_WASM / env.HEED_MODEL: without them, 500.
      const { default: fromEnv } = await import('../../examples/edge/handler.mjs');
      expectError(await ask(fromEnv, postJson({ text: 'a' })), 500);
      const ok = await fromEnv.fetch(postJson({ text: 'the senate passed the budget bill' }), { HEED_WASM: module, HEED_MODEL: modelBytes });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { predictions: PredictionJSON[] }).predictions[0].label).toBe(clf.predict(['the senate passed the budget bill'])[0].label);
    } finally {
      log.mockRestore();
    }
  });

  it('concurrent requests on a cold handler initialise heed and load the model once', async () => {
    const before = { ...calls };
    let modules = 0, models = 0;
    const cold = createHandler({
      module: async () => { modules++; await new Promise((r) => setTimeout(r, 20)); return module; },
      modelBytes: async () => { models++; return modelBytes; },
    });
    const requests = Array.from({ length: LIMITS.maxConcurrent }, (_, i) => (i % 3 === 0 ? new Request(URL_BASE + '/') : postJson({ text: `request ${i}` })));
    const answers = await Promise.all(requests.map((q) => ask(cold, q)));
    expect(answers.map((a) => a.status)).toEqual(Array(LIMITS.maxConcurrent).fill(200));
    expect({ modules, models }).toEqual({ modules: 1, models: 1 });
    expect({ init: calls.init - before.init, loadClassifier: calls.loadClassifier - before.loadClassifier }).toEqual({ init: 1, loadClassifier: 1 });
    await ask(cold, postJson({ text: 'and once more' }));
    expect({ modules, models, init: calls.init - before.init }).toEqual({ modules: 1, models: 1, init: 1 });
  });

  it('createHandler refuses options that are not a module and model bytes', () => {
    expect(() => createHandler({ module: readFileSync(join(ROOT, 'build/simd.wasm')) as never, modelBytes })).toThrow(TypeError);
    expect(() => createHandler({ module, modelBytes: 'model.safetensors' as never })).toThrow(TypeError);
    expect(() => (createHandler as (o?: unknown) => unknown)()).toThrow(TypeError);
  });

  it('imports heed/infer and nothing else (no training code, no platform API); the adapters import only what they name', () => {
    const src = (f: string) => specifiers(readFileSync(join(EDGE, f), 'utf8'));
    expect(src('handler.mjs')).toEqual({ static: [], dynamic: [], bareStatic: ['heed/infer'] });
    expect(src('worker.mjs')).toEqual({ static: ['./model.safetensors', './handler.mjs'], dynamic: [], bareStatic: ['heed/wasm/simd.wasm'] });
    expect(src('serve.mjs').static).toEqual(['./handler.mjs']);
    expect(src('serve.mjs').bareStatic).toEqual(['node:fs/promises']);
    // heed/infer itself holds no training code: test/package/bundle.test.ts walks its import graph.
    expect(calls.init).toBeGreaterThan(0);   // the mock above really stood in for heed/infer
  });

  it('a pooling model reads 4,096 tokens: a longer text is answered with truncated: true and its token count', async () => {
    const long = 'a '.repeat(4100).trim();
    const r = await ask(handler, postJson({ texts: [long, 'a '.repeat(4096).trim()] }));
    expect(r.status).toBe(200);
    expect(r.body.predictions[0]).toMatchObject({ tokens: 4100, truncated: true });
    expect(r.body.predictions[0].attention).toHaveLength(4096);
    expect(r.body.predictions[1]).toMatchObject({ tokens: 4096, truncated: false });
    expect((await ask(handler, new Request(URL_BASE + '/'))).body.model.maxTokens).toBe(4096);
  });

  it('503 with Retry-After past limits.maxConcurrent requests in progress; answers again once they finish', async () => {
    const bounded = createHandler({ module, modelBytes, limits: { maxConcurrent: 2 } });
    await bounded.load();
    // Two requests whose bodies arrive slowly hold both places.
    const gates: (() => void)[] = [];
    const slow = () => post(new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"text": "the senate'));
        gates.push(() => { c.enqueue(new TextEncoder().encode(' passed the bill"}')); c.close(); });
      },
    }), { duplex: 'half' } as RequestInit);
    const held = [ask(bounded, slow()), ask(bounded, slow())];
    await new Promise((r) => setTimeout(r, 20));
    const busy = await ask(bounded, postJson({ text: 'a small one' }));
    expectError(busy, 503, /^busy: 2 requests in progress, the limit; try again shortly$/);
    expect(busy.headers.get('retry-after')).toBe('1');
    expectError(await ask(bounded, new Request(URL_BASE + '/')), 503);
    for (const g of gates) g();
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200]);
    expect((await ask(bounded, postJson({ text: 'a small one' }))).status).toBe(200);
    // A request that failed frees its place too.
    for (let i = 0; i < 3; i++) expectError(await ask(bounded, post('nope')), 400);
    expect((await ask(bounded, postJson({ text: 'still answering' }))).status).toBe(200);
  });

  it('load() loads the model up front and rejects, naming the file, when it cannot', async () => {
    await expect(createHandler({ module, modelBytes, modelName: 'x.safetensors' }).load()).resolves.toBeUndefined();
    await expect(createHandler({ module, modelBytes: new Uint8Array(3), modelName: 'bad.safetensors' }).load()).rejects.toThrow(/^bad\.safetensors: /);
  });

  it('serve.mjs: the same handler behind node:http answers over a real socket', async () => {
    const { child, port } = await startServe(['--port', '0']);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', body: JSON.stringify({ text: 'the senate passed the budget bill' }) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { predictions: PredictionJSON[] };
      expect(body.predictions[0].label).toBe(clf.predict(['the senate passed the budget bill'])[0].label);
      const bad = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', body: '{' });
      expect(bad.status).toBe(400);
    } finally {
      child.kill();
    }
  });
});

/** serve.mjs under Node with `args`, HEED_MODEL=model.safetensors in the test's folder unless
 *  `env` says otherwise; resolves once it listens, with the address it printed. */
async function startServe(args: string[], env: NodeJS.ProcessEnv = {}) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [join(EDGE, 'serve.mjs'), ...args], {
    cwd: tmp, env: { ...process.env, PORT: '0', HEED_MODEL: 'model.safetensors', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = { out: '', err: '' };
  child.stderr.setEncoding('utf8').on('data', (s: string) => { log.err += s; });
  const { host, port } = await new Promise<{ host: string; port: number }>((res, rej) => {
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      log.out += s;
      const m = /on http:\/\/(\S+):(\d+) /.exec(log.out);
      if (m) res({ host: m[1], port: Number(m[2]) });
    });
    child.on('exit', (code) => rej(new Error(`serve.mjs exited with ${code}: ${log.err}`)));
  });
  return { child, host, port, log };
}

/** One raw HTTP/1.1 exchange over a socket: what the server wrote back (the status line first). */
async function raw(port: number, request: string): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((res, rej) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let got = '';
    socket.setEncoding('utf8').on('data', (s: string) => { got += s; });
    socket.on('end', () => res(got));
    socket.on('error', rej);
    socket.setTimeout(5000, () => { socket.destroy(); rej(new Error(`no answer to ${JSON.stringify(request.slice(0, 40))}`)); });
  });
}

describe('examples/edge/serve.mjs under Node', () => {
  it('listens on 127.0.0.1 by default; --host chooses another address', async () => {
    const local = await startServe([]);
    local.child.kill();
    expect(local.host).toBe('127.0.0.1');
    const any = await startServe(['--host', '::1', '--port', '0']);
    any.child.kill();
    expect(any.host).toBe('[::1]');
  });

  it('survives requests the fetch API cannot represent: TRACE, a Host with spaces, a port past 65535', async () => {
    const { child, port, log } = await startServe([]);
    try {
      const answers = [];
      for (const request of [
        'TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: a b<c>\r\nConnection: close\r\n\r\n',
        'GET / HTTP/1.1\r\nHost: x:99999\r\nConnection: close\r\n\r\n',
        'GET http://elsewhere/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        'POST /predict HTTP/1.1\r\nHost: [::1\r\nContent-Length: 16\r\nConnection: close\r\n\r\n{"text": "tax"}\n',
      ]) answers.push((await raw(port, request)).split('\r\n')[0]);
      expect(answers).toEqual(['HTTP/1.1 405 Method Not Allowed', 'HTTP/1.1 200 OK', 'HTTP/1.1 200 OK',
        'HTTP/1.1 400 Bad Request', 'HTTP/1.1 200 OK']);
      expect(child.exitCode).toBe(null);
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200);
      expect(log.err).toBe('');
    } finally {
      child.kill();
    }
  });

  it('a client that disconnects mid-body leaves no stack trace and the server answering', async () => {
    const { child, port, log } = await startServe([]);
    try {
      const { connect } = await import('node:net');
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((res) => {
          const s = connect(port, '127.0.0.1', () => {
            s.write('POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{"text": "half a bo');
            setTimeout(() => { s.destroy(); res(); }, 50);
          });
        });
      }
      await new Promise((r) => setTimeout(r, 100));
      const ok = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', body: '{"text": "the senate passed the bill"}' });
      expect(ok.status).toBe(200);
      expect(log.err).toBe('');
      expect(child.exitCode).toBe(null);
    } finally {
      child.kill();
    }
  });

  it.each([
    ['missing', 'absent.safetensors', /^heed edge example: cannot read the model file \S+absent\.safetensors: no such file/],
    ['corrupt', 'corrupt.safetensors', /^heed edge example: \S+corrupt\.safetensors: /],
  ])('a %s model file stops it at start with one line and exit code 1', async (_, file, message) => {
    writeFileSync(join(tmp, 'corrupt.safetensors'), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const r = await run(process.execPath, [join(EDGE, 'serve.mjs')], { cwd: tmp, env: { ...process.env, PORT: '0', HEED_MODEL: file }, timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });
});
