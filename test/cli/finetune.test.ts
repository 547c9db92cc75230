// heed train --from: fine-tuning a BERT-family checkpoint from a directory, and from a Hub model id
// served on 127.0.0.1 (never the network); predict / eval / explain on the result. The checkpoint
// is made here: a small random BERT written by heed's toPretrained in Hugging Face's layout, with
// the uncased WordPiece tokenizer of the tokenizer fixtures.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDist } from '../dist.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { heed, ls, removeTempDirs, tempDir } from './util.js';
import { rng } from '../util.js';

const TOKENIZER = new URL('../fixtures/wordpiece/uncased/tokenizer.json', import.meta.url).pathname;
let dir = '', server: Server | null = null;

function sentimentCsv(n: number, seed: number): string {
  const r = rng(seed), pick = (a: string[]) => a[Math.floor(r() * a.length)];
  const good = ['good', 'great', 'fine', 'nice', 'happy'], bad = ['bad', 'awful', 'sad', 'poor', 'wrong'];
  const filler = ['the', 'day', 'was', 'a', 'movie', 'it', 'very', 'so', 'and', 'food'];
  const rows = ['label,sequence'];
  for (let i = 0; i < n; i++) {
    const pos = r() < 0.5, w = Array.from({ length: 3 + Math.floor(r() * 5) }, () => pick(filler));
    w.splice(Math.floor(r() * w.length), 0, pick(pos ? good : bad));
    rows.push(`${pos ? 'pos' : 'neg'},${w.join(' ')}`);
  }
  return rows.join('\n') + '\n';
}

beforeAll(async () => {
  dir = tempDir();
  const h = await (await importDist()).init();
  const ckpt = join(dir, 'ckpt');
  mkdirSync(ckpt);
  const m = h.bertClassifier({ vocabSize: 1204, maxLen: 64, typeVocabSize: 2, dModel: 32, heads: 4, ffDim: 64, layers: 2, classes: 2, seed: 1 });
  const { config, weights } = h.toPretrained(m);
  m.dispose();
  writeFileSync(join(ckpt, 'config.json'), config);
  writeFileSync(join(ckpt, 'model.safetensors'), weights);
  copyFileSync(TOKENIZER, join(ckpt, 'tokenizer.json'));
  writeFileSync(join(dir, 'train.csv'), sentimentCsv(400, 1));
  writeFileSync(join(dir, 'test.csv'), sentimentCsv(100, 2));
}, 60_000);

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  removeTempDirs();
});

describe('heed train --from <dir>', () => {
  let trained: Awaited<ReturnType<typeof heed>>;
  beforeAll(async () => {
    trained = await heed(['train', 'train.csv', '--from', 'ckpt', '--lr', '1e-3', '--epochs', '8', '--out', 'ft.safetensors'], dir);
  }, 120_000);

  it('fine-tunes the checkpoint with its WordPiece tokenizer and keeps the tokenizer files in the model file', () => {
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stdout).toMatch(/^saved .*ft\.safetensors \([\d,]+ parameters; fine-tuned from ckpt; trained on all 400 rows for \d+ epochs?/);
    expect(trained.stderr).toMatch(/fine-tuning ckpt: [\d,]+ parameters, 2 layers, d 32; WordPiece vocabulary 1204; max length \d+;/);
    const { metadata } = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'ft.safetensors'))));
    const tok = JSON.parse(metadata.tokenizer);
    expect(tok.type).toBe('wordpiece');
    expect(tok.files['tokenizer.json']).toBe(readFileSync(TOKENIZER, 'utf8'));
    expect(JSON.parse(metadata.config)).toMatchObject({ kind: 'bert', classes: 2, layers: 2, dModel: 32 });
    expect(JSON.parse(metadata.labels)).toEqual(['neg', 'pos']);
  });

  it('predict, eval and explain read it: [CLS] text [SEP], pieces merged back into the words as written', async () => {
    const p = await heed(['predict', 'ft.safetensors', 'the movie was great', 'so awful, the food'], dir);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^pos\t0\.\d{4}\tthe movie was great\nneg\t0\.\d{4}\tso awful, the food\n$/);
    const e = await heed(['eval', 'ft.safetensors', 'test.csv', '--json'], dir);
    expect(JSON.parse(e.stdout).accuracy).toBeGreaterThan(0.9);
    const x = JSON.parse((await heed(['explain', 'ft.safetensors', 'The movie was GREAT, naïve', '--json'], dir)).stdout);
    expect(x.pieces).toEqual(['[CLS]', 'The', 'movie', 'was', 'GREAT,', 'naïve', '[SEP]']);
    expect(x.weights.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('a text longer than the model reads is cut before its [SEP], and predict says so', async () => {
    const long = Array.from({ length: 80 }, () => 'great').join(' ');
    const p = await heed(['predict', 'ft.safetensors', long, '--json'], dir);
    expect(JSON.parse(p.stdout)).toMatchObject({ label: 'pos', truncated: true });
  });
});

describe('heed train --from --freeze', () => {
  it('keeps the embeddings and the frozen layers as the checkpoint has them; --freeze needs --from', async () => {
    const r = await heed(['train', 'train.csv', '--from', 'ckpt', '--freeze', '1', '--lr', '1e-3', '--epochs', '2', '--out', 'frozen.safetensors', '--quiet'], dir);
    expect(r.code, r.stderr).toBe(0);
    const ckpt = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'ckpt', 'model.safetensors')))).tensors;
    const got = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'frozen.safetensors')))).tensors;
    const same = (name: string) => Buffer.from(got.get(name)!.data.buffer).equals(Buffer.from(ckpt.get(name)!.data.buffer));
    expect(same('bert.embeddings.word_embeddings.weight')).toBe(true);
    expect(same('bert.encoder.layer.0.output.dense.weight')).toBe(true);
    expect(same('bert.encoder.layer.1.output.dense.weight')).toBe(false);
    const bad = await heed(['train', 'train.csv', '--freeze', '1'], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^heed: --freeze keeps pretrained layers: it needs --from\n/);
  }, 60_000);
});

describe('heed export --hf', () => {
  it('writes the fine-tuned model as a Hugging Face checkpoint that loads back to the same predictions', async () => {
    const r = await heed(['export', 'ft.safetensors', '--hf', 'hf-out'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`wrote ${join(dir, 'hf-out')} (config.json, model.safetensors, tokenizer.json): BertForSequenceClassification, labels neg, pos\n`);
    expect(readFileSync(join(dir, 'hf-out', 'tokenizer.json'), 'utf8')).toBe(readFileSync(TOKENIZER, 'utf8'));
    const config = JSON.parse(readFileSync(join(dir, 'hf-out', 'config.json'), 'utf8'));
    expect(config).toMatchObject({ architectures: ['BertForSequenceClassification'], model_type: 'bert', id2label: { 0: 'neg', 1: 'pos' } });
    // Fine-tuning again from the exported directory starts from the fine-tuned weights: zero
    // epochs' worth of change shows as the same predictions (lr tiny, one epoch, no refit).
    const again = await heed(['train', 'train.csv', '--from', 'hf-out', '--lr', '1e-12', '--epochs', '1', '--no-refit', '--out', 'again.safetensors', '--quiet'], dir);
    expect(again.code, again.stderr).toBe(0);
    const texts = ['the movie was great', 'so awful, the food', 'a day'];
    const a = await heed(['predict', 'ft.safetensors', ...texts], dir), b = await heed(['predict', 'again.safetensors', ...texts], dir);
    expect(b.stdout).toBe(a.stdout);
  }, 60_000);

  it('refuses a model with no Hugging Face form, and a path that is not a directory', async () => {
    writeFileSync(join(dir, 'tiny.csv'), 'label,sequence\na,x y\nb,y z\na,x x\nb,z z\n');
    await heed(['train', 'tiny.csv', '--model', 'pooling', '--epochs', '1', '--out', 'pool.safetensors', '--quiet'], dir);
    const pool = await heed(['export', 'pool.safetensors', '--hf', 'x'], dir);
    expect(pool.stderr).toBe(`heed: ${join(dir, 'pool.safetensors')}: a pooling model has no Hugging Face form (a BERT-family model does: heed train --from)\n`);
    const file = await heed(['export', 'ft.safetensors', '--hf', 'tiny.csv'], dir);
    expect(file.stderr).toBe(`heed: --hf ${join(dir, 'tiny.csv')}: is not a directory\n`);
    const none = await heed(['export', 'ft.safetensors'], dir);
    expect(none.code).toBe(2);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  }, 60_000);
});

describe('heed train --from <model id>', () => {
  it('downloads the checkpoint once into the cache (a local copy of the Hub) and fine-tunes it; offline, it reads the cache', async () => {
    const requests: string[] = [];
    server = createServer((req, res) => {
      requests.push(req.url!);
      const m = /^\/org\/tiny-bert\/resolve\/main\/(.+)$/.exec(req.url!);
      const path = m && join(dir, 'ckpt', decodeURIComponent(m[1]));
      if (!path || !existsSync(path)) { res.writeHead(404); res.end('Entry not found'); return; }
      res.end(readFileSync(path));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const saved = { ...process.env };
    process.env.HF_ENDPOINT = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    process.env.HEED_CACHE = join(dir, 'cache');
    try {
      const args = ['train', 'train.csv', '--from', 'org/tiny-bert', '--lr', '1e-3', '--epochs', '2', '--no-refit', '--out', 'hub.safetensors', '--quiet'];
      const a = await heed(args, dir);
      expect(a.code, a.stderr).toBe(0);
      expect(requests.filter((u) => u.endsWith('/model.safetensors'))).toHaveLength(1);
      process.env.HEED_OFFLINE = '1';
      const b = await heed(args, dir);
      expect(b.code, b.stderr).toBe(0);
      expect(requests.filter((u) => u.endsWith('/model.safetensors'))).toHaveLength(1);
      expect(readFileSync(join(dir, 'hub.safetensors')).length).toBeGreaterThan(0);
    } finally {
      process.env = saved;
    }
  }, 120_000);
});

describe('heed train --from: bad input', () => {
  it('names the problem in one line and writes nothing', async () => {
    mkdirSync(join(dir, 'no-tokenizer'));
    copyFileSync(join(dir, 'ckpt', 'config.json'), join(dir, 'no-tokenizer', 'config.json'));
    copyFileSync(join(dir, 'ckpt', 'model.safetensors'), join(dir, 'no-tokenizer', 'model.safetensors'));
    const before = ls(dir);
    const run = (args: string[]) => heed(['train', 'train.csv', ...args, '--out', 'bad.safetensors'], dir);
    const model = await run(['--from', 'ckpt', '--model', 'pooling']);
    expect(model.code).toBe(2);
    expect(model.stderr).toMatch(/^heed: --from uses the checkpoint's own model and tokenizer; leave out --model\n/);
    const tag = await run(['--from', 'ckpt', '--task', 'tag']);
    expect(tag.stderr).toMatch(/^heed: --from fine-tunes a classifier; --task tag is not available with it yet\n/);
    const noTok = await run(['--from', 'no-tokenizer']);
    expect(noTok.code).toBe(1);
    expect(noTok.stderr).toBe(`heed: no-tokenizer: no tokenizer.json or vocab.txt: heed cannot tokenize text for this checkpoint\n`);
    const saved = { ...process.env };
    process.env.HEED_OFFLINE = '1';
    process.env.HEED_CACHE = join(dir, 'empty-cache');
    try {
      const offline = await run(['--from', 'org/absent']);
      expect(offline.code).toBe(1);
      expect(offline.stderr).toMatch(/^heed: org\/absent: config\.json is not in the cache .* and offline mode is on; run once online or pass a directory\n$/);
    } finally {
      process.env = saved;
    }
    expect(ls(dir).filter((f) => !before.includes(f) && f !== 'no-tokenizer')).toEqual([]);
    expect(existsSync(join(dir, 'bad.safetensors'))).toBe(false);
  }, 60_000);
});
