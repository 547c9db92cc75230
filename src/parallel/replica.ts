// A helper thread of the data-parallel trainer: its own heed context and model replica. Each
// 'shard' message: read the weights the coordinator published, forward and backward on the shard,
// scale the gradient by the shard's share of the batch, publish it in this replica's region.
// Weights come from the coordinator every step, so a replica keeps no optimizer state and never
// drifts from the coordinator's model.
import type { Context } from '../context.js';
import type { InitOptions } from '../init.js';
import { HeedError } from '../errors.js';
import type { Model } from '../nn/model.js';
import { modelFor } from '../nn/registry.js';
import { computeGradients } from '../nn/step.js';
import { describeError, type FromWorker, type ToWorker } from '../worker/protocol.js';
import { viewShared, type SharedBlock } from './shared.js';

type ReplicaMsg = Extract<ToWorker, { type: 'replica' }>;
type ShardMsg = Extract<ToWorker, { type: 'shard' }>;

export class Replica {
  readonly #model: Model;
  readonly #shared: SharedBlock;
  readonly #index: number;

  private constructor(model: Model, shared: SharedBlock, index: number) {
    this.#model = model;
    this.#shared = shared;
    this.#index = index;
  }

  static async create(msg: ReplicaMsg, init: (o: InitOptions) => Promise<Context>): Promise<Replica> {
    const h = await init({ backend: msg.backend, ...(msg.maxMemoryMB ? { maxMemoryMB: msg.maxMemoryMB } : {}) });
    const { config } = msg;
    const model = modelFor(h, config, false);           // the weights come from the coordinator
    if (model.layout.total !== msg.n) throw new HeedError(`dataParallel: replica has ${model.layout.total} parameters, the coordinator ${msg.n}`);
    return new Replica(model, viewShared(msg.shared, msg.index + 1, msg.n), msg.index);
  }

  step(msg: ShardMsg): Extract<FromWorker, { type: 'shard-done' }> {
    const model = this.#model, { control, regions } = this.#shared;
    if (Atomics.load(control, 0) !== msg.seq) throw new HeedError(`dataParallel: the weights for step ${msg.step} were not published`);
    model.be.write(model.params, regions[0]);
    const [b, T] = msg.shape;
    const loss = computeGradients(model, msg.tokens, b, T, msg.labels, msg.step, 'dataParallel');
    if (msg.fraction !== 1) model.k.scale(model.grads, model.layout.total, msg.fraction);
    model.be.readInto(model.grads, regions[this.#index]);
    Atomics.store(control, this.#index, msg.seq);
    return { type: 'shard-done', seq: msg.seq, loss, logits: model.readLogits(model.currentPlan!, b) };
  }
}

/** Serves replica messages on a worker; returns false for messages that are not its own. `init` is
 *  heed's (passed in, so that this module does not import the package entry). */
export function replicaHandler(post: (m: FromWorker, transfer?: ArrayBuffer[]) => void,
                               init: (o: InitOptions) => Promise<Context>): (msg: ToWorker) => boolean {
  let replica: Promise<Replica> | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  return (msg) => {
    if (msg.type === 'replica') {
      replica = Replica.create(msg, init);
      replica.then(() => post({ type: 'ready' }), (e) => post({ type: 'error', ...describeError(e) }));
      return true;
    }
    if (msg.type !== 'shard') return false;
    const r = replica;
    // Shards run in arrival order, after the replica exists.
    queue = queue.then(async () => {
      if (!r) throw new HeedError('dataParallel: a shard arrived before the replica was set up');
      const out = (await r).step(msg);
      post(out, [out.logits.buffer as ArrayBuffer]);
    }).catch((e) => post({ type: 'shard-error', seq: msg.seq, ...describeError(e) }));
    return true;
  };
}
