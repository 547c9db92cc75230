// Messages between heed.fit (main side) and the training worker. Typed arrays travel as
// transferred buffers, not clones.
import type { BackendName } from '../backends/backend.js';
import type { PackedDataset } from '../data/dataset.js';
import { HeedError } from '../errors.js';
import type { ModelConfig } from '../nn/model.js';
import type { EarlyState, EpochInfo, StepInfo, TrainResult, TrainSettings } from '../train/loop.js';

export interface OptimizerState { step: number; m: Float32Array; v: Float32Array }

export type ToWorker =
  | { type: 'start'; backend: BackendName; config: ModelConfig; params: Float32Array | null; optimizer: OptimizerState | null;
      train: PackedDataset; val: PackedDataset | null; settings: TrainSettings; checkpoints: boolean; early: EarlyState | null;
      /** The caller's init({ maxMemoryMB }) cap, applied to the worker's own context too. */
      maxMemoryMB: number | null;
      /** Data-parallel threads for the loop's steps (1: train on this worker alone). */
      threads: number }
  | { type: 'cancel' }
  // A data-parallel replica (src/parallel/): `shared` holds the weights (region 0) and one
  // gradient region per helper (region `index`), each `n` floats, after an Int32 control block.
  | { type: 'replica'; backend: BackendName; config: ModelConfig; maxMemoryMB: number | null; shared: SharedArrayBuffer; index: number; n: number }
  // One shard of a step: forward and backward on these rows, gradients scaled by `fraction`.
  | { type: 'shard'; seq: number; tokens: Int32Array; shape: [number, number]; labels: Int32Array | Float32Array; fraction: number; step: number };

export type FromWorker =
  | { type: 'step'; info: StepInfo }
  | { type: 'epoch'; info: EpochInfo }
  | { type: 'checkpoint'; epoch: number; params: Float32Array; optimizer: OptimizerState; early: EarlyState }
  | { type: 'done'; params: Float32Array; optimizer: OptimizerState; result: TrainResult }
  | { type: 'error'; name: string; message: string }
  | { type: 'ready' }
  | { type: 'shard-done'; seq: number; loss: number; logits: Float32Array }
  | { type: 'shard-error'; seq: number; name: string; message: string };

/** The buffers a packed dataset moves to a worker with (transferred, not cloned). */
export const transferables = (d: PackedDataset | null): ArrayBuffer[] =>
  d ? [d.tokens.buffer as ArrayBuffer, d.offsets.buffer as ArrayBuffer, d.targets.labels.buffer as ArrayBuffer] : [];

/** The two ends of a message channel, whatever the platform: worker_threads or Web Workers. */
export interface Endpoint {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (message: unknown) => void): void;
}

/** An error as it crosses a message channel: its name and message. */
export function describeError(e: unknown): { name: string; message: string } {
  return { name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e) };
}

/** The HeedError a caller sees for an error a worker reported: a HeedError keeps its message (it
 *  already names the problem); anything else is prefixed with `where` and its name. */
export function errorFromWorker(m: { name: string; message: string }, where: string): HeedError {
  return new HeedError(m.name === 'HeedError' ? m.message : `${where}: ${m.name}: ${m.message}`);
}
