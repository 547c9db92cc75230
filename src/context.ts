import type { Backend, BackendName, Buf, IBuf } from './backends/backend.js';
import type { Kernels } from './backends/kernels.js';
import type { Features } from './backends/wasm.js';
import { HeedError, fmtShape, validShape } from './errors.js';
import { bindOps, type Ops } from './ops/index.js';
import { Tensor } from './tensor.js';
import { AttentionPoolingClassifier, type PoolingOptions } from './nn/pooling.js';
import { TransformerClassifier, type TransformerOptions } from './nn/transformer.js';
import { AdamwOptimizer, type AdamwOptimizerOptions } from './nn/optim.js';
import { trainStep } from './nn/train.js';
import type { Model } from './nn/model.js';
import { fit, type FitOptions, type FitRun } from './train/fit.js';
import { loadModel, saveModel, type LoadedModel, type ModelFileExtras } from './io/model-file.js';

/** One init(): a backend with its own storage (one WebAssembly instance and memory for wasm). */
export class Context {
  readonly backend: BackendName;
  readonly features: Features;
  readonly ops: Ops;
  /** @internal */
  readonly be: Backend;
  /** @internal the kernel table. */
  readonly k: Kernels<any, any>;
  #live = 0;
  #liveBytes = 0;

  /** @internal use init(). */
  constructor(be: Backend, features: Features) {
    this.be = be;
    this.k = be.k;
    this.backend = be.name;
    this.features = features;
    this.ops = bindOps(this);
  }

  /** A tensor holding a copy of `values` with the given shape. */
  tensor(values: ArrayLike<number>, shape: readonly number[]): Tensor {
    const s = validShape('tensor', shape);
    if (values == null || typeof (values as ArrayLike<number>).length !== 'number') {
      throw new HeedError(`tensor: values must be an array or typed array, got ${String(values)}`);
    }
    const size = s.reduce((a, d) => a * d, 1);
    if (values.length !== size) {
      throw new HeedError(`tensor: ${values.length} values do not fill shape ${fmtShape(s)} (${size} elements)`);
    }
    const t = this.empty(s);
    if (size > 0) this.be.write(t.buf, values);
    return t;
  }

  /** A zero-filled tensor. */
  zeros(shape: readonly number[]): Tensor {
    return this.empty(validShape('zeros', shape));
  }

  /** A pre-norm transformer encoder classifier (see API.md for the exact PyTorch model). */
  transformerClassifier(options: TransformerOptions): TransformerClassifier {
    return new TransformerClassifier(this, options);
  }

  /** The article's attention-pooling classifier: embedding → score → masked softmax → weighted sum → head. */
  attentionPoolingClassifier(options: PoolingOptions): AttentionPoolingClassifier {
    return new AttentionPoolingClassifier(this, options);
  }

  /** torch.optim.AdamW over every parameter of `model` (one group), with optional clip_grad_norm_. */
  adamwOptimizer(model: Model, options?: AdamwOptimizerOptions): AdamwOptimizer {
    this.ownModel(model);
    return new AdamwOptimizer(model, options);
  }

  /** One training step on a batch; returns the mean loss before the update. */
  trainStep(model: Model, opt: AdamwOptimizer, tokens: ArrayLike<number>, shape: readonly number[], labels: ArrayLike<number>): number {
    this.ownModel(model);
    return trainStep(model, opt, tokens, shape, labels);
  }

  /** Trains on a worker thread (or here, with worker: false); see FitOptions. */
  fit(options: FitOptions): FitRun {
    return fit(this, options);
  }

  /** The model as safetensors bytes (PyTorch names, F32) with config, tokenizer and labels. */
  saveModel(model: Model, extras?: ModelFileExtras): Uint8Array {
    this.ownModel(model);
    return saveModel(model, extras);
  }

  /** A model (in this context), tokenizer JSON and labels from safetensors bytes; validates everything. */
  loadModel(bytes: Uint8Array): LoadedModel {
    return loadModel(this, bytes);
  }

  /** @internal */
  ownModel(model: unknown): void {
    if (!(model instanceof TransformerClassifier || model instanceof AttentionPoolingClassifier)) {
      throw new HeedError('expected a heed model (transformerClassifier or attentionPoolingClassifier)');
    }
    if (model.ctx !== this) throw new HeedError('the model belongs to another heed context (each init() owns its models)');
  }

  /** { bytes: linear memory (wasm) or array bytes (js) in use by the backend,
   *    tensorBytes: bytes held by live tensors, tensors: live tensor count }. */
  memory(): { bytes: number; tensorBytes: number; tensors: number } {
    return { bytes: this.be.reservedBytes(), tensorBytes: this.#liveBytes, tensors: this.#live };
  }

  /** @internal a new zero-filled tensor of a shape already validated. */
  empty(shape: readonly number[]): Tensor {
    const size = shape.reduce((a, d) => a * d, 1);
    const buf = this.be.alloc(size);
    this.#live++;
    this.#liveBytes += size * 4;
    return new Tensor(this, this.be, buf, Object.isFrozen(shape) ? shape : Object.freeze([...shape]), (t) => {
      this.#live--;
      this.#liveBytes -= t.size * 4;
    });
  }

  /** @internal throws unless t is a live tensor of this context; returns its shape. */
  own(name: string, t: unknown): readonly number[] {
    if (!(t instanceof Tensor)) throw new HeedError(`${name}: expected a Tensor, got ${t === null ? 'null' : typeof t}`);
    if (t.owner !== this) {
      throw new HeedError(`${name}: tensor ${fmtShape(t.shape)} belongs to another heed context (each init() owns its tensors)`);
    }
    if (t.disposed) throw new HeedError(`${name}: tensor ${fmtShape(t.shape)} was used after dispose()`);
    return t.shape;
  }

  /** @internal runs fn with `ints` copied into backend storage, freed afterwards. */
  withInts<R>(ints: ArrayLike<number>, fn: (buf: IBuf) => R): R {
    const buf = this.be.allocInt(ints.length);
    try {
      this.be.writeInt(buf, ints);
      return fn(buf);
    } finally {
      this.be.free(buf);
    }
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
