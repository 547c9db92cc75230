// The two model kinds behind one config: a model for a ModelConfig, and its parameter layout.
import type { InferenceContext } from '../inference-context.js';
import type { ParamLayout } from './block.js';
import { withoutInit, type Model, type ModelConfig } from './model.js';
import { AttentionPoolingClassifier } from './pooling.js';
import { TransformerClassifier } from './transformer.js';

/** A model of `config`'s kind in ctx. With `initialise: false` the random initialisation is
 *  skipped (the parameters stay zero): for a model whose weights are written next. */
export function modelFor(ctx: InferenceContext, config: ModelConfig, initialise = true): Model {
  const build = (): Model => config.kind === 'transformer' ? ctx.transformerClassifier(config) : ctx.attentionPoolingClassifier(config);
  return initialise ? build() : withoutInit(build);
}

/** The parameter layout of a (validated) config, without building the model. */
export function layoutFor(config: ModelConfig): ParamLayout {
  return config.kind === 'transformer' ? TransformerClassifier.layoutFor(config) : AttentionPoolingClassifier.layoutFor(config);
}
