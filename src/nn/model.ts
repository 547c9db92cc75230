// What both classifiers share: a parameter block (params + grads in one layout), an activation
// arena planned per batch shape, token validation, forward, stateDict and dispose. A model
// subclass supplies its parameter specs, its arena plan, and its forward and backward passes
// (explicit, llm.c style: the backward mirrors the forward in reverse, no autograd).
import { MAX_ELEMENTS, isPlannable, type Backend, type Buf, type IBuf } from '../backends/backend.js';
import type { Kernels } from '../backends/kernels.js';
import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Arena, ParamLayout, SizingArena, type ParamSpec } from './block.js';
import { Rng } from './rng.js';

export interface TransformerConfig {
  kind: 'transformer';
  vocabSize: number; maxLen: number; dModel: number; heads: number; ffDim: number; layers: number;
  classes: number; seed: number;
}
export interface PoolingConfig { kind: 'pooling'; vocabSize: number; dModel: number; classes: number; seed: number }
export type ModelConfig = TransformerConfig | PoolingConfig;

/** Index of the first NaN or ±Infinity in a, or -1. */
export function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/** A hold on a model: see Model.lease. */
export interface ModelLease {
  release(): void;
  /** Refuses loadStateDict() while set; `why` completes "this <kind> model …" in that error. */
  lockWeights(why: string | null): void;
}

export type StateDict = Record<string, { shape: number[]; data: Float32Array }>;

/** Buffers every plan has: the inputs and the head's output and its gradient. */
export interface BasePlan {
  tokens: IBuf;   // [B,T]
  labels: IBuf;   // [B]
  targets: Buf;   // [B] (classes: 1)
  logits: Buf;    // [B,C]
  dlogits: Buf;   // [B,C]
}

export interface ForwardOptions { returnAttention?: boolean }

let skipInit = false;

/** @internal builds a model whose parameters the caller overwrites at once: no random
 *  initialisation (the parameter block stays zeroed until then). */
export function withoutInit<T>(build: () => T): T {
  skipInit = true;
  try {
    return build();
  } finally {
    skipInit = false;
  }
}

export abstract class Model<C extends ModelConfig = ModelConfig, P extends BasePlan = BasePlan> {
  readonly config: Readonly<C>;
  /** @internal */ readonly ctx: Context;
  /** @internal */ readonly be: Backend;
  /** @internal */ readonly k: Kernels<any, any>;
  /** @internal */ readonly layout: ParamLayout;
  /** @internal parameters, in layout (state_dict) order */ params: Buf;
  /** @internal gradients, same layout */ grads: Buf;
  #arena: Buf | null = null;
  #arenaCap = 0;
  #plan: { B: number; T: number; p: P } | null = null;
  #disposed = false;
  /** Who holds the model (fit, a data-parallel trainer), what frees it, and whether its weights
   *  may not be replaced now (all through a fit; during a trainer's step), or null. */
  #user: { who: string; until: string; weightsLocked: string | null } | null = null;

  protected constructor(ctx: Context, config: C, specs: ParamSpec[]) {
    this.ctx = ctx;
    this.be = ctx.be;
    this.k = ctx.k;
    this.config = Object.freeze({ ...config }) as Readonly<C>;
    this.layout = new ParamLayout(specs);
    const params = this.be.alloc(this.layout.total);
    let grads: Buf | null = null;
    try {
      grads = this.be.alloc(this.layout.total);
      // Models about to receive their weights (a model file, a finished fit) skip the random draw.
      if (!skipInit) this.be.write(params, this.layout.initialValues(new Rng(config.seed)));
    } catch (e) {
      this.be.free(params);
      if (grads !== null) this.be.free(grads);
      throw e;
    }
    this.params = params;
    this.grads = grads;
  }

  /** @internal the plan's buffers, taken in a fixed order from an arena. */
  protected abstract planBuffers(a: Arena | SizingArena, B: number, T: number): P;
  /** @internal forward pass from p.tokens to p.logits, keeping what backward needs. */
  abstract runForward(p: P, B: number, T: number): void;
  /** @internal backward pass from p.dlogits; accumulates into this.grads. */
  abstract runBackward(p: P, B: number, T: number): void;
  /** @internal attention weights of the last forward pass. */
  protected abstract attentionOf(p: P, B: number, T: number): Tensor | Tensor[];
  /** @internal the longest sequence the model takes (Infinity for none). */
  protected abstract get maxLen(): number;

  /** Logits [B, classes] for token ids [B, T] (0 = padding). */
  forward(tokens: ArrayLike<number>, shape: readonly [number, number] | number[]): Tensor;
  forward(tokens: ArrayLike<number>, shape: readonly [number, number] | number[], options: { returnAttention: true }):
    { logits: Tensor; attention: Tensor | Tensor[] };
  forward(tokens: ArrayLike<number>, shape: readonly [number, number] | number[], options?: ForwardOptions):
    Tensor | { logits: Tensor; attention: Tensor | Tensor[] };
  forward(tokens: ArrayLike<number>, shape: readonly [number, number] | number[], options: ForwardOptions = {}) {
    const { B, T, ids } = this.readTokens(tokens, shape);
    const p = this.#planFor(ids, B, T);
    this.runForward(p, B, T);
    // The outputs are new tensors: when one of them does not fit, none is left behind.
    return this.ctx.atomic(() => {
      const logits = this.ctx.empty([B, this.config.classes]);
      if (logits.size > 0) this.be.copy(logits.buf, p.logits, logits.size);
      if (!options?.returnAttention) return logits;
      return { logits, attention: this.attentionOf(p, B, T) };
    });
  }

  /** Every parameter by its PyTorch name, as copies: { shape, data }. */
  stateDict(): StateDict {
    this.alive();
    const out: StateDict = {};
    for (const e of this.layout.entries) out[e.name] = { shape: [...e.shape], data: this.be.read(this.params, e.size, e.offset) };
    return out;
  }

  /** Replaces every parameter; throws (changing nothing) on a missing, extra or misshapen entry. */
  loadStateDict(dict: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>): void {
    this.alive();
    if (this.#user?.weightsLocked) throw new HeedError(`loadStateDict: this ${this.config.kind} model ${this.#user.weightsLocked}`);
    if (dict === null || typeof dict !== 'object') throw new HeedError('loadStateDict: expected an object of { shape, data } entries');
    const names = Object.keys(dict);
    const extra = names.filter((n) => !this.layout.has(n));
    if (extra.length) throw new HeedError(`loadStateDict: unexpected parameter ${extra.map((n) => `'${n}'`).join(', ')} for a ${this.config.kind} model`);
    const missing = this.layout.entries.filter((e) => !(e.name in dict)).map((e) => e.name);
    if (missing.length) throw new HeedError(`loadStateDict: missing parameter ${missing.map((n) => `'${n}'`).join(', ')}`);
    // Each entry is read once into a copy of exactly its size; the copies are checked and written.
    // (Writing the caller's arrays after checking them would let one that reports another length
    // on a second read write past its parameter.)
    const copies: Float32Array[] = [];
    for (const e of this.layout.entries) {
      const { shape, data } = dict[e.name] ?? {};
      if (!Array.isArray(shape) || shape.length !== e.shape.length || shape.some((d, i) => d !== e.shape[i])) {
        throw new HeedError(`loadStateDict: '${e.name}' has shape ${Array.isArray(shape) ? fmtShape(shape) : String(shape)}, expected ${fmtShape(e.shape)}`);
      }
      const length = data == null ? undefined : data.length;
      if (length !== e.size) {
        throw new HeedError(`loadStateDict: '${e.name}' has ${length ?? 'no'} values, expected ${e.size} for shape ${fmtShape(e.shape)}`);
      }
      const copy = new Float32Array(e.size);
      try {
        copy.set(data!);
      } catch (err) {
        throw new HeedError(`loadStateDict: '${e.name}' could not be read (${err instanceof Error ? err.message : String(err)})`, { cause: err });
      }
      copies.push(copy);
    }
    this.layout.entries.forEach((e, i) => this.be.write(this.params, copies[i], e.offset));
  }

  /** Frees the model's memory; using it afterwards throws. A model in use by fit or a data-parallel
   *  trainer refuses (its weights are still being trained). */
  dispose(): void {
    if (this.#disposed) return;
    this.checkFree('dispose');
    this.#disposed = true;
    this.be.free(this.params);
    this.be.free(this.grads);
    if (this.#arena !== null) this.be.free(this.#arena);
    this.#arena = null;
    this.#plan = null;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Number of parameters. */
  get parameterCount(): number {
    return this.layout.total;
  }

  /** @internal */
  alive(): void {
    if (this.#disposed) throw new HeedError(`this ${this.config.kind} model was used after dispose()`);
  }

  /** @internal marks the model as in use by `who` ("fit", "a data-parallel trainer") until
   *  release(); `until` tells the user what ends it, `caller` names the call that is refused when
   *  the model is in use already. Meanwhile dispose() and training steps refuse, and so does a
   *  second user; while the weights are locked, loadStateDict() too (fit would overwrite them at
   *  the end; a step in flight would apply its update to other weights). */
  lease(caller: string, who: string, until: string): ModelLease {
    this.alive();
    if (this.#user) throw new HeedError(`${caller}: this ${this.config.kind} model is already in use by ${this.#user.who}; ${this.#user.until}`);
    const user: { who: string; until: string; weightsLocked: string | null } = { who, until, weightsLocked: null };
    this.#user = user;
    return {
      release: () => { if (this.#user === user) this.#user = null; },
      lockWeights: (why) => { user.weightsLocked = why; },
    };
  }

  /** @internal throws when the model is in use by fit or a trainer; `what` names the refused call. */
  checkFree(what: string): void {
    if (this.#user) throw new HeedError(`${what}: this ${this.config.kind} model is in use by ${this.#user.who}; ${this.#user.until}`);
  }

  /** @internal validates a batch's shape and token ids, reading each id exactly once into a copy:
   *  the copy is what was checked and what gets written (a Proxy or a SharedArrayBuffer view that
   *  changes between a check and a second read cannot slip an id past the check). Every dimension
   *  and B·T are bounded before anything is planned. */
  readTokens(tokens: ArrayLike<number>, shape: readonly number[]): { B: number; T: number; ids: Int32Array } {
    this.alive();
    const rank = Array.isArray(shape) ? shape.length : -1;
    const B: unknown = rank === 2 ? shape[0] : undefined, T: unknown = rank === 2 ? shape[1] : undefined;
    if (!(typeof B === 'number' && Number.isInteger(B) && B >= 0 && typeof T === 'number' && Number.isInteger(T) && T >= 0)) {
      throw new HeedError(`tokens: shape must be [B, T] with non-negative integers, got ${Array.isArray(shape) ? fmtShape(shape) : String(shape)}`);
    }
    if (!isPlannable(B) || !isPlannable(T) || !isPlannable(B * T)) {
      throw new HeedError(`tokens: shape [${B},${T}] is too large: B, T and B·T must each be at most ${MAX_ELEMENTS}`);
    }
    const length: unknown = tokens == null ? undefined : tokens.length;
    if (typeof length !== 'number') throw new HeedError('tokens: expected an Int32Array of token ids');
    if (length !== B * T) throw new HeedError(`tokens: ${length} ids do not fill shape [${B},${T}] (${B * T})`);
    if (T > this.maxLen) throw new HeedError(`tokens: sequence length T = ${T} exceeds maxLen ${this.maxLen}`);
    const V = this.config.vocabSize, ids = new Int32Array(B * T);
    for (let i = 0; i < ids.length; i++) {
      const t = tokens[i];
      if (!(Number.isInteger(t) && t >= 0 && t < V)) {
        throw new HeedError(`tokens: id ${t} at [${Math.floor(i / T)},${i % T}] is outside [0, ${V}) (vocabSize ${V})`);
      }
      ids[i] = t;
    }
    return { B, T, ids };
  }

  /** @internal validates token ids and their shape; returns [B, T]. */
  checkTokens(tokens: ArrayLike<number>, shape: readonly number[]): [number, number] {
    const { B, T } = this.readTokens(tokens, shape);
    return [B, T];
  }

  /** @internal validates B labels (class ids; 0/1 for classes: 1), reading each once into a copy. */
  readLabels(labels: ArrayLike<number>, B: number, who: string): Int32Array {
    const C = this.config.classes, maxLabel = C === 1 ? 2 : C;
    const length: unknown = labels == null ? undefined : labels.length;
    if (length !== B) throw new HeedError(`${who}: labels has ${length ?? 'no'} entries for a batch of ${B}`);
    const ys = new Int32Array(B);
    for (let i = 0; i < B; i++) {
      const y = labels[i];
      if (!(Number.isInteger(y) && y >= 0 && y < maxLabel)) {
        throw new HeedError(`${who}: label ${y} at index ${i} is outside [0, ${maxLabel})${C === 1 ? ' (classes: 1 takes 0/1 labels)' : ''}`);
      }
      ys[i] = y;
    }
    return ys;
  }

  /** @internal the plan for [B, T] (allocated once per shape, reused after) with the token ids
   *  written; the ids are validated here, whoever calls. */
  prepare(tokens: ArrayLike<number>, B: number, T: number): P {
    return this.#planFor(this.readTokens(tokens, [B, T]).ids, B, T);
  }

  #planFor(ids: Int32Array, B: number, T: number): P {
    let plan = this.#plan;
    if (!plan || plan.B !== B || plan.T !== T) {
      const sizing = new SizingArena();
      this.planBuffers(sizing, B, T);
      if (!isPlannable(sizing.used)) {
        throw new HeedError(`tokens: a batch of shape [${B},${T}] needs ${sizing.used} floats of activations, more than one buffer can hold (${MAX_ELEMENTS})`);
      }
      // A plan points into its arena: it goes whenever the arena goes, before anything can fail.
      // When the new arena cannot be had, the model is left with neither, and the next call on
      // any shape plans again (never a plan into freed memory).
      this.#plan = null;
      if (this.#arena === null || sizing.used > this.#arenaCap) {
        if (this.#arena !== null) {
          const old = this.#arena;
          this.#arena = null;
          this.#arenaCap = 0;
          this.be.free(old);
        }
        const arena = this.be.alloc(sizing.used);
        this.ctx.keep(arena);
        this.#arena = arena;
        this.#arenaCap = sizing.used;
      }
      plan = { B, T, p: this.planBuffers(new Arena(this.be, this.#arena, this.#arenaCap), B, T) };
      this.#plan = plan;
    }
    if (ids.length > 0) this.be.writeInt(plan.p.tokens, ids);
    return plan.p;
  }

  /** @internal writes labels for the planned batch, computes the mean loss of p.logits and writes
   *  its gradient to p.dlogits (cross-entropy, or BCE with one logit for classes: 1). The labels
   *  are validated here (read once), whoever calls. */
  lossOf(p: P, B: number, labels: ArrayLike<number>, who = 'loss'): number {
    const C = this.config.classes, ys = this.readLabels(labels, B, who);
    if (C === 1) {
      this.be.write(p.targets, ys);
      return this.k.bce_with_logits(p.dlogits, p.logits, p.targets, B);
    }
    this.be.writeInt(p.labels, ys);
    return this.k.cross_entropy(p.dlogits, p.logits, p.labels, B, C);
  }

  /** @internal the plan of the last batch (its logits survive the backward pass). */
  get currentPlan(): P | null {
    return this.#plan?.p ?? null;
  }

  /** @internal a copy of the planned batch's logits [B, classes]. */
  readLogits(p: P, B: number): Float32Array {
    return this.be.read(p.logits, B * this.config.classes);
  }

  /** @internal a view of one parameter (or its gradient) by name. */
  param(name: string, grad = false): Buf {
    const e = this.layout.get(name);
    return this.be.sub(grad ? this.grads : this.params, e.offset, e.size);
  }

  /** @internal the shared base plan buffers. */
  protected basePlan(a: Arena | SizingArena, B: number, T: number): BasePlan {
    const C = this.config.classes;
    return { tokens: a.takeInt(B * T), labels: a.takeInt(B), targets: a.take(B), logits: a.take(B * C), dlogits: a.take(B * C) };
  }
}
