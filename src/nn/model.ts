// A model: one parameter block (params + grads in one layout, llm.c's), an activation arena planned
// per batch shape, token and target validation, forward, stateDict and dispose. What the model
// computes comes from its family (src/nn/families/): a chain of layers from token ids to logits,
// built once; the Model runs it forward and backward and knows nothing of what the layers are.
import { MAX_ELEMENTS, isPlannable, type Backend, type Buf, type IBuf } from '../backends/backend.js';
import type { Kernels } from '../backends/kernels.js';
import type { InferenceContext as Context } from '../inference-context.js';
import { HeedError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { ParamLayout } from './block.js';
import { Params, Planner, type Act, type Batch, type Layer, type Runtime } from './layer.js';
import { Rng } from './rng.js';
import type { TargetKind } from './targets.js';

export interface TransformerConfig {
  kind: 'transformer';
  vocabSize: number; maxLen: number; dModel: number; heads: number; ffDim: number; layers: number;
  classes: number; seed: number;
}
export interface PoolingConfig { kind: 'pooling'; vocabSize: number; dModel: number; classes: number; seed: number }
export interface TaggerConfig {
  kind: 'tagger';
  vocabSize: number; maxLen: number; dModel: number; heads: number; ffDim: number; layers: number;
  classes: number; seed: number;
}
export interface BertConfig {
  kind: 'bert';
  vocabSize: number; maxLen: number; typeVocabSize: number; dModel: number; heads: number; ffDim: number; layers: number;
  eps: number; gelu: 'erf' | 'tanh'; classes: number; seed: number;
}
export interface DecoderConfig {
  kind: 'decoder';
  vocabSize: number; maxLen: number; dModel: number; heads: number; ffDim: number; layers: number;
  tieEmbeddings: boolean; gelu: 'tanh' | 'erf';
  /** Always vocabSize: one logit per token of the vocabulary. */
  classes: number; seed: number;
}
/** A regressor's config: `outputs` real values per row where a classifier has classes. */
export interface RegressorConfig { kind: 'regressor'; vocabSize: number; dModel: number; outputs: number; seed: number }
export type ModelConfig = TransformerConfig | PoolingConfig | TaggerConfig | BertConfig | RegressorConfig | DecoderConfig;

/** Values the head gives per row (or per token): the classes, or a regressor's outputs. */
export const outputsOf = (c: ModelConfig): number => ('outputs' in c ? c.outputs : c.classes);

/** A model of each family, by the config it carries. */
export type TransformerClassifier = Model<TransformerConfig>;
export type AttentionPoolingClassifier = Model<PoolingConfig>;
export type TokenClassifier = Model<TaggerConfig>;
export type BertClassifier = Model<BertConfig>;
export type AttentionPoolingRegressor = Model<RegressorConfig>;

/** An attention map a model can show: its shape for a batch and how to write it. */
export interface AttentionMap { shape: number[]; write(p: Buf): void }

/** What a family builds for one model: the chain from token ids to logits, the longest sequence
 *  it takes, and its attention maps (one tensor, or one per layer). */
export interface Net {
  root: Layer;
  maxLen: number;
  attention(B: number, T: number): AttentionMap[];
  /** true: forward(…, { returnAttention }) gives one tensor per map; false: the single map. */
  attentionList: boolean;
  /** What a batch holds besides token ids: 'tokens+types' adds token type (segment) ids [B,T]. */
  input?: 'tokens' | 'tokens+types';
  /** The encoder's output [B·T, d] in the current plan (what embeddings pool), for families that
   *  have one. */
  features?: () => Act;
}

/** A model family: validates its config, builds its layers (registering parameters in PyTorch's
 *  state_dict order) and names the target its logits are trained against. One file each in
 *  src/nn/families/, one entry each in the registry (src/nn/registry.ts). */
export interface Family<C extends ModelConfig = ModelConfig> {
  readonly kind: C['kind'];
  /** The context method that builds it (transformerClassifier, …): errors name it. */
  readonly factory: string;
  readonly target: TargetKind;
  /** Validates options (a config read from a file, or a user's), filling in defaults. */
  config(options: unknown): C;
  build(ps: Params, c: C): Net;
}

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

/** The buffers of one batch shape: inputs, targets and the chain's output. */
export interface Plan {
  tokens: IBuf;   // [B,T]
  mask: Buf;      // [B,T] 1 keep / 0 padding
  types: IBuf | null;   // [B,T] token type ids, for families that take them
  labels: IBuf;   // class ids: [B] per row, [B,T] per token
  targets: Buf;   // [B] 0/1 labels (classes: 1), or [B, outputs] values
  logits: Buf;    // the chain's output: [B,C] or [B·T,C]
  dlogits: Buf;   // its gradient
}

export interface ForwardOptions {
  returnAttention?: boolean;
  /** Token type (segment) ids [B·T] for a model that takes them (bertClassifier: 0 for the first
   *  segment, 1 for the second of a pair); zeros when absent. */
  typeIds?: ArrayLike<number>;
}

export interface ModelOptions {
  /** false: skip the random initialisation (the parameters stay zero), for a model whose
   *  weights are written next (a model file, a finished fit). */
  initialise?: boolean;
}

export class Model<C extends ModelConfig = ModelConfig> {
  readonly config: Readonly<C>;
  /** @internal */ readonly family: Family<C>;
  /** @internal */ readonly ctx: Context;
  /** @internal */ readonly be: Backend;
  /** @internal */ readonly k: Kernels<Buf, IBuf>;
  /** @internal */ readonly layout: ParamLayout;
  /** @internal parameters, in layout (state_dict) order */ params: Buf;
  /** @internal gradients, same layout */ grads: Buf;
  readonly #net: Net;
  readonly #rt: Runtime;
  #arena: Buf | null = null;
  #arenaCap = 0;
  #plan: { B: number; T: number; p: Plan } | null = null;
  #disposed = false;
  /** Who holds the model (fit, a data-parallel trainer), what frees it, and whether its weights
   *  may not be replaced now (all through a fit; during a trainer's step), or null. */
  #user: { who: string; until: string; weightsLocked: string | null } | null = null;

  /** @internal use a context's factory (transformerClassifier, …) or the registry's modelFor. */
  constructor(ctx: Context, family: Family<C>, options: unknown, o: ModelOptions = {}) {
    const config = family.config(options);
    this.ctx = ctx;
    this.be = ctx.be;
    this.k = ctx.k;
    this.family = family;
    this.config = Object.freeze({ ...config }) as Readonly<C>;
    this.#rt = { be: this.be, k: this.k };
    const ps = new Params(this.#rt);
    this.#net = family.build(ps, config);
    this.layout = ps.layout();
    const params = this.be.alloc(this.layout.total);
    let grads: Buf | null = null;
    try {
      grads = this.be.alloc(this.layout.total);
      if (o.initialise !== false) this.be.write(params, this.layout.initialValues(new Rng(config.seed)));
    } catch (e) {
      this.be.free(params);
      if (grads !== null) this.be.free(grads);
      throw e;
    }
    this.params = params;
    this.grads = grads;
    ps.bind(params, grads);
  }

  /** What the logits are trained against: one class per row, one per token, or real values. */
  get target(): TargetKind {
    return this.family.target;
  }

  /** Values the head gives per row (or per token): the classes, or a regressor's outputs. */
  get outputs(): number {
    return outputsOf(this.config as unknown as ModelConfig);
  }

  /** Logits for token ids [B, T] (0 = padding): [B, classes], or [B, T, classes] for a model
   *  that labels every token. */
  forward(tokens: ArrayLike<number>, shape: readonly [number, number] | number[], options: ForwardOptions & { returnAttention: true }):
    { logits: Tensor; attention: Tensor | Tensor[] };
  forward(tokens: ArrayLike<number>, shape: readonly [number, number] | number[], options?: ForwardOptions & { returnAttention?: false }): Tensor;
  forward(tokens: ArrayLike<number>, shape: readonly [number, number] | number[], options?: ForwardOptions):
    Tensor | { logits: Tensor; attention: Tensor | Tensor[] };
  forward(tokens: ArrayLike<number>, shape: readonly [number, number] | number[], options: ForwardOptions = {}) {
    const { B, T, ids } = this.readTokens(tokens, shape);
    const types = options?.typeIds === undefined ? null : this.#readTypes(options.typeIds, B, T);
    const p = this.#planFor(ids, B, T, types);
    this.runForward(p, B, T);
    // The outputs are new tensors: when one of them does not fit, none is left behind.
    return this.ctx.atomic(() => {
      const C = this.outputs;
      const logits = this.ctx.empty(this.family.target === 'token' ? [B, T, C] : [B, C]);
      if (logits.size > 0) this.be.copy(logits.buf, p.logits, logits.size);
      if (!options?.returnAttention) return logits;
      const maps = this.#net.attention(B, T).map((m) => {
        const w = this.ctx.empty(m.shape);
        if (w.size > 0) m.write(w.buf);
        return w;
      });
      return { logits, attention: this.#net.attentionList ? maps : maps[0] };
    });
  }

  /** The encoder's last hidden states [B, T, d] for token ids [B, T] (Hugging Face's
   *  last_hidden_state; what sentence embeddings pool). */
  hiddenStates(tokens: ArrayLike<number>, shape: readonly [number, number] | number[], options: Pick<ForwardOptions, 'typeIds'> = {}): Tensor {
    if (!this.#net.features) throw new HeedError(`hiddenStates: a ${this.config.kind} model has no per-token encoder output`);
    const { B, T, ids } = this.readTokens(tokens, shape);
    const types = options?.typeIds === undefined ? null : this.#readTypes(options.typeIds, B, T);
    const p = this.#planFor(ids, B, T, types);
    this.runForward(p, B, T);
    return this.ctx.atomic(() => {
      const f = this.#net.features!(), h = this.ctx.empty([B, T, f.width]);
      if (h.size > 0) this.be.copy(h.buf, f.y, h.size);
      return h;
    });
  }

  /** @internal forward pass from p.tokens to p.logits, keeping what backward needs. */
  runForward(p: Plan, B: number, T: number): void {
    if (B === 0) return;
    this.k.token_mask(p.mask, p.tokens, B * T);
    this.#net.root.forward();
  }

  /** @internal backward pass from p.dlogits; accumulates into this.grads. */
  runBackward(_p: Plan, B: number, _T: number): void {
    if (B === 0) return;
    this.#net.root.backward();
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
    if (T > this.#net.maxLen) throw new HeedError(`tokens: sequence length T = ${T} exceeds maxLen ${this.#net.maxLen}`);
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

  /** @internal the plan for [B, T] (allocated once per shape, reused after) with the token ids
   *  written; the ids are validated here, whoever calls. */
  prepare(tokens: ArrayLike<number>, B: number, T: number, typeIds?: ArrayLike<number> | null): Plan {
    const ids = this.readTokens(tokens, [B, T]).ids;
    return this.#planFor(ids, B, T, typeIds == null ? null : this.#readTypes(typeIds, B, T));
  }

  #layout(a: Planner, B: number, T: number): Plan {
    const N = B * T, tokenTargets = this.family.target === 'token';
    const batch: Batch = { B, T, tokens: a.takeInt(N), mask: a.take(N) };
    if (this.#net.input === 'tokens+types') batch.types = a.takeInt(N);
    const labels = a.takeInt(tokenTargets ? N : B), targets = a.take(this.family.target === 'value' ? B * this.outputs : B);
    const out: Act = this.#net.root.plan(a, batch, null);
    return { tokens: batch.tokens, mask: batch.mask, types: batch.types ?? null, labels, targets, logits: out.y, dlogits: out.dy };
  }

  /** Token type ids, read once into a copy: [B·T] integers in [0, typeVocabSize). */
  #readTypes(typeIds: ArrayLike<number>, B: number, T: number): Int32Array {
    if (this.#net.input !== 'tokens+types') throw new HeedError(`forward: a ${this.config.kind} model takes no typeIds`);
    const n = B * T, V = (this.config as { typeVocabSize?: number }).typeVocabSize ?? 1;
    const length: unknown = typeIds == null ? undefined : typeIds.length;
    if (length !== n) throw new HeedError(`typeIds: ${length ?? 'no'} ids do not fill shape [${B},${T}] (${n})`);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const t = typeIds[i];
      if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new HeedError(`typeIds: id ${t} at [${Math.floor(i / T)},${i % T}] is outside [0, ${V}) (typeVocabSize ${V})`);
      out[i] = t;
    }
    return out;
  }

  #planFor(ids: Int32Array, B: number, T: number, types: Int32Array | null = null): Plan {
    let plan = this.#plan;
    if (!plan || plan.B !== B || plan.T !== T) {
      // The layers keep the buffers of the last plan they were given, and the sizing pass gives
      // them placeholders: from here until a new plan is made, there is none.
      this.#plan = null;
      const sizing = new Planner(this.#rt, null);
      this.#layout(sizing, B, T);
      if (!isPlannable(sizing.total)) {
        throw new HeedError(`tokens: a batch of shape [${B},${T}] needs ${sizing.total} floats of activations, more than one buffer can hold (${MAX_ELEMENTS})`);
      }
      // A plan points into its arena: it goes whenever the arena goes, before anything can fail.
      // When the new arena cannot be had, the model is left with neither, and the next call on
      // any shape plans again (never a plan into freed memory).
      if (this.#arena === null || sizing.total > this.#arenaCap) {
        if (this.#arena !== null) {
          const old = this.#arena;
          this.#arena = null;
          this.#arenaCap = 0;
          this.be.free(old);
        }
        const arena = this.be.alloc(sizing.total);
        this.ctx.keep(arena);
        this.#arena = arena;
        this.#arenaCap = sizing.total;
      }
      plan = { B, T, p: this.#layout(new Planner(this.#rt, this.#arena, sizing.persistent, this.#arenaCap), B, T) };
      this.#plan = plan;
    }
    if (ids.length > 0) this.be.writeInt(plan.p.tokens, ids);
    // Without type ids every token is of type 0 (a single segment): the buffer is rewritten per
    // batch, since the arena keeps whatever the last batch left.
    if (plan.p.types !== null && ids.length > 0) this.be.writeInt(plan.p.types, types ?? new Int32Array(ids.length));
    return plan.p;
  }

  /** @internal the sequence length of the current plan (0: none). */
  get plannedT(): number {
    return this.#plan?.T ?? 0;
  }

  /** @internal the plan of the last batch (its logits survive the backward pass). */
  get currentPlan(): Plan | null {
    return this.#plan?.p ?? null;
  }

  /** @internal a copy of the planned batch's logits ([B, classes], or [B·T, classes]). */
  readLogits(p: Plan, B: number): Float32Array {
    const rows = this.family.target === 'token' ? B * (this.#plan?.T ?? 0) : B;
    return this.be.read(p.logits, rows * this.outputs);
  }

  /** @internal what the family built: the KV cache runs a decoder's layers from it. */
  get net(): Net {
    return this.#net;
  }

  /** @internal the longest sequence the model takes (Infinity for none). */
  get maxLen(): number {
    return this.#net.maxLen;
  }
}
