/**
 * heed/infer: load a model file, predict, explain — and nothing that trains. The edge entry: no
 * optimizer, training loop, worker, CSV reader or checkpoint code is reachable from here (a test
 * walks the import graph and searches the bundle). {@link init} takes the same options as heed's
 * and returns an {@link InferenceContext}: tensors, the forward ops, models, loadModel / saveModel,
 * memory(). Every type here is the same as heed's.
 *
 * @module heed/infer
 */
import { InferenceContext } from './inference-context.js';
import { wasmFiles } from './backends/wasm-files.js';
import { initWith, type InitOptions } from './init.js';

export { HeedError } from './errors.js';
export { Tensor } from './tensor.js';
export { Tokenizer, type TokenizerJSON, type TokenizerOptions, type TokenizerType } from './data/tokenizer.js';
export type { NgramSettings } from './data/ngram.js';
export { loadClassifier, type Classifier } from './classifier/classifier.js';
export { explanationHtml, rollout, type Explanation, type Prediction, type TextTokenizer } from './classifier/explain.js';
export { probabilities } from './classifier/probabilities.js';
export type { InferenceContext } from './inference-context.js';
export type { InferenceOps } from './ops/forward.js';
export type { MatmulOptions, AttentionOptions, GeluOptions } from './ops/index.js';
export type { InitOptions } from './init.js';
export type { BackendName } from './backends/backend.js';
export type { Features } from './backends/wasm.js';
export type { TransformerOptions } from './nn/families/transformer.js';
export type { PoolingOptions } from './nn/families/pooling.js';
export type { TaggerOptions } from './nn/families/tagger.js';
export type { RegressorOptions } from './nn/families/regressor.js';
export type { Model, ModelConfig, TransformerConfig, PoolingConfig, TaggerConfig, BertConfig, RegressorConfig, TransformerClassifier, AttentionPoolingClassifier, TokenClassifier, BertClassifier, AttentionPoolingRegressor, StateDict, ForwardOptions } from './nn/model.js';
export type { TargetKind } from './nn/targets.js';
export type { BertOptions } from './nn/families/bert.js';
export type { HfCheckpoint, LoadPretrainedOptions, Pretrained } from './io/hf.js';
export type { LoadedModel, ModelFileExtras } from './io/model-file.js';

/** Creates an inference context: one backend with its own memory, tensors and models. The options
 *  are heed's (backend, module for edge runtimes, maxMemoryMB). */
export async function init(options: InitOptions = {}): Promise<InferenceContext> {
  return initWith(options, wasmFiles, (be, features, cap) => new InferenceContext(be, features, cap));
}
