// What both classifiers share: a parameter block (params + grads in one layout), an activation
// arena planned per batch shape, token validation, forward, stateDict and dispose. A model
// subclass supplies its parameter specs, its arena plan, and its forward and backward passes
// (explicit, llm.c style: the backward mirrors the forward in reverse, no autograd).
import type { Backend, Buf, IBuf } from '../backends/backend.js';
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

  protected constructor(ctx: Context, config: C, specs: ParamSpec[]) {
    this.ctx = ctx;
    this.be = ctx.be;
    this.k = ctx.k;
    this.config = Object.freeze({ ...config }) as Readonly<C>;
    this.layout = new ParamLayout(specs);
    this.params = this.be.alloc(this.layout.total);
    this.grads = this.be.alloc(this.layout.total);
    // Models about to receive their weights (a model file, a finished fit) skip the random draw.
    if (!skipInit) this.be.write(this.params, this.layout.initialValues(new Rng(config.seed)));
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
    const [B, T] = this.checkTokens(tokens, shape);
    const p = this.prepare(tokens, B, T);
    this.runForward(p, B, T);
    const logits = this.ctx.empty([B, this.config.classes]);
    if (logits.size > 0) this.be.copy(logits.buf, p.logits, logits.size);
    if (!options?.returnAttention) return logits;
    return { logits, attention: this.attentionOf(p, B, T) };
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
    if (dict === null || typeof dict !== 'object') throw new HeedError('loadStateDict: expected an object of { shape, data } entries');
    const names = Object.keys(dict);
    const extra = names.filter((n) => !this.layout.has(n));
    if (extra.length) throw new HeedError(`loadStateDict: unexpected parameter ${extra.map((n) => `'${n}'`).join(', ')} for a ${this.config.kind} model`);
    const missing = this.layout.entries.filter((e) => !(e.name in dict)).map((e) => e.name);
    if (missing.length) throw new HeedError(`loadStateDict: missing parameter ${missing.map((n) => `'${n}'`).join(', ')}`);
    for (const e of this.layout.entries) {
      const { shape, data } = dict[e.name] ?? {};
      if (!Array.isArray(shape) || shape.length !== e.shape.length || shape.some((d, i) => d !== e.shape[i])) {
        throw new HeedError(`loadStateDict: '${e.name}' has shape ${Array.isArray(shape) ? fmtShape(shape) : String(shape)}, expected ${fmtShape(e.shape)}`);
      }
      if (!data || data.length !== e.size) {
        throw new HeedError(`loadStateDict: '${e.name}' has ${data?.length ?? 'no'} values, expected ${e.size} for shape ${fmtShape(e.shape)}`);
      }
    }
    for (const e of this.layout.entries) this.be.write(this.params, dict[e.name].data, e.offset);
  }

  /** Frees the model's memory; using it afterwards throws. */
  dispose(): void {
    if (this.#disposed) return;
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

  /** @internal validates token ids and their shape; returns [B, T]. */
  checkTokens(tokens: ArrayLike<number>, shape: readonly number[]): [number, number] {
    this.alive();
    if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new HeedError(`tokens: shape must be [B, T] with non-negative integers, got ${Array.isArray(shape) ? fmtShape(shape) : String(shape)}`);
    }
    const [B, T] = shape;
    if (tokens == null || typeof tokens.length !== 'number') throw new HeedError('tokens: expected an Int32Array of token ids');
    if (tokens.length !== B * T) throw new HeedError(`tokens: ${tokens.length} ids do not fill shape ${fmtShape(shape)} (${B * T})`);
    if (T > this.maxLen) throw new HeedError(`tokens: sequence length T = ${T} exceeds maxLen ${this.maxLen}`);
    const V = this.config.vocabSize;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (!(Number.isInteger(t) && t >= 0 && t < V)) {
        throw new HeedError(`tokens: id ${t} at [${Math.floor(i / T)},${i % T}] is outside [0, ${V}) (vocabSize ${V})`);
      }
    }
    return [B, T];
  }

  /** @internal the plan for [B, T] (allocated once per shape, reused after) with tokens written. */
  prepare(tokens: ArrayLike<number>, B: number, T: number): P {
    let plan = this.#plan;
    if (!plan || plan.B !== B || plan.T !== T) {
      const sizing = new SizingArena();
      this.planBuffers(sizing, B, T);
      if (sizing.used > this.#arenaCap || this.#arena === null) {
        if (this.#arena !== null) this.be.free(this.#arena);
        this.#arena = null;
        this.#arena = this.be.alloc(sizing.used);
        this.#arenaCap = sizing.used;
      }
      plan = { B, T, p: this.planBuffers(new Arena(this.be, this.#arena, this.#arenaCap), B, T) };
      this.#plan = plan;
    }
    if (B * T > 0) this.be.writeInt(plan.p.tokens, tokens);
    return plan.p;
  }

  /** @internal writes labels for the planned batch, computes the mean loss of p.logits and writes
   *  its gradient to p.dlogits (cross-entropy, or BCE with one logit for classes: 1). */
  lossOf(p: P, B: number, labels: ArrayLike<number>): number {
    const C = this.config.classes;
    if (C === 1) {
      this.be.write(p.targets, labels);
      return this.k.bce_with_logits(p.dlogits, p.logits, p.targets, B);
    }
    this.be.writeInt(p.labels, labels);
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
