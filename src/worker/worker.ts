// Entry point of the training worker (heed/worker): a worker_thread in Node, a module Web Worker
// in browsers. One code path: adapt the platform's port to an Endpoint and serve.
import { init } from '../index.js';
import type { Endpoint } from './protocol.js';
import { serveTraining } from './run.js';

interface WebWorkerScope {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', h: (e: MessageEvent) => void): void;
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

if (isNode) {
  const { parentPort } = await import('node:worker_threads');
  if (parentPort) {
    const ep: Endpoint = {
      postMessage: (m, t) => parentPort.postMessage(m, t),
      onMessage: (h) => parentPort.on('message', h),
    };
    serveTraining(ep, () => new Promise((r) => setImmediate(r)), init);
  }
} else {
  const scope = globalThis as unknown as WebWorkerScope;
  const ep: Endpoint = {
    postMessage: (m, t) => scope.postMessage(m, t),
    onMessage: (h) => scope.addEventListener('message', (e) => h(e.data)),
  };
  // A MessageChannel round trip yields to the event loop without setTimeout's 4 ms clamp.
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  serveTraining(ep, () => new Promise<void>((r) => { waiting.push(r); channel.port2.postMessage(0); }), init);
}
