// Every model family heed knows, by the `kind` its config and its model files carry. Everything
// that builds, lays out or reads a model asks here instead of switching on kind.
import type { InferenceContext } from '../inference-context.js';
import { HeedError } from '../errors.js';
import { brief } from '../io/json.js';
import type { ParamLayout } from './block.js';
import { NO_RUNTIME, Params } from './layer.js';
import { Model, type Family, type ModelConfig } from './model.js';
import { bertFamily } from './families/bert.js';
import { poolingFamily } from './families/pooling.js';
import { regressorFamily } from './families/regressor.js';
import { taggerFamily } from './families/tagger.js';
import { transformerFamily } from './families/transformer.js';

// Family<TransformerConfig> is not a Family<ModelConfig> (its config() and build() take one kind):
// the registry holds each as the family of its own kind and hands it out for a config of that kind.
export const FAMILIES = [transformerFamily, poolingFamily, taggerFamily, bertFamily, regressorFamily] as const;

const byKind = new Map<string, Family>(FAMILIES.map((f) => [f.kind, f as unknown as Family]));
let kinds = FAMILIES.map((f) => `"${f.kind}"`).join(', ');

/** Adds a family heed has and heed/infer does not carry (the decoder: src/context.ts registers
 *  it), so that the edge bundle stays its size. */
export function registerFamily<C extends ModelConfig>(f: Family<C>): void {
  if (byKind.has(f.kind)) return;
  byKind.set(f.kind, f as unknown as Family);
  kinds += `, "${f.kind}"`;
}

/** The family of a kind; a HeedError naming the known kinds for any other value (`who`: what
 *  the kind was read from, e.g. "config" gives "config kind "rnn" is not one of …"). */
export function familyOf(kind: unknown, who = 'model'): Family {
  const f = typeof kind === 'string' ? byKind.get(kind) : undefined;
  if (!f) throw new HeedError(`${who} kind ${brief(kind)} is not one of ${kinds}`);
  return f;
}

/** A validated config from a plain object that names its kind (a model file's, fit's modelOptions). */
export function configFor(raw: unknown, who = 'model'): ModelConfig {
  if (raw === null || typeof raw !== 'object') throw new HeedError(`${who} must be an object with a kind (${kinds})`);
  return familyOf((raw as { kind?: unknown }).kind, who).config(raw);
}

/** A model of `config`'s kind in ctx. With `initialise: false` the random initialisation is
 *  skipped (the parameters stay zero): for a model whose weights are written next. */
export function modelFor(ctx: InferenceContext, config: ModelConfig, initialise = true): Model {
  return ctx.atomic(() => new Model(ctx, familyOf(config.kind), config, { initialise }));
}

/** The parameter layout of a (validated) config, without building the model. */
export function layoutFor(config: ModelConfig): ParamLayout {
  const ps = new Params(NO_RUNTIME);
  familyOf(config.kind).build(ps, config as never);
  return ps.layout();
}
