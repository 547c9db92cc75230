// Checkpoints from where people keep them (Node): a local directory laid out as on the Hugging Face
// Hub, or a Hub model id / URL fetched over HTTPS into a cache directory (the Hub's real
// `<endpoint>/<id>/resolve/<revision>/<file>` layout), with an offline mode that never touches the
// network. Each file is downloaded once: to a temporary name, then renamed, so an interrupted
// download never leaves a half-written file that a later run would trust.
import { HeedError } from '../errors.js';

/** The files of a BERT-family checkpoint heed reads; null where the checkpoint has none. */
export interface CheckpointFiles {
  config: string;
  weights: Uint8Array;
  /** tokenizer.json, or (older checkpoints) vocab.txt with tokenizer_config.json. */
  tokenizerJson: string | null;
  vocabTxt: string | null;
  tokenizerConfig: string | null;
  /** sentence-transformers: modules.json and 1_Pooling/config.json. */
  modules: string | null;
  pooling: string | null;
  /** Where the files came from, for messages: a directory. */
  where: string;
}

export interface HubOptions {
  /** Cache directory (default: $HEED_CACHE, else ~/.cache/heed/hub). */
  cacheDir?: string;
  /** A branch, tag or commit (default "main"). */
  revision?: string;
  /** Never use the network: the files must be in the cache (default: $HEED_OFFLINE === "1"). */
  offline?: boolean;
  /** The Hub's address (default https://huggingface.co; tests serve a copy on 127.0.0.1). */
  endpoint?: string;
  /** Sent as a bearer token for gated or private models (default: $HF_TOKEN). */
  token?: string;
}

const REQUIRED = ['config.json', 'model.safetensors'] as const;
const OPTIONAL = ['tokenizer.json', 'vocab.txt', 'tokenizer_config.json', 'modules.json', '1_Pooling/config.json'] as const;
type FileName = (typeof REQUIRED)[number] | (typeof OPTIONAL)[number];

/** A Hub model id ("org/name" or "name") or a Hub URL of a model; null for anything else. */
export function hubId(spec: string): string | null {
  const url = /^https?:\/\/[^/]+\/([A-Za-z0-9][\w.-]*(?:\/[A-Za-z0-9][\w.-]*)?)\/?$/.exec(spec);
  if (url) return url[1];
  return /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(spec) && !spec.includes('..') ? spec : null;
}

async function node() {
  const [fs, path, os] = await Promise.all([import('node:fs/promises'), import('node:path'), import('node:os')]);
  return { fs, path, os };
}

/** Reads a checkpoint directory; a HeedError names the directory and the missing file. */
export async function readCheckpointDir(dir: string): Promise<CheckpointFiles> {
  const { fs, path } = await node();
  const st = await fs.stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new HeedError(`${dir}: not a directory`);
  const read = async (name: FileName, binary: boolean, required: boolean) => {
    try {
      return binary ? new Uint8Array(await fs.readFile(path.join(dir, name))) : await fs.readFile(path.join(dir, name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !required) return null;
      throw new HeedError(`${path.join(dir, name)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing (a checkpoint needs config.json and model.safetensors)' : (e as Error).message}`);
    }
  };
  return {
    config: (await read('config.json', false, true)) as string,
    weights: (await read('model.safetensors', true, true)) as Uint8Array,
    tokenizerJson: (await read('tokenizer.json', false, false)) as string | null,
    vocabTxt: (await read('vocab.txt', false, false)) as string | null,
    tokenizerConfig: (await read('tokenizer_config.json', false, false)) as string | null,
    modules: (await read('modules.json', false, false)) as string | null,
    pooling: (await read('1_Pooling/config.json', false, false)) as string | null,
    where: dir,
  };
}

/** The cache directory of a model id and revision. */
export async function cachePath(id: string, o: HubOptions = {}): Promise<string> {
  const { path, os } = await node();
  const root = o.cacheDir ?? process.env.HEED_CACHE ?? path.join(os.homedir(), '.cache', 'heed', 'hub');
  const revision = o.revision ?? 'main';
  if (!/^[\w.-]+$/.test(revision)) throw new HeedError(`revision ${JSON.stringify(revision)} is not a branch, tag or commit name`);
  return path.join(root, ...id.split('/'), revision);
}

/** Makes sure every file of a Hub checkpoint is in the cache (downloading what is missing unless
 *  offline) and reads it from there. Optional files the Hub does not have (404) are remembered as
 *  absent, so a second run asks for nothing. */
export async function fetchCheckpoint(spec: string, o: HubOptions = {}): Promise<CheckpointFiles> {
  const id = hubId(spec);
  if (id === null) throw new HeedError(`${JSON.stringify(spec)} is neither a directory nor a Hugging Face model id ("org/name")`);
  const { fs, path } = await node();
  const dir = await cachePath(id, o), revision = o.revision ?? 'main';
  const offline = o.offline ?? process.env.HEED_OFFLINE === '1';
  const endpoint = (o.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const token = o.token ?? process.env.HF_TOKEN;
  const absent = path.join(dir, '.absent.json');
  let missing: string[] = JSON.parse(await fs.readFile(absent, 'utf8').catch(() => '[]'));
  for (const name of [...REQUIRED, ...OPTIONAL]) {
    const file = path.join(dir, name);
    if (await fs.stat(file).then(() => true, () => false)) continue;
    if (missing.includes(name)) continue;
    if (offline) {
      if ((REQUIRED as readonly string[]).includes(name)) {
        throw new HeedError(`${id}: ${name} is not in the cache (${dir}) and offline mode is on; run once online or pass a directory`);
      }
      continue;
    }
    const url = `${endpoint}/${id}/resolve/${encodeURIComponent(revision)}/${name}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, redirect: 'follow' });
    } catch (e) {
      throw new HeedError(`${id}: could not download ${name} from ${url} (${(e as Error).message}); pass a directory, or use the cache offline`);
    }
    if (res.status === 404 && !(REQUIRED as readonly string[]).includes(name)) {
      missing = [...missing, name];
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(absent, JSON.stringify(missing));
      continue;
    }
    if (!res.ok) throw new HeedError(`${id}: ${url} answered ${res.status} ${res.statusText}${res.status === 401 || res.status === 403 ? ' (a gated or private model: set HF_TOKEN)' : ''}`);
    let body: Uint8Array;
    try {
      body = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw new HeedError(`${id}: the download of ${name} broke off (${(e as Error).message}); nothing was cached`);
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > 0 && declared !== body.length && !res.headers.get('content-encoding')) {
      throw new HeedError(`${id}: ${name} arrived with ${body.length} of ${declared} bytes; nothing was cached`);
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.part`;
    await fs.writeFile(tmp, body);
    await fs.rename(tmp, file);
  }
  return readCheckpointDir(dir);
}

/** A checkpoint from a directory, or else from the Hub (through the cache). */
export async function openCheckpoint(spec: string, o: HubOptions = {}): Promise<CheckpointFiles> {
  const { fs } = await node();
  const st = await fs.stat(spec).catch(() => null);
  if (st?.isDirectory()) return readCheckpointDir(spec);
  if (st) throw new HeedError(`${spec}: a checkpoint is a directory (config.json, model.safetensors, tokenizer files), not a file`);
  return fetchCheckpoint(spec, o);
}
