// heed train's flags: the help text, per-model defaults and the parsed, checked settings.
import { resolve } from 'node:path';
import type { TokenizerOptions, TokenizerType } from '../data/tokenizer.js';
import { choiceFlag, delimiterFlag, floatFlag, intFlag, parse, UsageError } from './args.js';
import { fileFlag } from './common.js';

export const HELP = `usage: heed train <data.csv> [options]

Trains a classifier on a CSV with a header row and columns 'label' and 'sequence'; with --task tag,
a tagger: the sequence is words separated by spaces and the label one tag per word, also separated
by spaces (e.g. label "DET NOUN VERB", sequence "the dog barks").

  --task classify|tag|lm        one label per row (default), one tag per word, or a language model
                                (lm: the file is plain text, not a CSV: one example per line, framed by
                                begin/end markers; char tokenizer by default, or --tokenizer word)
  --context N                   --task lm: read the file as one running text cut into windows of N tokens
                                (a line break is a token) instead of one example per line
  --from DIR|MODEL-ID           fine-tune a pretrained BERT-family checkpoint (a directory with
                                config.json, model.safetensors and tokenizer files, or a Hugging Face
                                model id, downloaded once into the cache: $HEED_CACHE, else
                                ~/.cache/heed/hub; HEED_OFFLINE=1 never downloads): its own WordPiece
                                tokenizer, a new classification head; defaults as Hugging Face's
                                Trainer (3 epochs, lr 5e-5, linear decay, no weight decay)
  --freeze N|encoder            with --from: keep the embeddings and the first N layers (encoder: all
                                of them; only the classification head trains) as pretrained

  --model auto|pooling|transformer   model kind (default auto: see --tokenizer; pooling is the
                                attention-pooling classifier, the transformer pays off when word order
                                matters and data is plentiful)
  --epochs N                    passes over the training split (default 30 pooling, 20 transformer)
  --batch-size N                sequences per step (default 32)
  --lr X                        peak learning rate (default 1e-2 pooling, 2e-3 transformer;
                                5% linear warm-up, then cosine decay)
  --max-len N                   tokens kept per sequence (default: the 95th percentile length, 16–256)
  --tokenizer auto|ngram|word|char   how text becomes tokens (default auto: with --model auto too,
                                a few settings are tried on the validation split within a time budget
                                that grows with the data, a table of them is printed and the best is
                                kept; ngram: each word, its bigram and its character n-grams, hashed;
                                an explicit --tokenizer or --model skips the search)
  --char-ngrams MIN-MAX         character n-gram lengths for --tokenizer ngram (default 2-4; 0: none)
  --buckets N                   hash buckets for --tokenizer ngram (default: sized from the data)
  --seed N                      seed for the split, initialisation and batch order (default 0)
  --val-split F                 share held out for validation and early stopping (default 0.2)
  --patience N                  stop after N epochs without a better validation loss and keep the best
                                weights (default 5 pooling, 3 transformer; 0 = off)
  --out FILE                    model file (default model.safetensors)
  --label-col NAME, --text-col NAME   column names (default label, sequence)
  --delimiter C                 field separator: one character, or 'tab' for a TSV file (default ',')
  --no-refit                    keep the model trained on the training split (default: once validation
                                has chosen the epoch count, train again on every row for that many epochs)
  --weight-decay X              AdamW decoupled weight decay (default 2 pooling, 0.1 transformer)
  --token-dropout F             leave out each training token with this probability, anew every epoch
                                (default 0.25 pooling, 0.2 transformer)
  --d-model N                   model width (default 64)
  --resume                      continue from <out>.ckpt after an interruption
  --backend B                   compute backend: wasm-relaxed, wasm, wasm-scalar or js (default: relaxed
                                SIMD, else SIMD, where available)
  --threads N                   data-parallel training on N threads (default 1): each batch is split
                                across worker threads and their gradients averaged; pays off for the
                                transformer (about 1.7x with 2 threads); the pooling model's steps are
                                too short for it (slower: messaging costs more than the step)
  --quiet                       no progress output
`;

/** Defaults per model kind, chosen on held-out data against a bag-of-n-grams logistic regression
 *  (bench/accuracy.mjs): small text datasets need strong regularisation — decoupled weight decay
 *  and token dropout — and early stopping on the validation loss. */
export const DEFAULTS = {
  pooling: { epochs: 30, lr: 1e-2, patience: 5, weightDecay: 2, tokenDropout: 0.25 },
  transformer: { epochs: 20, lr: 2e-3, patience: 3, weightDecay: 0.1, tokenDropout: 0.2 },
  // A tag depends on the word and its neighbours: leaving words out would change both.
  tagger: { epochs: 30, lr: 2e-3, patience: 3, weightDecay: 0.1, tokenDropout: 0 },
  // A pretrained encoder (--from): Hugging Face Trainer's defaults (3 epochs, lr 5e-5, linear decay,
  // weight decay 0); early stopping still guards the epochs.
  bert: { epochs: 3, lr: 5e-5, patience: 2, weightDecay: 0, tokenDropout: 0 },
  // A small GPT on a few thousand lines (src/cli/lm.ts): nanoGPT's lr for small models, its weight
  // decay, no token dropout (every input token is the next one's context).
  decoder: { epochs: 40, lr: 3e-3, patience: 3, weightDecay: 0.1, tokenDropout: 0 },
} as const;

export interface TrainFlags {
  task: 'classify' | 'tag' | 'lm';
  model: 'transformer' | 'pooling' | 'tagger' | 'bert' | 'decoder';
  /** --task lm: --context N cuts a running text into windows of N tokens (null: one example per line). */
  context: number | null;
  /** --from: the checkpoint to fine-tune (a directory or a Hub model id), else null. */
  from: string | null;
  /** --freeze: the embeddings and the first N layers ('encoder': all) stay pretrained. */
  freeze: number | 'encoder' | undefined;
  /** Neither --tokenizer nor --model was given: search the settings (src/train/search.ts). */
  search: boolean;
  /** Flags the search must keep as given rather than vary. */
  given: { weightDecay: boolean; tokenDropout: boolean; charNgrams: boolean }; epochs: number; batchSize: number; lr: number; maxLen: number | null;
  tokenizer: TokenizerType; seed: number; valSplit: number; patience: number; out: string;
  labelCol: string; textCol: string; delimiter: string; resume: boolean; backend?: 'wasm-relaxed' | 'wasm' | 'wasm-scalar' | 'js'; quiet: boolean;
  weightDecay: number; tokenDropout: number; dModel: number; refit: boolean; threads: number;
  /** --tokenizer ngram: character n-gram lengths ([0, 0]: none) and hash buckets (null: sized from the data). */
  charNgrams: [number, number]; buckets: number | null;
}

export function trainFlags(args: string[], cwd: string): { file: string | null; flags: TrainFlags; help: boolean } {
  const { values: v, positionals } = parse('train', args, {
    model: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' },
    'max-len': { type: 'string' }, tokenizer: { type: 'string' }, seed: { type: 'string' }, 'val-split': { type: 'string' },
    patience: { type: 'string' }, out: { type: 'string' }, 'label-col': { type: 'string' }, 'text-col': { type: 'string' },
    resume: { type: 'boolean' }, backend: { type: 'string' }, quiet: { type: 'boolean', short: 'q' },
    'weight-decay': { type: 'string' }, 'token-dropout': { type: 'string' }, 'd-model': { type: 'string' },
    'no-refit': { type: 'boolean' }, threads: { type: 'string' }, delimiter: { type: 'string' },
    'char-ngrams': { type: 'string' }, buckets: { type: 'string' }, task: { type: 'string' }, from: { type: 'string' }, freeze: { type: 'string' },
    context: { type: 'string' },
  });
  if (positionals.length > 1) throw new UsageError(`train: expected one CSV file, got ${positionals.length} arguments`);
  const task = choiceFlag(v.task, 'task', 'classify', ['classify', 'tag', 'lm'] as const);
  const modelFlag = choiceFlag(v.model, 'model', 'auto', ['auto', 'transformer', 'pooling'] as const);
  const tokFlag = choiceFlag(v.tokenizer, 'tokenizer', 'auto', ['auto', 'ngram', 'word', 'char'] as const);
  if (task === 'tag' && modelFlag !== 'auto') throw new UsageError(`--model ${modelFlag} classifies rows; --task tag trains a tagger (leave --model out)`);
  if (task === 'tag' && v.resume) throw new UsageError('--resume is not available with --task tag yet (a tagging run keeps no checkpoint)');
  if (task === 'lm') {
    if (modelFlag !== 'auto') throw new UsageError(`--model ${modelFlag} classifies rows; --task lm trains a language model (leave --model out)`);
    if (tokFlag === 'ngram') throw new UsageError('--tokenizer ngram hashes features and cannot be generated from; --task lm takes char (default) or word');
    if (v.resume) throw new UsageError('--resume is not available with --task lm yet (a language-model run keeps no checkpoint)');
    if (v.from !== undefined) throw new UsageError('--from fine-tunes a classifier; --task lm is not available with it');
    if (v['token-dropout'] !== undefined) throw new UsageError("--token-dropout is not used with --task lm (every token is the context of the next)");
    if (v.context !== undefined && v['max-len'] !== undefined) throw new UsageError('--max-len sets the context of one example per line; with --context, the windows are the context (give one of them)');
  } else if (v.context !== undefined) {
    throw new UsageError('--context is for --task lm (windows of a running text)');
  }
  const from = v.from === undefined ? null : nonEmpty(v.from, 'from');
  if (from !== null) {
    if (task === 'tag') throw new UsageError('--from fine-tunes a classifier; --task tag is not available with it yet');
    if (modelFlag !== 'auto' || tokFlag !== 'auto') throw new UsageError(`--from uses the checkpoint's own model and tokenizer; leave out --${modelFlag !== 'auto' ? 'model' : 'tokenizer'}`);
    if (v.resume) throw new UsageError('--resume is not available with --from yet');
  }
  if (v.freeze !== undefined && from === null) throw new UsageError('--freeze keeps pretrained layers: it needs --from');
  const freeze = v.freeze === undefined ? undefined : String(v.freeze) === 'encoder' ? 'encoder' as const : intFlag(v.freeze, 'freeze', 0, 0, 1000);
  const model = from !== null ? 'bert' : task === 'lm' ? 'decoder' : task === 'tag' ? 'tagger' : modelFlag === 'auto' ? 'pooling' : modelFlag;
  const d = DEFAULTS[model];
  const flags: TrainFlags = {
    task,
    model,
    from,
    freeze,
    context: v.context === undefined ? null : intFlag(v.context, 'context', 0, 1, 4096),
    search: task === 'classify' && from === null && modelFlag === 'auto' && tokFlag === 'auto',
    given: { weightDecay: v['weight-decay'] !== undefined, tokenDropout: v['token-dropout'] !== undefined, charNgrams: v['char-ngrams'] !== undefined },
    epochs: intFlag(v.epochs, 'epochs', d.epochs, 1, 100000),
    batchSize: intFlag(v['batch-size'], 'batch-size', 32, 1, 65536),
    lr: floatFlag(v.lr, 'lr', d.lr, (x) => x > 0 && x < 10, 'a number in (0, 10)'),
    maxLen: v['max-len'] === undefined ? null : intFlag(v['max-len'], 'max-len', 0, 1, 100000),
    // Sub-word features suit the pooling model; the transformer's cost grows with the square of the
    // length, so it keeps one id per word.
    tokenizer: tokFlag === 'auto' ? (model === 'pooling' ? 'ngram' : model === 'decoder' ? 'char' : 'word') : tokFlag,
    seed: intFlag(v.seed, 'seed', 0, 0, 2 ** 31 - 1),
    valSplit: floatFlag(v['val-split'], 'val-split', 0.2, (x) => x >= 0 && x < 1, 'a fraction in [0, 1)'),
    patience: intFlag(v.patience, 'patience', d.patience, 0, 100000),
    out: resolve(cwd, v.out === undefined ? 'model.safetensors' : fileFlag(nonEmpty(v.out, 'out'), '--out')),
    labelCol: String(v['label-col'] ?? 'label'),
    textCol: String(v['text-col'] ?? 'sequence'),
    delimiter: delimiterFlag(v.delimiter),
    resume: !!v.resume,
    backend: v.backend === undefined ? undefined : choiceFlag(v.backend, 'backend', 'wasm', ['wasm-relaxed', 'wasm', 'wasm-scalar', 'js'] as const),
    quiet: !!v.quiet,
    weightDecay: floatFlag(v['weight-decay'], 'weight-decay', d.weightDecay, (x) => x >= 0 && x < 100, 'a number in [0, 100)'),
    tokenDropout: floatFlag(v['token-dropout'], 'token-dropout', d.tokenDropout, (x) => x >= 0 && x < 1, 'a fraction in [0, 1)'),
    dModel: intFlag(v['d-model'], 'd-model', 64, 1, 4096),
    refit: !v['no-refit'],
    threads: intFlag(v.threads, 'threads', 1, 1, 16),
    charNgrams: charNgramsFlag(v['char-ngrams']),
    buckets: v.buckets === undefined ? null : intFlag(v.buckets, 'buckets', 0, 1, 2 ** 22),
  };
  return { file: positionals[0] ? resolve(cwd, positionals[0]) : null, flags, help: !!v.help };
}

/** --char-ngrams MIN-MAX (or N, or 0 for none). */
function charNgramsFlag(v: string | boolean | undefined): [number, number] {
  if (v === undefined) return [2, 4];
  const m = /^(\d{1,2})(?:-(\d{1,2}))?$/.exec(String(v).trim());
  const lo = m ? Number(m[1]) : NaN, hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!m || (lo === 0 && hi !== 0) || (hi !== 0 && (lo < 1 || hi < lo || hi > 16))) {
    throw new UsageError(`--char-ngrams must be MIN-MAX with 1 <= MIN <= MAX <= 16 (or 0 for none), got ${JSON.stringify(String(v))}`);
  }
  return hi === 0 ? [1, 0] : [lo, hi];
}

/** The tokenizer options of the flags. */
export function tokenizerOptions(f: TrainFlags): TokenizerOptions {
  if (f.tokenizer !== 'ngram') return { type: f.tokenizer };
  return { type: 'ngram', charMin: f.charNgrams[0], charMax: f.charNgrams[1], ...(f.buckets === null ? {} : { buckets: f.buckets }) };
}

function nonEmpty(v: string | boolean, flag: string): string {
  if (String(v).trim() === '') throw new UsageError(`--${flag} must not be empty`);
  return String(v);
}

/** The 95th-percentile sequence length, clamped to [16, 256]: long enough for nearly every
 *  example, without paying attention's T² for a few outliers. */
export function autoMaxLen(lengths: ArrayLike<number>, cap = 256): number {
  if (lengths.length === 0) return 16;
  const s = Int32Array.from(lengths).sort();
  return Math.min(cap, Math.max(16, s[Math.min(s.length - 1, Math.floor(0.95 * s.length))]));
}
