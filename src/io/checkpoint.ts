// Training checkpoints: a safetensors file holding the model's parameters (PyTorch names), AdamW's
// exp_avg / exp_avg_sq under "optimizer.exp_avg.<name>" / "optimizer.exp_avg_sq.<name>", and
// metadata to resume exactly: config, tokenizer, labels, epochs done, optimizer step, the run's
// settings and a fingerprint of its data. Model files stay free of optimizer state.
import { HeedError } from '../errors.js';
import type { ModelConfig } from '../nn/model.js';
import type { OptimizerState } from '../worker/protocol.js';
import type { EarlyState } from '../train/loop.js';
import { ParamLayout } from '../nn/block.js';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors.js';
import { parseStrictJson } from './json.js';

export interface Checkpoint {
  config: ModelConfig;
  tokenizer: unknown;
  labels: string[];
  epoch: number;
  params: Float32Array;
  optimizer: OptimizerState;
  /** JSON of whatever must match for a resume to continue the same run. */
  run: string;
  history: unknown[];
  /** Early-stopping state (best validation loss, its epoch and weights), when the run uses it. */
  early?: EarlyState;
}

export function encodeCheckpoint(c: Checkpoint, layout: ParamLayout): Uint8Array {
  const tensors: NamedTensor[] = [];
  const add = (prefix: string, src: Float32Array) => {
    for (const e of layout.entries) tensors.push({ name: prefix + e.name, shape: e.shape, data: src.subarray(e.offset, e.offset + e.size) });
  };
  add('', c.params);
  add('optimizer.exp_avg.', c.optimizer.m);
  add('optimizer.exp_avg_sq.', c.optimizer.v);
  if (c.early?.params) add('early_stopping.best.', c.early.params);
  return encodeSafetensors(tensors, {
    format: 'heed-checkpoint',
    config: JSON.stringify(c.config),
    tokenizer: JSON.stringify(c.tokenizer ?? null),
    labels: JSON.stringify(c.labels),
    epoch: String(c.epoch),
    step: String(c.optimizer.step),
    run: c.run,
    history: JSON.stringify(c.history),
    early: JSON.stringify(c.early ? { best: c.early.best, bestEpoch: c.early.bestEpoch, sinceBest: c.early.sinceBest } : null),
  });
}

/** Decodes a checkpoint; `layoutOf` gives the parameter layout of a config (validating it). */
export function decodeCheckpoint(bytes: Uint8Array, what: string, layoutOf: (c: ModelConfig) => ParamLayout): Checkpoint {
  const { metadata: md, tensors } = decodeSafetensors(bytes, what);
  const err = (m: string): never => { throw new HeedError(`${what}: ${m}`); };
  if (md.format !== 'heed-checkpoint') err('not a heed checkpoint');
  const json = (k: string) => (md[k] === undefined ? err(`metadata has no "${k}"`) : parseStrictJson(md[k], `${what} metadata "${k}"`));
  const config = json('config') as ModelConfig;
  const layout = layoutOf(config);
  const gather = (prefix: string) => {
    const out = new Float32Array(layout.total);
    for (const e of layout.entries) {
      const t = tensors.get(prefix + e.name);
      if (!t || t.data.length !== e.size) err(`tensor "${prefix + e.name}" is missing or misshapen`);
      out.set(t!.data, e.offset);
    }
    return out;
  };
  const rawEarly = md.early === undefined ? null : json('early') as { best: unknown; bestEpoch: unknown; sinceBest: unknown } | null;
  const hasBest = tensors.has('early_stopping.best.' + layout.entries[0].name);
  if (tensors.size !== (hasBest ? 4 : 3) * layout.entries.length) err('unexpected tensors for this config');
  let early: EarlyState | undefined;
  if (rawEarly !== null) {
    const { best, bestEpoch, sinceBest } = rawEarly;
    if (!(best === null || typeof best === 'number') || !(bestEpoch === null || Number.isInteger(bestEpoch)) || !Number.isInteger(sinceBest)) err('invalid early-stopping state');
    early = { best: best as number | null, bestEpoch: bestEpoch as number | null, sinceBest: sinceBest as number, params: hasBest ? gather('early_stopping.best.') : null };
  }
  const epoch = Number(md.epoch), step = Number(md.step);
  if (!Number.isInteger(epoch) || epoch < 0 || !Number.isInteger(step) || step < 0) err('invalid epoch or step');
  return {
    config, tokenizer: json('tokenizer'), labels: json('labels') as string[], epoch,
    params: gather(''), optimizer: { step, m: gather('optimizer.exp_avg.'), v: gather('optimizer.exp_avg_sq.') },
    run: md.run ?? '', history: (json('history') as unknown[]) ?? [], early,
  };
}
