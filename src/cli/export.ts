// heed export <model.safetensors> --hf <dir>: a BERT-family model file (heed train --from, or a
// bertClassifier saved with saveModel) as a Hugging Face checkpoint directory — config.json with
// id2label, model.safetensors under transformers' names, and the tokenizer files it was trained
// with — so transformers' from_pretrained loads it as a BertForSequenceClassification: the way to
// continue on PyTorch when a job outgrows one machine.
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WordPieceText } from '../data/wordpiece-text.js';
import { HeedError } from '../errors.js';
import { init } from '../infer.js';
import { toPretrained } from '../io/hf.js';
import type { BertClassifier } from '../nn/model.js';
import { parse, UsageError } from './args.js';
import { checkOutputPath, fsProblem, openModelFile, writeOrFail } from './common.js';
import type { Io } from './main.js';
import { summarise } from './ui.js';

const HELP = `usage: heed export <model.safetensors> --hf <dir>
  Writes a BERT-family model file as a Hugging Face checkpoint: <dir>/config.json (with id2label),
  <dir>/model.safetensors (transformers' names) and the tokenizer files the model was trained with.
  The directory is created when missing; files of those names in it are replaced.
`;

export async function exportModel(args: string[], io: Io): Promise<number> {
  const { values: v, positionals } = parse('export', args, { hf: { type: 'string' }, backend: { type: 'string' } });
  if (v.help) { io.stdout.write(HELP); return 0; }
  if (positionals.length !== 1) throw new UsageError(`export: expected <model.safetensors> --hf <dir>, got ${positionals.length} arguments`);
  if (v.hf === undefined || String(v.hf).trim() === '') throw new UsageError('export: --hf <dir> is required (the only format today)');
  const modelPath = resolve(io.cwd, positionals[0]), dir = resolve(io.cwd, String(v.hf));
  const h = await init(v.backend ? { backend: v.backend as 'wasm' } : {});
  const loaded = openModelFile(h, modelPath);
  try {
    const { model, tokenizer, labels } = loaded;
    if (model.config.kind !== 'bert') throw new HeedError(`${modelPath}: a ${model.config.kind} model has no Hugging Face form (a BERT-family model does: heed train --from)`);
    const files = tokenizer instanceof WordPieceText ? tokenizer.files : null;
    let st = null;
    try { st = statSync(dir); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new HeedError(`--hf ${dir}: ${fsProblem(e)}`); }
    if (st && !st.isDirectory()) throw new HeedError(`--hf ${dir}: is not a directory`);
    const out: [string, string | Uint8Array][] = [];
    const { config, weights } = toPretrained(model as BertClassifier, labels);
    out.push(['config.json', config], ['model.safetensors', weights]);
    for (const [name, text] of Object.entries(files ?? {})) out.push([name, text]);
    // Every path checked before the first write: a refused one leaves the directory as it was.
    if (!st) {
      try { mkdirSync(dir); } catch (e) { throw new HeedError(`--hf ${dir}: cannot create it: ${fsProblem(e)}`); }
    }
    for (const [name] of out) checkOutputPath(join(dir, name), '--hf', [modelPath]);
    for (const [name, data] of out) writeOrFail(join(dir, name), name, data);
    io.stdout.write(`wrote ${dir} (${out.map(([n]) => n).join(', ')}): BertForSequenceClassification, labels ${summarise([...labels])}\n`);
    if (!files) io.stderr.write(`heed: ${modelPath} holds no WordPiece tokenizer, so none was written; add the checkpoint's tokenizer files to ${dir}\n`);
    return 0;
  } finally {
    loaded.model.dispose();
  }
}
