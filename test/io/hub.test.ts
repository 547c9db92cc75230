// Checkpoints from a directory or from the Hub through a cache, against a local copy of the Hub's
// resolve/<revision>/<file> layout served on 127.0.0.1 (no test touches the network).
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeedError } from '../../src/errors.js';
import { fetchCheckpoint, hubId, openCheckpoint, readCheckpointDir } from '../../src/io/hub.js';

const fixture = new URL('../fixtures/hf-bert/classifier/', import.meta.url).pathname;
let server: Server, endpoint = '';
const requests: string[] = [];
let truncate = false, deny = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url!);
    const m = /^\/org\/tiny-bert\/resolve\/main\/(.+)$/.exec(req.url!);
    if (deny) { res.writeHead(401); res.end(); return; }
    const path = m && join(fixture, decodeURIComponent(m[1]));
    if (!path || !existsSync(path)) { res.writeHead(404); res.end('Entry not found'); return; }
    const body = readFileSync(path);
    res.writeHead(200, { 'content-length': String(body.length) });
    // A connection that drops half-way: fewer bytes than declared.
    if (truncate && m![1] === 'model.safetensors') { res.write(body.subarray(0, 100)); res.destroy(); return; }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const fresh = () => mkdtempSync(join(tmpdir(), 'heed-hub-'));

describe('Hub checkpoints through a cache', () => {
  it('downloads each file once, remembers what the Hub does not have, and reads the cache after', async () => {
    const cacheDir = fresh();
    requests.length = 0;
    const a = await fetchCheckpoint('org/tiny-bert', { cacheDir, endpoint });
    expect(a.weights).toEqual(new Uint8Array(readFileSync(join(fixture, 'model.safetensors'))));
    expect(JSON.parse(a.config).model_type).toBe('bert');
    expect(a.tokenizerJson).toBeNull();
    expect(requests).toContain('/org/tiny-bert/resolve/main/config.json');
    expect(requests).toContain('/org/tiny-bert/resolve/main/1_Pooling/config.json');
    requests.length = 0;
    const b = await fetchCheckpoint(`${endpoint}/org/tiny-bert`, { cacheDir, endpoint });
    expect(requests).toEqual([]);
    expect(b.weights).toEqual(a.weights);
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('offline: reads the cache, and names the missing file and the cache when it is empty', async () => {
    const cacheDir = fresh();
    await expect(fetchCheckpoint('org/tiny-bert', { cacheDir, endpoint, offline: true })).rejects.toThrow(/org\/tiny-bert: config.json is not in the cache .* offline mode is on/);
    await fetchCheckpoint('org/tiny-bert', { cacheDir, endpoint });
    requests.length = 0;
    const c = await fetchCheckpoint('org/tiny-bert', { cacheDir, endpoint: 'http://127.0.0.1:9', offline: true });
    expect(requests).toEqual([]);
    expect(c.weights.length).toBeGreaterThan(0);
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('an interrupted download caches nothing; a refused one says how to authenticate', async () => {
    const cacheDir = fresh();
    truncate = true;
    try {
      const e = await fetchCheckpoint('org/tiny-bert', { cacheDir, endpoint }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HeedError);
      expect((e as Error).message).toMatch(/^org\/tiny-bert: (could not download model.safetensors|the download of model.safetensors broke off|model.safetensors arrived with 100 of)/);
    } finally { truncate = false; }
    const dir = join(cacheDir, 'org', 'tiny-bert', 'main');
    expect(readdirSync(dir).filter((f) => f.startsWith('model'))).toEqual([]);
    deny = true;
    try {
      await expect(fetchCheckpoint('org/other', { cacheDir, endpoint })).rejects.toThrow(/answered 401.*HF_TOKEN/);
    } finally { deny = false; }
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('reads a directory, naming a missing file; refuses a file and a spec that is no model id', async () => {
    const d = fresh();
    writeFileSync(join(d, 'config.json'), '{}');
    await expect(readCheckpointDir(d)).rejects.toThrow(`${join(d, 'model.safetensors')}: missing (a checkpoint needs config.json and model.safetensors)`);
    mkdirSync(join(d, 'sub'));
    await expect(openCheckpoint(join(d, 'config.json'))).rejects.toThrow(/a checkpoint is a directory/);
    await expect(openCheckpoint('../etc/passwd')).rejects.toThrow(/neither a directory nor a Hugging Face model id/);
    const ok = await openCheckpoint(fixture);
    expect(ok.where).toBe(fixture);
    expect(hubId('sentence-transformers/all-MiniLM-L6-v2')).toBe('sentence-transformers/all-MiniLM-L6-v2');
    expect(hubId('https://huggingface.co/BAAI/bge-small-en-v1.5')).toBe('BAAI/bge-small-en-v1.5');
    expect(hubId('a/b/c')).toBeNull();
    rmSync(d, { recursive: true, force: true });
  });
});
