/**
 * heed: attention text classifiers trained and run on a WebAssembly SIMD core. Everything: {@link init}
 * (a {@link Context} with tensors, ops, models, optimizers, training and model files), {@link Tokenizer},
 * the data helpers {@link indexLabels} and {@link stratifiedSplit}, and {@link loadClassifier}.
 * The inference-only subset is `heed/infer`.
 *
 * @module heed
 */
import { Context } from './context.js';
import { inlineWasm } from './backends/wasm-inline.js';
import { initWith, type InitOptions } from './init.js';

export { HeedError } from './errors.js';
export { Tensor } from './tensor.js';
export type { Context } from './context.js';
export type { BackendName } from './backends/backend.js';
export type { Features } from './backends/wasm.js';
export type { Ops } from './ops/index.js';
export type { TransformerOptions } from './nn/families/transformer.js';
export type { PoolingOptions } from './nn/families/pooling.js';
export type { TaggerOptions } from './nn/families/tagger.js';
export type { RegressorOptions } from './nn/families/regressor.js';
export type { Model, ModelConfig, TransformerConfig, PoolingConfig, TaggerConfig, BertConfig, RegressorConfig, TransformerClassifier, AttentionPoolingClassifier, TokenClassifier, BertClassifier, AttentionPoolingRegressor, StateDict, ForwardOptions } from './nn/model.js';
export type { TargetKind } from './nn/targets.js';
export type { BertOptions } from './nn/families/bert.js';
export type { DecoderOptions } from './nn/families/decoder.js';
export type { DecoderConfig } from './nn/model.js';
export { CausalLM, generate, generateAll, type GenerateOptions, type GeneratedPiece } from './generate.js';
export type { HfCheckpoint, LoadPretrainedOptions, Pretrained } from './io/hf.js';
export type { AdamwOptimizer, AdamwOptimizerOptions } from './nn/optim.js';
export type { LoadedModel, ModelFileExtras } from './io/model-file.js';
export type { FitOptions, FitRun, FitResult, FitData, PackedFitData, ModelOptions } from './train/fit.js';
export type { DataParallelTrainer, DataParallelOptions } from './parallel/trainer.js';
export type { StepOptions } from './nn/step.js';
export type { StepInfo, EpochInfo, TrainResult, Schedule } from './train/loop.js';
export type { InitOptions } from './init.js';
export type { InferenceContext } from './inference-context.js';
export type { InferenceOps } from './ops/forward.js';
export type { MatmulOptions, AttentionOptions, AdamwOptions, GeluOptions } from './ops/index.js';
export type { AttentionSaved } from './ops/attention.js';
export type { OptimizerState } from './worker/protocol.js';
export type { EarlyState } from './train/loop.js';
export { indexLabels, stratifiedSplit } from './data/dataset.js';
export { loadWordPiece, WordPieceTokenizer, type WordPieceEncoding, type EncodeOptions as WordPieceEncodeOptions, type Input as WordPieceInput, type Direction as WordPieceDirection, type TruncationStrategy } from './data/wordpiece.js';
export type { WordPieceFiles } from './data/wordpiece-config.js';
export { openCheckpoint, readCheckpointDir, fetchCheckpoint, type CheckpointFiles, type HubOptions } from './io/hub.js';
export { decodeSafetensors, encodeSafetensors, type DecodedSafetensors, type DecodeOptions, type NamedTensor } from './io/safetensors.js';
export { Tokenizer, type TokenizerJSON, type TokenizerOptions, type TokenizerType } from './data/tokenizer.js';
export type { NgramSettings } from './data/ngram.js';
export { defaultCandidates, searchBudget, searchSettings, type SearchCandidate, type SearchOptions, type SearchResult, type SearchTrial } from './train/search.js';
export { loadClassifier, type Classifier } from './classifier/classifier.js';
export { explanationHtml, rollout, type Explanation, type Prediction, type TextTokenizer } from './classifier/explain.js';
export { probabilities } from './classifier/probabilities.js';

/** Creates a heed context: one backend with its own memory and tensors. */
export async function init(options: InitOptions = {}): Promise<Context> {
  return initWith(options, inlineWasm, (be, features, cap) => new Context(be, features, cap));
}
