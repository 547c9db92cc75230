// AdamW over a model's whole parameter block: m and v share the parameters' layout, so a step is
// one kernel call. Semantics and defaults are torch.optim.AdamW's (one parameter group: every
// parameter decays, biases, norms and embeddings included). Freezing the embeddings and the first
// layers leaves a prefix of the block out of the step (the layout is in registration order:
// embeddings, then the layers in order, then the rest), so a frozen step is still one call.
import type { Buf } from '../backends/backend.js';
import { HeedError } from '../errors.js';
import { adamwOption } from '../ops/adamw.js';
import type { ParamLayout } from './block.js';
import { firstNonFinite, type Model } from './model.js';

export interface AdamwOptimizerOptions {
  lr?: number; beta1?: number; beta2?: number; eps?: number; weightDecay?: number;
  /** Global L2 norm bound (torch.nn.utils.clip_grad_norm_); none when absent. */
  clipNorm?: number;
  /** Parameters left as they are: the embeddings and the first N layers (a number), or the
   *  embeddings and every layer ('encoder': only what follows them trains, such as a classifier
   *  head). Frozen parameters get no update, no weight decay and no share of the clipping norm.
   *  Default 0: nothing frozen. */
  freeze?: number | 'encoder';
}

/** The index of the layer a parameter belongs to (`layers.3.`, `layer.3.`, `h.3.`), or null. */
const layerOf = (name: string): number | null => {
  const m = /(?:^|\.)(?:layers?|h)\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : null;
};

/** Where the trainable part of a model's block starts for a `freeze` setting (0: all trains). */
export function frozenPrefix(layout: ParamLayout, kind: string, freeze: unknown, who = 'adamwOptimizer'): number {
  if (freeze === undefined || freeze === 0) return 0;
  const entries = layout.entries;
  const layers = entries.reduce((n, e) => Math.max(n, (layerOf(e.name) ?? -1) + 1), 0);
  if (!(freeze === 'encoder' || (typeof freeze === 'number' && Number.isInteger(freeze) && freeze >= 0 && freeze <= layers))) {
    throw new HeedError(`${who}: freeze must be 'encoder' or a number of layers from 0 to ${layers} (this ${kind} model has ${layers}), got ${JSON.stringify(freeze) ?? String(freeze)}`);
  }
  const n = freeze === 'encoder' ? layers : freeze;
  let end = 0;
  for (const e of entries) {
    const layer = layerOf(e.name);
    const frozen = layer !== null ? layer < n : /embed|wte|wpe/.test(e.name) && end === e.offset;
    if (!frozen) break;
    end = e.offset + e.size;
  }
  return end;
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
  /** Global gradient L2 norm of the last step, before clipping (of the trainable parameters). */
  lastGradNorm = 0;
  /** @internal the first element of the parameter block the steps update (freeze's prefix ends here). */
  readonly trainableFrom: number;
  /** @internal */ m: Buf;
  /** @internal */ v: Buf;
  #disposed = false;
  /** The data-parallel trainer using it (and what frees it), or null. */
  #user: { who: string; until: string } | null = null;

  constructor(model: Model, o: AdamwOptimizerOptions = {}) {
    model.alive();
    if (o === null || typeof o !== 'object') throw new HeedError('adamwOptimizer: options must be an object');
    this.model = model;
    this.lr = adamwOption('adamwOptimizer:', 'lr', o.lr);
    this.beta1 = adamwOption('adamwOptimizer:', 'beta1', o.beta1);
    this.beta2 = adamwOption('adamwOptimizer:', 'beta2', o.beta2);
    this.eps = adamwOption('adamwOptimizer:', 'eps', o.eps);
    this.weightDecay = adamwOption('adamwOptimizer:', 'weightDecay', o.weightDecay);
    this.clipNorm = adamwOption('adamwOptimizer:', 'clipNorm', o.clipNorm);
    this.trainableFrom = frozenPrefix(model.layout, model.config.kind, o.freeze);
    this.m = model.be.alloc(model.layout.total);
    try {
      this.v = model.be.alloc(model.layout.total);
    } catch (e) {
      model.be.free(this.m);
      throw e;
    }
  }

  /** @internal marks the optimizer as in use by `who` until the returned function is called:
   *  meanwhile dispose() and loadState() refuse. */
  lease(caller: string, who: string, until: string): () => void {
    this.alive();
    if (this.#user) throw new HeedError(`${caller}: this optimizer is already in use by ${this.#user.who}; ${this.#user.until}`);
    const user = { who, until };
    this.#user = user;
    return () => { if (this.#user === user) this.#user = null; };
  }

  #checkFree(what: string): void {
    if (this.#user) throw new HeedError(`${what}: this optimizer is in use by ${this.#user.who}; ${this.#user.until}`);
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
    this.#checkFree('loadState');
    const n = this.model.layout.total, step: unknown = s?.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) throw new HeedError(`optimizer state: step must be a non-negative integer, got ${String(step)}`);
    // Read once into copies of exactly n values, which are what gets checked and written.
    const copy = (name: string, a: ArrayLike<number> | undefined): Float32Array => {
      const length: unknown = a == null ? undefined : a.length;
      if (length !== n) throw new HeedError(`optimizer state: m and v must hold ${n} values each (${name} has ${String(length)})`);
      const out = new Float32Array(n);
      try {
        out.set(a!);
      } catch (e) {
        throw new HeedError(`optimizer state: ${name} could not be read (${e instanceof Error ? e.message : String(e)})`, { cause: e });
      }
      const bad = firstNonFinite(out);
      if (bad >= 0) throw new HeedError(`optimizer state: ${name} holds ${out[bad]} at element ${bad}; the state must be finite`);
      return out;
    };
    const m = copy('m', s.m), v = copy('v', s.v);
    this.model.be.write(this.m, m);
    this.model.be.write(this.v, v);
    this.step = step;
  }

  /** Frees the moments; using the optimizer afterwards throws. An optimizer in use by a
   *  data-parallel trainer refuses (close() the trainer first). */
  dispose(): void {
    if (this.#disposed) return;
    this.#checkFree('dispose');
    this.#disposed = true;
    this.model.be.free(this.m);
    this.model.be.free(this.v);
  }
}
