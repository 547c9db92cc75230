// Freezing (AdamwOptimizerOptions.freeze, fit's freeze): the embeddings and the first N layers are
// a prefix of the parameter block; a frozen step leaves it bit for bit as it was and updates the
// rest exactly as an unfrozen step would (AdamW is elementwise; without clipping nothing couples
// the two parts within a step).
import { describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { frozenPrefix } from '../../src/nn/optim.js';

const h = await init({ backend: 'wasm' });
const tokens = Int32Array.from([1, 4, 2, 6, 3, 5, 2, 6, 0, 0]), shape: [number, number] = [2, 5], labels = Int32Array.from([1, 0]);
const bert = () => h.bertClassifier({ vocabSize: 7, maxLen: 6, dModel: 8, heads: 2, ffDim: 12, layers: 3, classes: 2, seed: 3 });

describe('freeze', () => {
  it('covers the embeddings and the first N layers of every layered family', () => {
    const b = bert(), at = (m: typeof b, name: string) => m.layout.get(name).offset;
    expect(frozenPrefix(b.layout, 'bert', 0)).toBe(0);
    expect(frozenPrefix(b.layout, 'bert', 1)).toBe(at(b, 'bert.encoder.layer.1.attention.self.query.weight'));
    expect(frozenPrefix(b.layout, 'bert', 'encoder')).toBe(at(b, 'bert.pooler.dense.weight'));
    expect(frozenPrefix(b.layout, 'bert', 3)).toBe(at(b, 'bert.pooler.dense.weight'));
    const t = h.transformerClassifier({ vocabSize: 7, maxLen: 6, dModel: 8, heads: 2, ffDim: 12, layers: 2, seed: 1 });
    expect(frozenPrefix(t.layout, 'transformer', 'encoder')).toBe(t.layout.get('norm.weight').offset);
    expect(frozenPrefix(t.layout, 'transformer', 1)).toBe(t.layout.get('layers.1.self_attn.in_proj_weight').offset);
    const lm = h.causalLM({ vocabSize: 7, maxLen: 6, dModel: 8, heads: 2, layers: 2, seed: 1 });
    expect(frozenPrefix(lm.layout, 'decoder', 1)).toBe(lm.layout.get('transformer.h.1.ln_1.weight').offset);
    const p = h.attentionPoolingClassifier({ vocabSize: 7, dModel: 4 });
    expect(frozenPrefix(p.layout, 'pooling', 'encoder')).toBe(p.layout.get('attn.weight').offset);
    expect(() => h.adamwOptimizer(b, { freeze: 4 })).toThrow("adamwOptimizer: freeze must be 'encoder' or a number of layers from 0 to 3 (this bert model has 3), got 4");
    expect(() => h.adamwOptimizer(b, { freeze: 'all' as never })).toThrow('got "all"');
    for (const m of [b, t, lm, p]) m.dispose();
  });

  it('a frozen step leaves the prefix as it was and updates the rest exactly as an unfrozen first step', () => {
    const a = bert(), c = bert();
    const frozen = h.adamwOptimizer(a, { lr: 1e-2, weightDecay: 0.1, freeze: 2 }), free = h.adamwOptimizer(c, { lr: 1e-2, weightDecay: 0.1 });
    const before = h.be.read(a.params, a.layout.total), cut = frozen.trainableFrom;
    expect(cut).toBe(a.layout.get('bert.encoder.layer.2.attention.self.query.weight').offset);
    h.trainStep(a, frozen, tokens, shape, labels);
    h.trainStep(c, free, tokens, shape, labels);
    const got = h.be.read(a.params, a.layout.total), want = h.be.read(c.params, c.layout.total);
    expect(got.subarray(0, cut)).toEqual(before.subarray(0, cut));
    expect(got.subarray(cut)).toEqual(want.subarray(cut));
    // Later steps keep the prefix too (no weight decay, no moments there).
    for (let i = 0; i < 3; i++) h.trainStep(a, frozen, tokens, shape, labels);
    expect(h.be.read(a.params, a.layout.total).subarray(0, cut)).toEqual(before.subarray(0, cut));
    for (const x of [frozen, free, a, c]) x.dispose();
  });

  it('clipping and the reported gradient norm count only the trainable parameters', () => {
    const a = bert();
    const opt = h.adamwOptimizer(a, { lr: 1e-3, clipNorm: 1e-9, freeze: 'encoder' });
    h.trainStep(a, opt, tokens, shape, labels);
    // The gradient the step saw is still in the block (the clipped rest, the untouched prefix).
    const g = h.be.read(a.grads, a.layout.total), cut = opt.trainableFrom;
    let rest = 0;
    for (let i = cut; i < g.length; i++) rest += g[i] * g[i];
    expect(Math.sqrt(rest)).toBeCloseTo(1e-9, 12);
    expect(opt.lastGradNorm).toBeGreaterThan(1e-6);
    opt.dispose(); a.dispose();
  });

  it('fit({ freeze }) keeps the frozen layers, and checks the setting where it is called', async () => {
    const m = bert(), before = h.be.read(m.params, m.layout.total);
    const data = { sequences: [[1, 4, 2], [6, 3], [5, 2, 6], [1, 1]], labels: [1, 0, 1, 0] };
    expect(() => h.fit({ model: m, data, freeze: 9 })).toThrow("fit: freeze must be 'encoder' or a number of layers from 0 to 3");
    const r = await h.fit({ model: m, data, epochs: 2, batchSize: 2, lr: 1e-2, freeze: 'encoder', worker: false }).done;
    const after = h.be.read(r.model.params, r.model.layout.total), cut = r.model.layout.get('bert.pooler.dense.weight').offset;
    expect(after.subarray(0, cut)).toEqual(before.subarray(0, cut));
    expect(after.subarray(cut)).not.toEqual(before.subarray(cut));
    m.dispose();
  });
});
