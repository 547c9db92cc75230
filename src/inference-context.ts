// A heed context without training code: what heed/infer's init() returns and what the full
// library's Context builds on. Tensors, forward ops, models, model files, memory accounting.
import { MAX_ELEMENTS, isPlannable, type AnyBuf, type Backend, type BackendName, type Buf, type IBuf } from './backends/backend.js';
import { checkBytes } from './backends/bytes.js';
import type { Kernels } from './backends/kernels.js';
import type { Features } from './backends/wasm.js';
import { HeedError, fmtShape, validShape } from './errors.js';
import { bindInferenceOps, type InferenceOps } from './ops/forward.js';
import { Tensor } from './tensor.js';
import { bertFamily, type BertOptions } from './nn/families/bert.js';
import { poolingFamily, type PoolingOptions } from './nn/families/pooling.js';
import { regressorFamily, type RegressorOptions } from './nn/families/regressor.js';
import { taggerFamily, type TaggerOptions } from './nn/families/tagger.js';
import { transformerFamily, type TransformerOptions } from './nn/families/transformer.js';
import { Model, type AttentionPoolingClassifier, type AttentionPoolingRegressor, type BertClassifier, type TokenClassifier, type TransformerClassifier } from './nn/model.js';
import { loadModel, saveModel, type LoadedModel, type ModelFileExtras } from './io/model-file.js';
import { loadPretrained, toPretrained, type HfCheckpoint, type LoadPretrainedOptions, type Pretrained } from './io/hf.js';
import type { TokenizerJSON } from './data/tokenizer.js';

/** One init() of heed/infer: a backend with its own storage (one WebAssembly instance and memory for
 *  wasm), tensors, the forward ops, models and model files; no training code. The full library's
 *  Context (heed's init()) extends it with the optimizer, the training step and fit. */
export class InferenceContext {
  readonly backend: BackendName;
  readonly features: Features;
  readonly ops: InferenceOps;
  /** @internal */
  readonly be: Backend;
  /** @internal the kernel table. */
  readonly k: Kernels<Buf, IBuf>;
  #live = 0;
  #liveBytes = 0;
  /** Every tensor this context made: only those reach a kernel (Tensor is exported, and one built
   *  by hand could name any storage). */
  readonly #made = new WeakSet<Tensor>();
  readonly #metered: MeteredBackend;

  /** @internal use init(). `bind` gives the ops this context exposes (the forward ops here, all of
   *  them in the full library's Context). */
  constructor(be: Backend, features: Features, maxMemoryBytes?: number, bind: (ctx: InferenceContext) => object = bindInferenceOps) {
    this.#metered = metered(be, maxMemoryBytes);
    this.be = this.#metered;
    this.k = be.k;
    this.backend = be.name;
    this.features = features;
    // Ops are stateless: if one throws half-way (an allocation over the cap, a trap), whatever it
    // allocated is unreachable and is freed.
    const ops = bind(this) as Record<string, (...a: unknown[]) => unknown>;
    this.ops = Object.fromEntries(Object.entries(ops).map(([name, f]) => [name, (...a: unknown[]) => this.atomic(() => f(...a))])) as InferenceOps;
  }

  #region: { bufs: Set<AnyBuf>; tensors: Tensor[] } | null = null;

  /** @internal Runs fn; if it throws, frees every buffer and tensor allocated in this context during
   *  fn that is still live. For constructors and stateless ops only (whatever they allocate is
   *  unreachable when they throw): a model whose gradient block goes over the memory cap must not
   *  leave its parameter block behind. */
  atomic<R>(fn: () => R): R {
    if (this.#region !== null) return fn();
    const region = { bufs: new Set<AnyBuf>(), tensors: [] as Tensor[] };
    this.#region = region;
    this.#metered.region = region.bufs;
    try {
      return fn();
    } catch (e) {
      // The region stays open while it is emptied: a tensor's dispose() removes its storage from
      // the region, so each buffer is freed exactly once (a second free corrupts the allocator).
      for (const t of region.tensors) t.dispose();
      for (const b of region.bufs) this.be.free(b);
      throw e;
    } finally {
      this.#region = null;
      this.#metered.region = null;
    }
  }

  /** A tensor holding a copy of `values` with the given shape. */
  tensor(values: ArrayLike<number>, shape: readonly number[]): Tensor {
    const s = validShape('tensor', shape);
    const length = values == null ? undefined : (values as ArrayLike<number>).length;
    if (typeof length !== 'number') throw new HeedError(`tensor: values must be an array or typed array, got ${String(values)}`);
    const size = s.reduce((a, d) => a * d, 1);
    if (length !== size) throw new HeedError(`tensor: ${length} values do not fill shape ${fmtShape(s)} (${size} elements)`);
    // The storage first, so that a tensor over the cap is refused before its values are copied.
    // Then the values are read once, into an array of exactly `size` floats, and that copy is what
    // goes into linear memory: a Proxy or a view of a resizable buffer that reports another length
    // on a second read would otherwise write past the tensor.
    const t = this.empty(s);
    if (size === 0) return t;
    try {
      const data = new Float32Array(size);
      data.set(values);
      this.be.write(t.buf, data);
    } catch (e) {
      t.dispose();
      throw new HeedError(`tensor: could not read ${size} values for shape ${fmtShape(s)} (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
    return t;
  }

  /** A zero-filled tensor. */
  zeros(shape: readonly number[]): Tensor {
    return this.empty(validShape('zeros', shape));
  }

  /** A pre-norm transformer encoder classifier: layer for layer the PyTorch model the README's Models section spells out. */
  transformerClassifier(options: TransformerOptions): TransformerClassifier {
    return this.atomic(() => new Model(this, transformerFamily, options));
  }

  /** The article's attention-pooling classifier: embedding → score → masked softmax → weighted sum → head. */
  attentionPoolingClassifier(options: PoolingOptions): AttentionPoolingClassifier {
    return this.atomic(() => new Model(this, poolingFamily, options));
  }

  /** An encoder that labels every token (tagging): the transformer's layers with a Linear head on
   *  each position; logits [B, T, classes], trained against one class per token (-100: none). */
  tokenClassifier(options: TaggerOptions): TokenClassifier {
    return this.atomic(() => new Model(this, taggerFamily, options));
  }

  /** The attention-pooling model with real-valued outputs: logits [B, outputs] are the
   *  predictions, trained with the mean squared error. */
  attentionPoolingRegressor(options: RegressorOptions): AttentionPoolingRegressor {
    return this.atomic(() => new Model(this, regressorFamily, options));
  }

  /** Hugging Face's BertForSequenceClassification (names, layout, post-norm layers, exact GELU),
   *  randomly initialised as HF does; a pretrained checkpoint loads into it with loadPretrained. */
  bertClassifier(options: BertOptions): BertClassifier {
    return this.atomic(() => new Model(this, bertFamily, options));
  }

  /** The model as safetensors bytes (PyTorch names, F32) with config, tokenizer and labels. */
  saveModel(model: Model, extras?: ModelFileExtras): Uint8Array {
    this.ownModel(model);
    return saveModel(model, extras);
  }

  /** A model (in this context), the tokenizer's JSON form and the labels from safetensors bytes.
   *  Validates everything but the tokenizer, which comes back as the file holds it: a
   *  {@link TokenizerJSON} in files written with a Tokenizer (`heed train`, `saveModel(model,
   *  { tokenizer })`), `null` in files saved without one. `Tokenizer.fromJSON(tokenizer)` checks it
   *  and gives the Tokenizer back (a HeedError names the field at fault); `loadClassifier` does both. */
  loadModel(bytes: Uint8Array): LoadedModel & { tokenizer: TokenizerJSON | null } {
    return this.atomic(() => loadModel(this, bytes)) as LoadedModel & { tokenizer: TokenizerJSON | null };
  }

  /** A bertClassifier from a Hugging Face checkpoint's config.json and model.safetensors (F32,
   *  F16 or BF16): a BertForSequenceClassification as it is, or a base BertModel with a new
   *  classifier of `options.classes`. Unsupported architectures and options are a HeedError
   *  naming the key and value; nothing is left behind on failure. */
  loadPretrained(files: HfCheckpoint, options?: LoadPretrainedOptions): Pretrained {
    return this.atomic(() => loadPretrained(this, files, options));
  }

  /** A bertClassifier as a Hugging Face checkpoint: config.json text and model.safetensors
   *  bytes that transformers' BertForSequenceClassification.from_pretrained loads. */
  toPretrained(model: BertClassifier, labels?: readonly string[]): { config: string; weights: Uint8Array } {
    this.ownModel(model);
    return toPretrained(model, labels);
  }

  /** @internal */
  ownModel(model: unknown): void {
    if (!(model instanceof Model)) {
      throw new HeedError('expected a heed model (transformerClassifier, attentionPoolingClassifier or tokenClassifier)');
    }
    if (model.ctx !== this) throw new HeedError('the model belongs to another heed context (each init() owns its models)');
  }

  /** { bytes: linear memory (wasm) or array bytes (js) in use by the backend,
   *    tensorBytes: bytes held by live tensors, tensors: live tensor count,
   *    allocatedBytes: bytes heed holds in the backend's storage (tensors, model parameters and
   *    gradients, optimizer state, activation arenas, scratch): what init({ maxMemoryMB }) caps,
   *    maxBytes: that cap in bytes, or null when there is none }. */
  memory(): { bytes: number; tensorBytes: number; tensors: number; allocatedBytes: number; maxBytes: number | null } {
    return {
      bytes: this.be.reservedBytes(), tensorBytes: this.#liveBytes, tensors: this.#live,
      allocatedBytes: this.#metered.allocatedBytes(), maxBytes: this.#metered.maxBytes ?? null,
    };
  }

  /** @internal a new zero-filled tensor of a shape whose dimensions are already validated; their
   *  product (an op's output shape, say) is bounded here. */
  empty(shape: readonly number[]): Tensor {
    const size = shape.reduce((a, d) => a * d, 1);
    if (!isPlannable(size)) throw new HeedError(`tensor ${fmtShape(shape)}: ${size} elements, more than one tensor can hold (${MAX_ELEMENTS})`);
    let buf: Buf;
    try {
      buf = this.be.alloc(size);
    } catch (e) {
      throw e instanceof HeedError ? new HeedError(`tensor ${fmtShape(shape)}: ${e.message}`, { cause: e }) : e;
    }
    this.#live++;
    this.#liveBytes += size * 4;
    const t = new Tensor(this, this.be, buf, Object.isFrozen(shape) ? shape : Object.freeze([...shape]), (t) => {
      this.#live--;
      this.#liveBytes -= t.size * 4;
    });
    this.#made.add(t);
    this.#region?.tensors.push(t);
    return t;
  }

  /** @internal throws unless t is a live tensor of this context; returns its shape. */
  own(name: string, t: unknown): readonly number[] {
    if (!(t instanceof Tensor)) throw new HeedError(`${name}: expected a Tensor, got ${t === null ? 'null' : typeof t}`);
    if (t.owner !== this) {
      throw new HeedError(`${name}: tensor ${fmtShape(t.shape)} belongs to another heed context (each init() owns its tensors)`);
    }
    if (!this.#made.has(t)) throw new HeedError(`${name}: tensor ${fmtShape(t.shape)} was not made by heed (use heed.tensor or heed.zeros)`);
    if (t.disposed) throw new HeedError(`${name}: tensor ${fmtShape(t.shape)} was used after dispose()`);
    return t.shape;
  }

  /** @internal runs fn with `ints` copied into backend storage, freed afterwards. Callers pass
   *  the copy they validated; it is copied once more here so that what is allocated and what is
   *  written have the same length, whatever `ints` is. */
  withInts<R>(ints: ArrayLike<number>, fn: (buf: IBuf) => R): R {
    const copy = new Int32Array(ints.length);
    copy.set(ints);
    const buf = this.be.allocInt(copy.length);
    try {
      this.be.writeInt(buf, copy);
      return fn(buf);
    } finally {
      this.be.free(buf);
    }
  }

  /** @internal a buffer allocated during an atomic() region that a long-lived object keeps (a
   *  model's activation arena): a later failure in the region must not free it under its owner. */
  keep(buf: AnyBuf): void {
    this.#metered.region?.delete(buf);
  }

  /** @internal scratch float storage for fn, freed afterwards. */
  withScratch<R>(n: number, fn: (buf: Buf) => R): R {
    const buf = this.be.alloc(n);
    try {
      return fn(buf);
    } finally {
      this.be.free(buf);
    }
  }
}

interface MeteredBackend extends Backend {
  allocatedBytes(): number;
  readonly maxBytes: number | undefined;
  /** While set, every allocation is added here and every free removed (Context.atomic). */
  region: Set<AnyBuf> | null;
}

const fmtBytes = (n: number): string => `${n.toLocaleString('en')} bytes`;

/** The backend with every allocation counted (bytes per buffer) and, when maxBytes is given,
 *  refused with a HeedError before it would take heed's allocated bytes over maxBytes: the
 *  request fails cleanly, nothing is allocated, and the context keeps working. Any other failure
 *  to allocate (a JS RangeError, a wasm trap) becomes a HeedError too. */
function metered(be: Backend, maxBytes: number | undefined): MeteredBackend {
  // Pointers (wasm) in a Map; arrays (js) in a WeakMap, so that an array the caller never disposed
  // can still be garbage-collected as before.
  const ptrs = new Map<number, number>(), arrays = new WeakMap<object, number>();
  let allocated = 0;
  // The last line of defence: callers bound their sizes with a message naming the shape, but no
  // size that would wrap (negative, fractional, past i32) ever reaches a backend.
  const elements = (n: number): number => {
    if (!isPlannable(n)) throw new HeedError(`out of memory: a request for ${String(n)} elements, more than one buffer can hold (${MAX_ELEMENTS}); nothing was allocated`);
    return n * 4;
  };
  const take = <B extends AnyBuf>(bytes: number, fn: () => B): B => {
    if (maxBytes !== undefined && allocated + bytes > maxBytes) {
      throw new HeedError(`out of memory: a request for ${fmtBytes(bytes)} would bring heed's memory to ${fmtBytes(allocated + bytes)}, ` +
        `over the cap of ${fmtBytes(maxBytes)} (init({ maxMemoryMB: ${maxBytes / 2 ** 20} })); nothing was allocated`);
    }
    let buf: B;
    try {
      buf = fn();
    } catch (e) {
      if (e instanceof HeedError) throw e;
      throw new HeedError(`out of memory: could not allocate ${fmtBytes(bytes)} (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
    if (typeof buf === 'number') ptrs.set(buf, bytes); else arrays.set(buf, bytes);
    allocated += bytes;
    m.region?.add(buf);
    return buf;
  };
  const m: MeteredBackend = {
    ...be,
    // Every allocation goes through here, whichever shorthand asked: the spread above would
    // otherwise let be's own shorthands reach be.allocBytes unmetered.
    allocBytes: (bytes, dtype) => { checkBytes('allocBytes', bytes, dtype); return take(bytes, () => be.allocBytes(bytes, dtype)); },
    alloc: (n) => take(elements(n), () => be.alloc(n)),
    allocInt: (n) => take(elements(n), () => be.allocInt(n)),
    free: (buf) => {
      const bytes = typeof buf === 'number' ? ptrs.get(buf) : arrays.get(buf);
      if (bytes !== undefined) {
        if (typeof buf === 'number') ptrs.delete(buf); else arrays.delete(buf);
        allocated -= bytes;
      }
      m.region?.delete(buf);
      be.free(buf);
    },
    allocatedBytes: () => allocated,
    maxBytes,
    region: null,
  };
  return m;
}
