// The layers of src/nn/ against PyTorch and Hugging Face (test/fixtures/layers.json, from
// test/fixtures/make_layer_fixtures.py: float64 answers on float32 weights), on every backend:
// a post-norm nn.TransformerEncoderLayer with exact GELU, a transformers BertLayer, cross-attention
// with separate q/k/v weights, and the tokenClassifier family (logits, loss, gradients, 10 AdamW
// steps). Then the plumbing: scratch is shared between chain layers, backward accumulates.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import type { Buf } from '../../src/backends/backend.js';
import { MultiHeadAttention } from '../../src/nn/attention.js';
import { ClsPool } from '../../src/nn/chain.js';
import { EncoderBlock, type EncoderBlockOptions } from '../../src/nn/encoder.js';
import { Params, Planner, Sequential, type Act, type Batch, type Layer, type Runtime } from '../../src/nn/layer.js';
import { expectClose, randn } from '../util.js';
import { lossOf } from '../../src/nn/targets.js';

interface Enc { shape: number[]; data: number[] }
type Dict = Record<string, Enc>;
interface BlockCase {
  name: string; B: number; T: number; S?: number; d: number; heads: number; ffDim: number; mask: number[];
  norm: 'pre' | 'post'; names: 'torch' | 'bert'; gelu: 'tanh' | 'erf'; eps: number;
  params: Dict; x: Enc; dy: Enc; y: Enc; dx: Enc; grads: Dict; memory?: Enc; dmemory?: Enc;
}
const fx = JSON.parse(readFileSync(new URL('../fixtures/layers.json', import.meta.url), 'utf8')) as
  { layers: BlockCase[]; tagger: { config: Record<string, number | string>; shape: [number, number]; tokens: number[]; labels: number[];
    params: Dict; logits: Enc; loss: number; grads: Dict; train: { lr: number; weightDecay: number; clipNorm: number; losses: number[]; final: Dict; losses64: number[]; final64: Dict } } };
const byName = (n: string) => fx.layers.find((c) => c.name === n)!;

type H = Awaited<ReturnType<typeof init>>;
const runtimeOf = (h: H): Runtime => ({ be: h.be, k: h.k });

/** Parameters registered by `build`, allocated, filled from `values` (by name, after `prefix`)
 *  and bound: what a Model does, without a model around the layer. */
function withParams<L>(h: H, build: (ps: Params) => L, values: Dict, prefix = '') {
  const ps = new Params(runtimeOf(h)), layer = build(ps), layout = ps.layout();
  const params = h.be.alloc(layout.total), grads = h.be.alloc(layout.total);
  for (const e of layout.entries) {
    const v = values[e.name.slice(prefix.length)];
    expect(v, `fixture has ${e.name}`).toBeDefined();
    expect(v.shape).toEqual([...e.shape]);
    h.be.write(params, v.data, e.offset);
  }
  ps.bind(params, grads);
  const gradOf = (name: string) => { const e = layout.get(name); return h.be.read(grads, e.size, e.offset); };
  return { layer, layout, gradOf, names: layout.entries.map((e) => e.name) };
}

/** Plans `plan` twice (sizing, then for real) over a fresh arena, as Model does. */
function planned<T>(h: H, plan: (a: Planner) => T): T {
  const rt = runtimeOf(h), sizing = new Planner(rt, null);
  plan(sizing);
  return plan(new Planner(rt, h.be.alloc(sizing.total), sizing.persistent, sizing.total));
}

/** One chain layer fed by an input activation: forward from x, backward from dy. */
function runChain(h: H, layer: Layer, B: number, T: number, mask: number[], x: Float32Array, dy: Float32Array) {
  const { be } = h, N = B * T, d = x.length / N;
  const { batch, input, out } = planned(h, (a) => {
    const batch: Batch = { B, T, tokens: a.takeInt(N), mask: a.take(N) };
    const input: Act = { y: a.take(N * d), dy: a.take(N * d), rows: N, width: d };
    return { batch, input, out: layer.plan(a, batch, input) };
  });
  be.write(batch.mask, mask); be.write(input.y, x);
  layer.forward();
  const y = be.read(out.y, out.rows * out.width);
  be.zero(input.dy, N * d); be.write(out.dy, dy);
  layer.backward();
  return { y, dx: be.read(input.dy, N * d) };
}

const TOL = { atol: 2e-5, rtol: 2e-4 };

describe.each(['wasm', 'wasm-scalar', 'js'] as const)('layers against PyTorch on %s', async (backend) => {
  const h = await init({ backend });

  it.each(['post-norm block', 'bert layer'])('%s: output, input gradient and every parameter gradient', (name) => {
    const c = byName(name);
    const prefix = 'layer.0';
    const o: EncoderBlockOptions = { d: c.d, heads: c.heads, ffDim: c.ffDim, norm: c.norm, names: c.names, gelu: c.gelu, eps: c.eps };
    const { layer, names, gradOf } = withParams(h, (ps) => new EncoderBlock(ps, prefix, o), c.params, `${prefix}.`);
    expect(names.map((n) => n.slice(prefix.length + 1))).toEqual(Object.keys(c.params));   // PyTorch's registration order
    const { y, dx } = runChain(h, layer, c.B, c.T, c.mask, Float32Array.from(c.x.data), Float32Array.from(c.dy.data));
    expectClose(y, c.y.data, TOL.atol, TOL.rtol);
    expectClose(dx, c.dx.data, TOL.atol, TOL.rtol);
    for (const n of names) {
      try { expectClose(gradOf(n), c.grads[n.slice(prefix.length + 1)].data, TOL.atol, TOL.rtol); } catch (e) { throw new Error(`${n}: ${(e as Error).message}`); }
    }
  });

  it('cross-attention with separate q/k/v weights: output and the gradients of queries, memory and weights', () => {
    const c = byName('cross attention'), S = c.S!, { B, T, d } = c;
    const names = { layout: 'separate' as const, q: 'q', k: 'k', v: 'v', out: 'out' };
    const { layer: attn, gradOf } = withParams(h, (ps) => new MultiHeadAttention(ps, '', d, c.heads, names), c.params);
    const bufs = planned(h, (a) => {
      attn.plan(a, { B, T, S });
      return { x: a.take(B * T * d), mem: a.take(B * S * d), mask: a.take(B * S), y: a.take(B * T * d), dx: a.take(B * T * d), dmem: a.take(B * S * d), dy: a.take(B * T * d) };
    });
    const { be } = h;
    be.write(bufs.x, c.x.data); be.write(bufs.mem, c.memory!.data); be.write(bufs.mask, c.mask); be.write(bufs.dy, c.dy.data);
    attn.forward(bufs.y, bufs.x, bufs.mem, bufs.mask);
    expectClose(be.read(bufs.y, B * T * d), c.y.data, TOL.atol, TOL.rtol);
    attn.backward(bufs.dx, bufs.dmem, bufs.dy, bufs.x, bufs.mem, bufs.mask, 'set');
    expectClose(be.read(bufs.dx, B * T * d), c.dx.data, TOL.atol, TOL.rtol);
    expectClose(be.read(bufs.dmem, B * S * d), c.dmemory!.data, TOL.atol, TOL.rtol);
    for (const n of Object.keys(c.grads)) {
      // softmax ignores the key bias: heed keeps its gradient exactly 0 (PyTorch's is rounding noise)
      if (n === 'k.bias') { expect(Array.from(gradOf(n)).every((g) => g === 0)).toBe(true); continue; }
      try { expectClose(gradOf(n), c.grads[n].data, TOL.atol, TOL.rtol); } catch (e) { throw new Error(`${n}: ${(e as Error).message}`); }
    }
  });

  it('tokenClassifier: logits [B,T,C], loss over labelled tokens, gradients and 10 AdamW steps', () => {
    const t = fx.tagger, [B, T] = t.shape;
    const m = h.tokenClassifier(t.config as never);
    expect(m.layout.entries.map((e) => e.name)).toEqual(Object.keys(t.params));
    m.loadStateDict(Object.fromEntries(Object.entries(t.params).map(([k, v]) => [k, { shape: v.shape, data: v.data }])));
    const logits = m.forward(Int32Array.from(t.tokens), [B, T]);
    expect(logits.shape).toEqual([B, T, t.config.classes]);
    expectClose(logits.toArray(), t.logits.data, TOL.atol, TOL.rtol);
    logits.dispose();
    const p = m.prepare(t.tokens, B, T);
    h.be.zero(m.grads, m.layout.total);
    m.runForward(p, B, T);
    const loss = lossOf(m, p, B, t.labels);
    m.runBackward(p, B, T);
    expect(loss).toBeCloseTo(t.loss, 5);
    for (const e of m.layout.entries) {
      try { expectClose(h.be.read(m.grads, e.size, e.offset), t.grads[e.name].data, TOL.atol, TOL.rtol); } catch (err) { throw new Error(`${e.name}: ${(err as Error).message}`); }
    }
    const opt = h.adamwOptimizer(m, { lr: t.train.lr, weightDecay: t.train.weightDecay, clipNorm: t.train.clipNorm });
    const losses = Array.from({ length: 10 }, () => h.trainStep(m, opt, t.tokens, [B, T], t.labels));
    expectClose(losses, t.train.losses, 1e-5, 1e-4);
    expectClose(losses, t.train.losses64, 1e-5, 1e-4);
    // Against float64 PyTorch everywhere; against float32 PyTorch except the key biases, whose
    // gradient is exactly 0 in heed and float64 but rounding noise (Adam steps of ~lr) in float32.
    const sd = m.stateDict(), d = Number(t.config.dModel);
    for (const [k, v] of Object.entries(t.train.final64)) {
      const f32 = t.train.final[k].data.filter((_, i) => !(k.endsWith('in_proj_bias') && i >= d && i < 2 * d));
      const got32 = sd[k].data.filter((_, i) => !(k.endsWith('in_proj_bias') && i >= d && i < 2 * d));
      try {
        expectClose(sd[k].data, v.data, 1e-4, 1e-4);
        expectClose(got32, f32, 1e-4, 1e-4);
      } catch (err) { throw new Error(`${k}: ${(err as Error).message}`); }
    }
    opt.dispose(); m.dispose();
  });
});

describe('layer plumbing', async () => {
  const h = await init({ backend: 'js' });

  it('every chain layer of a model starts its scratch at the same place: the arena is persistent + the largest scratch', () => {
    const rt = runtimeOf(h), B = 2, T = 3, d = 8;
    const blocks = (ps: Params) => [0, 1, 2].map((i) => new EncoderBlock(ps, `b${i}`, { d, heads: 2, ffDim: 16, norm: 'pre' }));
    const ps = new Params(rt), bs = blocks(ps);
    const one = new Planner(rt, null), three = new Planner(rt, null);
    const batch: Batch = { B, T, tokens: 0, mask: 0 }, x: Act = { y: 0, dy: 0, rows: B * T, width: d };
    bs[0].plan(one, batch, x); one.endScratch();
    let cur = x;
    for (const b of bs) { cur = b.plan(three, batch, cur); three.endScratch(); }
    const scratchOfOne = one.total - one.persistent;
    expect(scratchOfOne).toBeGreaterThan(0);
    expect(three.persistent).toBe(3 * one.persistent);
    expect(three.total - three.persistent).toBe(scratchOfOne);
  });

  it('Sequential zeroes an input gradient before a layer that adds into it, and leaves it to one that sets it', () => {
    const { be } = h, n = 6;
    // Toy layers over one [1, n] activation: the source passes its input through; `adds` does
    // dx += 1, `sets` does dx = 2 (and declares it).
    const source = (): Layer & { act: Act } => ({
      act: { y: 0, dy: 0, rows: 1, width: n },
      plan(a) { this.act = { y: a.take(n), dy: a.take(n), rows: 1, width: n }; return this.act; },
      forward() {}, backward() {},
    });
    const consumer = (sets: boolean): Layer => {
      let x: Act;
      return {
        setsInputGrad: sets,
        plan(a, _b, input) { x = input!; return { y: a.take(n), dy: a.take(n), rows: 1, width: n }; },
        forward() {},
        backward() { be.write(x.dy, sets ? new Float32Array(n).fill(2) : be.read(x.dy, n).map((v) => v + 1)); },
      };
    };
    for (const sets of [false, true]) {
      const src = source(), chain = new Sequential([src, consumer(sets)]);
      planned(h, (a) => chain.plan(a, { B: 1, T: n, tokens: 0, mask: 0 }, null));
      be.write(src.act.dy, new Float32Array(n).fill(7));   // stale values from an earlier step
      chain.backward();
      expect(Array.from(be.read(src.act.dy, n))).toEqual(new Array(n).fill(sets ? 2 : 1));
    }
    expect(new Sequential([consumer(true), consumer(false)]).setsInputGrad).toBe(true);
    expect(new Sequential([consumer(false), consumer(true)]).setsInputGrad).toBe(false);
  });

  it('ClsPool takes the first position of each row and sends its gradient back there only (accumulating)', () => {
    const B = 3, T = 4, d = 5, N = B * T;
    const ps = new Params(runtimeOf(h)), pool = new ClsPool(ps);
    const x = randn(N * d, 1), dy = randn(B * d, 2);
    const { be } = h;
    const { input, out } = planned(h, (a) => {
      const batch: Batch = { B, T, tokens: a.takeInt(N), mask: a.take(N) };
      const input: Act = { y: a.take(N * d), dy: a.take(N * d), rows: N, width: d };
      return { input, out: pool.plan(a, batch, input) };
    });
    be.write(input.y, x);
    pool.forward();
    const y = be.read(out.y, B * d);
    for (let b = 0; b < B; b++) expect(Array.from(y.subarray(b * d, (b + 1) * d))).toEqual(Array.from(x.subarray(b * T * d, b * T * d + d)));
    be.write(input.dy, new Float32Array(N * d).fill(1)); be.write(out.dy, dy);
    pool.backward();
    const dx = be.read(input.dy, N * d);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        for (let i = 0; i < d; i++) {
          const want = t === 0 ? Math.fround(1 + dy[b * d + i]) : 1;
          expect(dx[(b * T + t) * d + i]).toBe(want);
        }
      }
    }
  });

  it('a block sets its input gradient (setsInputGrad): what was there is overwritten, not added to', () => {
    const c = byName('post-norm block'), prefix = 'layer.0';
    const o: EncoderBlockOptions = { d: c.d, heads: c.heads, ffDim: c.ffDim, norm: c.norm, names: c.names, gelu: c.gelu, eps: c.eps };
    const { layer } = withParams(h, (ps) => new EncoderBlock(ps, prefix, o), c.params, `${prefix}.`);
    const N = c.B * c.T, d = c.d, { be } = h;
    const { batch, input, out } = planned(h, (a) => {
      const batch: Batch = { B: c.B, T: c.T, tokens: a.takeInt(N), mask: a.take(N) };
      const input: Act = { y: a.take(N * d), dy: a.take(N * d), rows: N, width: d };
      return { batch, input, out: layer.plan(a, batch, input) };
    });
    be.write(batch.mask, c.mask); be.write(input.y, c.x.data);
    layer.forward();
    be.write(input.dy, new Float32Array(N * d).fill(0.5)); be.write(out.dy, c.dy.data);
    layer.backward();
    expect(layer.setsInputGrad).toBe(true);
    expectClose(be.read(input.dy as Buf, N * d), c.dx.data, TOL.atol, TOL.rtol);
  });
});
