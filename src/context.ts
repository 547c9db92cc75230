// The full library's context: an InferenceContext plus every op (backward passes, adamw), the
// optimizer, trainStep and fit. heed/infer never imports this file.
import type { Backend } from './backends/backend.js';
import type { Features } from './backends/wasm.js';
import { InferenceContext } from './inference-context.js';
import { bindOps, type Ops } from './ops/index.js';
import { AdamwOptimizer, type AdamwOptimizerOptions } from './nn/optim.js';
import { trainStep, type StepOptions } from './nn/step.js';
import type { Model } from './nn/model.js';
import { fit, type FitOptions, type FitRun } from './train/fit.js';
import { DataParallelTrainer, type DataParallelOptions } from './parallel/trainer.js';
import { CausalLM } from './generate.js';
import { decoderFamily, type DecoderOptions } from './nn/families/decoder.js';
import { registerFamily } from './nn/registry.js';

// The decoder is heed's, not heed/infer's: model files, fit and the workers know its kind from here.
registerFamily(decoderFamily);

/** One init(): a backend with its own storage (one WebAssembly instance and memory for wasm). */
export class Context extends InferenceContext {
  declare readonly ops: Ops;

  /** @internal use init(). */
  constructor(be: Backend, features: Features, maxMemoryBytes?: number) {
    super(be, features, maxMemoryBytes, bindOps as (ctx: InferenceContext) => object);
  }

  /** A decoder-only language model, nanoGPT's GPT (names, layout, pre-norm causal blocks, LM head
   *  tied to the token embedding unless `tieEmbeddings: false`), with a KV cache for generate(). */
  causalLM(options: DecoderOptions): CausalLM {
    return this.atomic(() => new CausalLM(this, decoderFamily, options));
  }

  /** torch.optim.AdamW over every parameter of `model` (one group), with optional clip_grad_norm_. */
  adamwOptimizer(model: Model, options?: AdamwOptimizerOptions): AdamwOptimizer {
    this.ownModel(model);
    return this.atomic(() => new AdamwOptimizer(model, options));
  }

  /** One training step on a batch; returns the mean loss before the update. */
  trainStep(model: Model, opt: AdamwOptimizer, tokens: ArrayLike<number>, shape: readonly number[], labels: ArrayLike<number>,
            options?: StepOptions): number {
    this.ownModel(model);
    return trainStep(model, opt, tokens, shape, labels, options);
  }

  /** Data-parallel training steps on `threads` threads (this one and threads − 1 workers), for
   *  `model` and `opt`: trainer.step(tokens, [B, T], labels) is trainStep spread over the threads.
   *  Needs SharedArrayBuffer; close() the trainer to stop its workers. */
  dataParallel(model: Model, opt: AdamwOptimizer, options: DataParallelOptions): Promise<DataParallelTrainer> {
    this.ownModel(model);
    return DataParallelTrainer.start(this, model, opt, options);
  }

  /** Trains on a worker thread (or here, with worker: false); see FitOptions. */
  fit(options: FitOptions): FitRun {
    return fit(this, options);
  }
}
