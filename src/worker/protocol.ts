// Messages between heed.fit (main side) and the training worker. Typed arrays travel as
// transferred buffers, not clones.
import type { BackendName } from '../backends/backend.js';
import { HeedError } from '../errors.js';
import type { ModelConfig } from '../nn/model.js';
import type { EarlyState, EpochInfo, StepInfo, TrainResult, TrainSettings } from '../train/loop.js';

/** Ragged sequences packed into one buffer: sequence i is tokens[offsets[i] .. offsets[i+1]). */
export interface PackedData { tokens: Int32Array; offsets: Int32Array; labels: Int32Array }

export interface OptimizerState { step: number; m: Float32Array; v: Float32Array }

export type ToWorker =
  | { type: 'start'; backend: BackendName; config: ModelConfig; params: Float32Array | null; optimizer: OptimizerState | null;
      train: PackedData; val: PackedData | null; settings: TrainSettings; checkpoints: boolean; early: EarlyState | null;
      /** The caller's init({ maxMemoryMB }) cap, applied to the worker's own context too. */
      maxMemoryMB: number | null;
      /** Data-parallel threads for the loop's steps (1: train on this worker alone). */
      threads: number }
  | { type: 'cancel' }
  // A data-parallel replica (src/parallel/): `shared` holds the weights (region 0) and one
  // gradient region per helper (region `index`), each `n` floats, after an Int32 control block.
  | { type: 'replica'; backend: BackendName; config: ModelConfig; maxMemoryMB: number | null; shared: SharedArrayBuffer; index: number; n: number }
  // One shard of a step: forward and backward on these rows, gradients scaled by `fraction`.
  | { type: 'shard'; seq: number; tokens: Int32Array; shape: [number, number]; labels: Int32Array; fraction: number; step: number };

export type FromWorker =
  | { type: 'step'; info: StepInfo }
  | { type: 'epoch'; info: EpochInfo }
  | { type: 'checkpoint'; epoch: number; params: Float32Array; optimizer: OptimizerState; early: EarlyState }
  | { type: 'done'; params: Float32Array; optimizer: OptimizerState; result: TrainResult }
  | { type: 'error'; name: string; message: string }
  | { type: 'ready' }
  | { type: 'shard-done'; seq: number; loss: number; logits: Float32Array }
  | { type: 'shard-error'; seq: number; name: string; message: string };

export function pack(seqs: readonly ArrayLike<number>[], labels: ArrayLike<number>): PackedData {
  const offsets = new Int32Array(seqs.length + 1);
  for (let i = 0; i < seqs.length; i++) offsets[i + 1] = offsets[i] + seqs[i].length;
  const tokens = new Int32Array(offsets[seqs.length]);
  for (let i = 0; i < seqs.length; i++) tokens.set(seqs[i], offsets[i]);
  return { tokens, offsets, labels: Int32Array.from(labels) };
}

export function unpack(d: PackedData): { sequences: Int32Array[]; labels: Int32Array } {
  const sequences: Int32Array[] = [];
  for (let i = 0; i + 1 < d.offsets.length; i++) sequences.push(d.tokens.subarray(d.offsets[i], d.offsets[i + 1]));
  return { sequences, labels: d.labels };
}

export const transferables = (d: PackedData | null): ArrayBuffer[] =>
  d ? [d.tokens.buffer as ArrayBuffer, d.offsets.buffer as ArrayBuffer, d.labels.buffer as ArrayBuffer] : [];

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
