// An independent oracle for the two whole models: heed's transformerClassifier and
// attentionPoolingClassifier against the PyTorch models API.md spells out (nn.Embedding,
// nn.TransformerEncoderLayer(norm_first, GELU tanh, dropout 0), nn.LayerNorm, nn.Linear; masked
// mean / masked softmax pooling), on every backend. The fixtures come from
// test/fixtures/make_model_fixtures.py (PyTorch 1.13; the mean-pooling case 2.13) and are committed as test/fixtures/models.json,
// so this test needs no Python. Parameters are float32 stored exactly (9 significant digits), so
// heed loads bit-identical weights. logits, loss and gradients are PyTorch evaluated in float64 on
// those weights (the exact answer; PyTorch's own float32 result is within 0.005 of the default
// tolerance of it on every config). Training trajectories are real float32 torch.optim.AdamW runs,
// with the same runs in float64 alongside.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import type { Model } from '../../src/nn/model.js';
import { lossAndGrads } from './util.js';

interface Enc { shape: number[]; data: number[] }
type Dict = Record<string, Enc>;
interface TrainRun {
  lr: number; weightDecay: number; clipNorm?: number; steps: number;
  losses: number[]; final: Dict; losses64: number[]; final64: Dict;
}
interface Case {
  name: string;
  config: { kind: 'transformer' | 'pooling' | 'regressor'; vocabSize: number; dModel: number; classes?: number; outputs?: number;
            seed: number; maxLen?: number; heads?: number; ffDim?: number; layers?: number; pool?: 'attention' | 'mean' };
  shape: [number, number]; tokens: number[]; labels: number[];
  params: Dict; logits: Enc; loss: number; grads: Dict;
  alone: { row: number; len: number; logits: Enc }[];
  train: TrainRun[];
}
interface Fixtures { meta: Record<string, unknown>; cases: Case[] }

const fx: Fixtures = JSON.parse(readFileSync(new URL('../fixtures/models.json', import.meta.url), 'utf8'));

/** HEED_TOLERANCE_REPORT=1 prints, per check, the largest fraction of its tolerance in use. */
const report = typeof process !== 'undefined' && process.env.HEED_TOLERANCE_REPORT === '1';
let reportPrefix = '';

/** Worst element of |got − want| ≤ atol + rtol·|want| (NaN never passes); throws naming `label`. */
function close(label: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  let worst = -1, worstRatio = 0;
  for (let i = 0; i < want.length; i++) {
    const ratio = Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i]));
    if (!(ratio <= worstRatio)) { worst = i; worstRatio = ratio; }
  }
  if (report) console.log(`TOL\t${reportPrefix}\t${label}\t${worstRatio.toFixed(4)}`);
  if (!(worstRatio <= 1)) {
    expect.fail(`${label}: element ${worst} of ${want.length}: got ${got[worst]}, want ${want[worst]} ` +
      `(|diff| ${Math.abs(got[worst] - want[worst]).toExponential(3)}, atol ${atol}, rtol ${rtol})`);
  }
}

const f32 = (e: Enc) => Float32Array.from(e.data);
const stateOf = (d: Dict) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, { shape: v.shape, data: f32(v) }]));

// Two kinds of parameter entries have a mathematically zero gradient, because softmax ignores a
// shift of every score of a row:
//  - the pooling model's attn.bias (it adds the same b to every position's score);
//  - the key third of every layer's self_attn.in_proj_bias, rows [d, 2d): q·(k + b_k) = q·k + q·b_k,
//    the same for every key of a query.
// Their computed gradients are rounding noise (PyTorch float32 ~1e-9; PyTorch float64 ~1e-17; heed
// gives exactly 0 for attn.bias, by construction, and float32 noise for the key bias). Adam divides
// by √v̂ + eps, so noise of ~1e-9 becomes steps of a fraction of lr to about lr each, in a random
// direction; noise of ~1e-17 (float64) becomes steps of ~1e-9·lr. So after `steps` updates a noisy
// trajectory can sit up to ~steps·lr from the noise-free one (pure weight decay) and two noisy ones
// up to ~2·steps·lr apart (|Adam step| ≤ lr at step 1 and ≈ lr·|m̂|/√v̂ ≤ lr after, for
// sign-stable noise). These entries change neither the logits nor any other gradient, so they
// cannot hide an error elsewhere. Every other entry is held to the tight tolerance.
function zeroGradEntries(name: string, c: Case): [number, number] | null {
  if (name === 'attn.bias') return [0, 1];
  if (name.endsWith('self_attn.in_proj_bias')) return [c.config.dModel, 2 * c.config.dModel];
  return null;
}

describe.each(['js', 'wasm', 'wasm-scalar'] as const)('whole models vs PyTorch on %s', async (backend) => {
  const h = await init({ backend });

  function build(c: Case): Model {
    const { kind, ...opts } = c.config;
    const m = kind === 'transformer' ? h.transformerClassifier(opts as Parameters<typeof h.transformerClassifier>[0])
      : kind === 'regressor' ? h.attentionPoolingRegressor(opts) : h.attentionPoolingClassifier(opts);
    m.loadStateDict(stateOf(c.params));
    return m;
  }
  function withModel(c: Case, fn: (m: Model) => void): void {
    reportPrefix = `${backend}\t${c.name}`;
    const m = build(c);
    try { fn(m); } finally { m.dispose(); }
  }
  const tokensOf = (c: Case) => Int32Array.from(c.tokens);
  // class ids, or a regressor's real values ([B, outputs])
  const labelsOf = (c: Case) => (c.config.kind === 'regressor' ? Float32Array.from(c.labels) : Int32Array.from(c.labels));

  describe.each(fx.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    it('stateDict has PyTorch names in PyTorch state_dict order, PyTorch shapes, and the loaded values', () => withModel(c, (m) => {
      const sd = m.stateDict();
      expect(Object.keys(sd)).toEqual(Object.keys(c.params));
      for (const [name, e] of Object.entries(c.params)) {
        expect(sd[name].shape, name).toEqual(e.shape);
        expect(Array.from(sd[name].data), name).toEqual(Array.from(f32(e)));
      }
    }));

    it('forward logits match PyTorch', () => withModel(c, (m) => {
      const logits = m.forward(tokensOf(c), c.shape);
      expect(logits.shape).toEqual(c.logits.shape);
      close('logits', logits.toArray(), f32(c.logits), 1e-5, 1e-4);
      logits.dispose();
    }));

    // Gradients of the mean loss, at the same 1e-5 + 1e-4·|want| as the logits: heed's backends use
    // under 0.01 of it on every backend and config.
    it('loss and the gradient of every parameter match PyTorch', () => withModel(c, (m) => {
      const { loss, grads } = lossAndGrads(m, tokensOf(c), c.shape, labelsOf(c));
      close('loss', [loss], [c.loss], 1e-6, 1e-5);
      for (const e of m.layout.entries) {
        close(`grad of ${e.name}`, grads.subarray(e.offset, e.offset + e.size), f32(c.grads[e.name]), 1e-5, 1e-4);
      }
      if (c.config.kind !== 'transformer' && c.config.pool !== 'mean') expect(grads[m.layout.get('attn.bias').offset], 'attn.bias gradient').toBe(0);
    }));

    it('padding changes nothing: a padded sequence alone gives its row, and the padding embedding is ignored', () => withModel(c, (m) => {
      const tokens = tokensOf(c), [, T] = c.shape;
      const batch = m.forward(tokens, c.shape), rows = batch.toArray(), C = m.outputs;
      expect(c.alone.length).toBeGreaterThan(0);
      for (const a of c.alone) {
        const alone = m.forward(tokens.subarray(a.row * T, a.row * T + a.len), [1, a.len]);
        // Same row of the batch, and PyTorch's logits for the sequence alone.
        close(`row ${a.row} alone vs in the batch`, alone.toArray(), rows.subarray(a.row * C, (a.row + 1) * C), 1e-6, 1e-6);
        close(`row ${a.row} alone vs PyTorch`, alone.toArray(), f32(a.logits), 1e-5, 1e-4);
        alone.dispose();
      }
      // Whatever the padding positions hold (embed.weight row 0 is what id 0 embeds to), the
      // logits stay the same.
      const sd = m.stateDict(), d = c.config.dModel, w = sd['embed.weight'].data;
      for (let j = 0; j < d; j++) w[j] = 5 * Math.sin(7 * j + 1);
      m.loadStateDict(sd);
      const again = m.forward(tokens, c.shape);
      close('logits with another padding embedding', again.toArray(), rows, 1e-6, 1e-6);
      again.dispose();
      batch.dispose();
    }));

    const runLabel = (r: TrainRun) =>
      `${r.steps} AdamW steps (lr ${r.lr}, weightDecay ${r.weightDecay}, ${r.clipNorm === undefined ? 'no clipping' : `clipNorm ${r.clipNorm}`})`;
    describe.each(c.train.map((r) => [runLabel(r), r] as const))('%s', (_label, r) => {
      it('give PyTorch\'s losses and final parameters', () => withModel(c, (m) => {
        const opt = h.adamwOptimizer(m, { lr: r.lr, weightDecay: r.weightDecay, ...(r.clipNorm !== undefined ? { clipNorm: r.clipNorm } : {}) });
        const tokens = tokensOf(c), labels = labelsOf(c);
        const losses: number[] = [];
        for (let s = 0; s < r.steps; s++) losses.push(h.trainStep(m, opt, tokens, c.shape, labels));
        opt.dispose();
        // The float32 and float64 PyTorch runs agree to < 2e-6 relative on every loss.
        close('losses (vs PyTorch float32)', losses, r.losses, 1e-7, 1e-5);
        close('losses (vs PyTorch float64)', losses, r.losses64, 1e-7, 1e-5);
        const sd = m.stateDict();
        const noisyTol = 2 * r.steps * r.lr; // two noise-driven trajectories: see zeroGradEntries
        for (const [name, e] of Object.entries(r.final)) {
          const got = sd[name].data, want = f32(e), want64 = f32(r.final64[name]);
          const z = zeroGradEntries(name, c);
          if (z === null) {
            close(`${name} after ${r.steps} steps (vs PyTorch float32)`, got, want, 1e-4, 1e-4);
            close(`${name} after ${r.steps} steps (vs PyTorch float64)`, got, want64, 1e-4, 1e-4);
            continue;
          }
          const [lo, hi] = z;
          const inside = (a: Float32Array) => a.subarray(lo, hi);
          const outside = (a: Float32Array) => Float32Array.from([...a.subarray(0, lo), ...a.subarray(hi)]);
          close(`${name} outside [${lo},${hi}) (vs PyTorch float32)`, outside(got), outside(want), 1e-4, 1e-4);
          close(`${name} outside [${lo},${hi}) (vs PyTorch float64)`, outside(got), outside(want64), 1e-4, 1e-4);
          close(`${name}[${lo},${hi}) zero-gradient entries (vs PyTorch float32)`, inside(got), inside(want), noisyTol, 0);
          if (name === 'attn.bias') {
            // heed's gradient here is exactly 0, so its attn.bias only decays — which is what the
            // float64 run does too (its noise is ~1e-17): hold it tight there.
            close('attn.bias (vs PyTorch float64, noise-free)', got, want64, 1e-6, 1e-5);
            const decayed = f32(c.params['attn.bias'])[0] * (1 - r.lr * r.weightDecay) ** r.steps;
            close('attn.bias (pure weight decay)', got, [decayed], 1e-6, 1e-5);
          } else {
            close(`${name}[${lo},${hi}) zero-gradient entries (vs PyTorch float64)`, inside(got), inside(want64), noisyTol / 2, 0);
          }
        }
      }));
    });
  });
});
