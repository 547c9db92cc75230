// The worker side of heed.fit, independent of the platform: given an endpoint, it waits for
// 'start', trains with its own heed context, streams progress, and answers with the final
// weights. Errors become an 'error' message; the main side turns it into a HeedError.
import type { Context } from '../context.js';
import type { InitOptions } from '../init.js';
import type { Model } from '../nn/model.js';
import { modelFor } from '../nn/registry.js';
import type { AdamwOptimizer } from '../nn/optim.js';
import { freshEarlyState, trainLoop, type EarlyState } from '../train/loop.js';
import { describeError, type Endpoint, type FromWorker, type OptimizerState, type ToWorker } from './protocol.js';
import { DataParallelTrainer } from '../parallel/trainer.js';
import { replicaHandler } from '../parallel/replica.js';

/** Builds the model and optimizer of a 'start' message in context h. */
export function materialise(h: Context, msg: Extract<ToWorker, { type: 'start' }>): { model: Model; opt: AdamwOptimizer } {
  const { config, settings: s } = msg;
  const model = modelFor(h, config, !msg.params);
  if (msg.params) model.be.write(model.params, msg.params);
  const opt = h.adamwOptimizer(model, { lr: s.lr, beta1: s.beta1, beta2: s.beta2, eps: s.eps, weightDecay: s.weightDecay, clipNorm: s.clipNorm, freeze: s.freeze });
  if (msg.optimizer) opt.loadState(msg.optimizer);
  return { model, opt };
}

export function snapshot(model: Model, opt: AdamwOptimizer): { params: Float32Array; optimizer: OptimizerState } {
  return { params: model.be.read(model.params, model.layout.total), optimizer: opt.state() };
}

const buffers = (...a: Float32Array[]) => a.map((x) => x.buffer as ArrayBuffer);

/** A copy of the early-stopping state that can be transferred without touching the live one. */
export const copyEarly = (e: EarlyState): EarlyState => ({ ...e, params: e.params ? e.params.slice() : null });

/** Serves 'start' (and replica) messages on `ep`. `init` is heed's, passed in by the worker entry
 *  so that this module, which fit imports, does not import the package entry (a cycle). */
export function serveTraining(ep: Endpoint, pause: () => Promise<void>, init: (o: InitOptions) => Promise<Context>): void {
  let cancelled = false;
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => ep.postMessage(m, transfer);
  const replica = replicaHandler(post, init);
  ep.onMessage(async (raw) => {
    const msg = raw as ToWorker;
    if (replica(msg)) return;
    if (msg.type === 'cancel') { cancelled = true; return; }
    if (msg.type !== 'start') return;
    let parallel: DataParallelTrainer | null = null;
    try {
      const h = await init({ backend: msg.backend, ...(msg.maxMemoryMB ? { maxMemoryMB: msg.maxMemoryMB } : {}) });
      const { model, opt } = materialise(h, msg);
      const early: EarlyState = msg.early ?? freshEarlyState();
      if (msg.threads > 1) parallel = await DataParallelTrainer.start(h, model, opt, { threads: msg.threads });
      const result = await trainLoop(model, opt, msg.train, msg.val, msg.settings, {
        onStep: (info) => post({ type: 'step', info }),
        onEpoch: (info) => post({ type: 'epoch', info }),
        onCheckpoint: msg.checkpoints ? (epoch) => {
          const s = snapshot(model, opt), e = copyEarly(early);
          post({ type: 'checkpoint', epoch, ...s, early: e }, buffers(s.params, s.optimizer.m, s.optimizer.v, ...(e.params ? [e.params] : [])));
        } : undefined,
        shouldStop: () => cancelled,
        pause,
      }, early, parallel);
      const s = snapshot(model, opt);
      post({ type: 'done', ...s, result }, buffers(s.params, s.optimizer.m, s.optimizer.v));
    } catch (e) {
      post({ type: 'error', ...describeError(e) });
    } finally {
      await parallel?.close();
    }
  });
}
