// Starts heed's worker script (heed/worker) on whatever the platform offers: a worker_thread in
// Node, a module Web Worker in browsers. fit() runs its training loop there; the data-parallel
// trainer runs its replicas there. rollup.config.mjs rewrites the URL below for the bundles.
import { HeedError } from '../errors.js';

export interface WorkerLike {
  postMessage(m: unknown, transfer?: ArrayBuffer[]): void;
  terminate(): unknown;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** `who` names the caller in errors ("fit", "dataParallel") and `name` the worker ("the training
 *  worker"). onFailure gets crashes and exits. */
export async function spawnWorker(who: string, name: string, onMessage: (m: unknown) => void, onFailure: (e: Error) => void): Promise<WorkerLike> {
  const url = new URL('../worker/worker.js', import.meta.url);
  if (isNode) {
    const [{ Worker }, { existsSync }, { fileURLToPath }] = await Promise.all([
      import('node:worker_threads'), import('node:fs'), import('node:url'),
    ]);
    if (!existsSync(fileURLToPath(url))) {
      throw new HeedError(`${who}: the worker script ${fileURLToPath(url)} is missing (run npm run build)${who === 'fit' ? ', or pass worker: false' : ''}`);
    }
    const w = new Worker(url);
    w.on('message', onMessage);
    w.on('error', (e) => onFailure(e));
    w.on('exit', (code) => onFailure(new Error(`${name} exited with code ${code}`)));
    return w as unknown as WorkerLike;
  }
  const w = new Worker(url, { type: 'module' });
  w.onmessage = (e) => onMessage(e.data);
  w.onerror = (e) => { e.preventDefault?.(); onFailure(new Error(e.message || `${name} failed`)); };
  w.onmessageerror = () => onFailure(new Error(`a message from ${name} could not be read`));
  return w as unknown as WorkerLike;
}
