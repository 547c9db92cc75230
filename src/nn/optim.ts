// AdamW over a model's whole parameter block: m and v share the parameters' layout, so a step is
// one kernel call. Semantics and defaults are torch.optim.AdamW's (one parameter group: every
// parameter decays, biases, norms and embeddings included).
import type { Buf } from '../backends/backend.js';
import { HeedError } from '../errors.js';
import type { Model } from './model.js';

export interface AdamwOptimizerOptions {
  lr?: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number;
  /** Global L2 norm bound (torch.nn.utils.clip_grad_norm_); none when absent. */
  clipNorm?: number;
}

function option(name: string, v: unknown, dflt: number, ok: (x: number) => boolean, what: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new HeedError(`adamwOptimizer: ${name} must be ${what}, got ${String(v)}`);
  return v;
}

export class AdamwOptimizer {
  readonly model: Model;
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly clipNorm: number | undefined;
  /** Steps taken so far (the next update uses step + 1, as torch counts from 1). */
  step = 0;
  /** Global gradient L2 norm of the last step, before clipping. */
  lastGradNorm = 0;
  /** @internal */ m: Buf;
  /** @internal */ v: Buf;
  #disposed = false;

  constructor(model: Model, o: AdamwOptimizerOptions = {}) {
    model.alive();
    if (o === null || typeof o !== 'object') throw new HeedError('adamwOptimizer: options must be an object');
    this.model = model;
    this.lr = option('lr', o.lr, 1e-3, (x) => x >= 0, 'a non-negative number');
    this.beta1 = option('beta1', o.beta1, 0.9, (x) => x >= 0 && x < 1, 'in [0, 1)');
    this.beta2 = option('beta2', o.beta2, 0.999, (x) => x >= 0 && x < 1, 'in [0, 1)');
    this.eps = option('eps', o.eps, 1e-8, (x) => x >= 0, 'a non-negative number');
    this.weightDecay = option('weightDecay', o.weightDecay, 0.01, (x) => x >= 0, 'a non-negative number');
    this.clipNorm = o.clipNorm === undefined ? undefined : option('clipNorm', o.clipNorm, 0, (x) => x > 0, 'a positive number');
    this.m = model.be.alloc(model.layout.total);
    this.v = model.be.alloc(model.layout.total);
  }

  /** @internal */
  alive(): void {
    if (this.#disposed) throw new HeedError('this optimizer was used after dispose()');
  }

  /** Optimizer state for a checkpoint: step and copies of exp_avg and exp_avg_sq in parameter order. */
  state(): { step: number; m: Float32Array; v: Float32Array } {
    this.alive();
    const n = this.model.layout.total, be = this.model.be;
    return { step: this.step, m: be.read(this.m, n), v: be.read(this.v, n) };
  }

  loadState(s: { step: number; m: ArrayLike<number>; v: ArrayLike<number> }): void {
    this.alive();
    const n = this.model.layout.total;
    if (!Number.isInteger(s?.step) || s.step < 0) throw new HeedError(`optimizer state: step must be a non-negative integer, got ${String(s?.step)}`);
    if (s.m?.length !== n || s.v?.length !== n) throw new HeedError(`optimizer state: m and v must hold ${n} values each`);
    this.model.be.write(this.m, s.m);
    this.model.be.write(this.v, s.v);
    this.step = s.step;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.model.be.free(this.m);
    this.model.be.free(this.v);
  }
}
