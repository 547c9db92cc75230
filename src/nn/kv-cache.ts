// A causalLM's keys and values, cached per (batch, context): prefill runs the prompt [B,T] through
// the layers once, keeping each block's keys and values [B,H,context,Dh]; every later step runs
// only the new token of each row, its query attending over the cache in place (qOffset = its
// position, kvStride = context·Dh). Forward only, over the layers' own primitives and weights. All
// storage is one buffer allocated with the cache: nothing is allocated per token.
import { MAX_ELEMENTS, isPlannable, type Buf, type IBuf } from '../backends/backend.js';
import { HeedError } from '../errors.js';
import { layersOf, type DecoderLayers } from './families/decoder.js';
import { Planner, type Runtime } from './layer.js';
import type { DecoderConfig, Model } from './model.js';

/** Per-chunk working buffers, sized for the longest chunk (a prefill of the whole context). */
interface Work { ids: IBuf; x: Buf; n: Buf; qkv: Buf; q: Buf; k: Buf; v: Buf; att: Buf; lse: Buf; attm: Buf; h1: Buf; g: Buf; logits: Buf }

export class KvCache {
  /** Positions cached so far (the same in every row). */
  length = 0;
  readonly #model: Model<DecoderConfig>;
  readonly #l: DecoderLayers;
  readonly #rt: Runtime;
  readonly #buf: Buf;
  readonly #keys: Buf[] = [];
  readonly #values: Buf[] = [];
  readonly #w: Work;
  #rows = 0;   // rows of the last step: B·T

  /** A cache for `B` rows of up to `context` positions each (at most the model's maxLen). */
  constructor(model: Model<DecoderConfig>, readonly B: number, readonly context: number) {
    model.alive();
    const l = layersOf.get(model.net);
    if (l === undefined) throw new HeedError(`generate: a ${model.config.kind} model is not a causal language model (causalLM)`);
    if (!(Number.isInteger(B) && B >= 1)) throw new HeedError(`generate: the batch must be a positive integer, got ${B}`);
    if (!(Number.isInteger(context) && context >= 1)) throw new HeedError(`generate: the context must be a positive integer, got ${context}`);
    if (context > model.config.maxLen) {
      throw new HeedError(`generate: a context of ${context} positions is longer than the model's maxLen (${model.config.maxLen} positions)`);
    }
    this.#model = model; this.#l = l; this.#rt = { be: model.be, k: model.k };
    const plan = (a: Planner): Work => {
      const { dModel: d, ffDim: F, heads: H, layers, vocabSize: V } = model.config, N = B * context;
      this.#keys.length = 0; this.#values.length = 0;
      for (let i = 0; i < layers; i++) { this.#keys.push(a.take(N * d)); this.#values.push(a.take(N * d)); }
      return {
        ids: a.takeInt(N), x: a.take(N * d), n: a.take(N * d), qkv: a.take(N * 3 * d), q: a.take(N * d), k: a.take(N * d), v: a.take(N * d),
        att: a.take(N * d), lse: a.take(B * H * context), attm: a.take(N * d), h1: a.take(N * F), g: a.take(N * F), logits: a.take(N * V),
      };
    };
    const sizing = new Planner(this.#rt, null);
    plan(sizing);
    if (!isPlannable(sizing.total)) {
      throw new HeedError(`generate: ${B} samples of ${context} positions need ${sizing.total} floats of cache, more than one buffer can hold (${MAX_ELEMENTS})`);
    }
    this.#buf = model.be.alloc(sizing.total);
    this.#w = plan(new Planner(this.#rt, this.#buf, 0, sizing.total));
  }

  /** Runs `ids` [B, T] (T new tokens per row, at positions length … length + T − 1) through the
   *  model and caches their keys and values; returns the logits [B·T, vocabSize] (valid until the
   *  next step). The ids are trusted: generate checks them. */
  step(ids: Int32Array, T: number): Buf {
    const { be, k } = this.#rt, { B } = this, pos = this.length, N = B * T;
    const { dModel: d, heads: H } = this.#model.config, Dh = d / H, S = pos + T, w = this.#w, l = this.#l;
    if (S > this.context) {
      throw new HeedError(`generate: ${S} positions do not fit the cache's context of ${this.context} (the model's maxLen is ${this.#model.config.maxLen})`);
    }
    be.writeInt(w.ids, ids);
    l.wte.forward(w.x, w.ids, N);
    l.wpe.forward(w.x, B, T, pos);
    l.blocks.forEach((blk, i) => {
      const a = blk.attn, kc = this.#keys[i], vc = this.#values[i];
      blk.norm1.forward(w.n, w.x, N);
      k.matmul_forward(w.qkv, w.n, a.inProjWeight!.w, 1, N, 3 * d, d, 0, 1, 0, 0);
      k.bias_forward(w.qkv, a.inProjBias!.w, N, 3 * d);
      k.split_heads_forward(w.q, w.k, w.v, w.qkv, B, T, H, Dh);
      // The new keys and values go to positions pos … S − 1 of each head's block of the cache.
      for (let bh = 0; bh < B * H; bh++) {
        be.copy(be.sub(kc, (bh * this.context + pos) * Dh, T * Dh), be.sub(w.k, bh * T * Dh, T * Dh), T * Dh);
        be.copy(be.sub(vc, (bh * this.context + pos) * Dh, T * Dh), be.sub(w.v, bh * T * Dh, T * Dh), T * Dh);
      }
      k.attention_forward(w.att, w.lse, w.q, kc, vc, 0, 0, B, H, T, S, Dh, a.scale, 1, pos, this.context * Dh);
      k.merge_heads_forward(w.attm, w.att, B, T, H, Dh);
      a.out.forward(w.x, w.attm, N, 'add');
      blk.norm2.forward(w.n, w.x, N);
      const F = blk.ff.linear1.outF;
      blk.ff.linear1.forward(w.h1, w.n, N);
      blk.ff.gelu.forward(w.g, w.h1, N * F);
      blk.ff.linear2.forward(w.x, w.g, N, 'add');
    });
    l.lnF.forward(w.n, w.x, N);
    if (l.head) l.head.forward(w.logits, w.n, N);
    else k.matmul_forward(w.logits, w.n, l.wte.weight.w, 1, N, l.wte.rows, d, 0, 1, 0, 0);
    this.length = S;
    this.#rows = N;
    return w.logits;
  }

  /** A copy of the last step's logits [B·T, vocabSize]. */
  readLogits(): Float32Array {
    return this.#rt.be.read(this.#w.logits, this.#rows * this.#model.config.vocabSize);
  }

  /** A copy of the logits of each row's last position in the last step [B, vocabSize]: what
   *  the next token is drawn from. */
  readLastLogits(): Float32Array {
    const { be } = this.#rt, V = this.#model.config.vocabSize, T = this.#rows / this.B;
    if (T === 1) return be.read(this.#w.logits, this.B * V);
    const out = new Float32Array(this.B * V);
    for (let b = 0; b < this.B; b++) out.set(be.read(this.#w.logits, V, ((b + 1) * T - 1) * V), b * V);
    return out;
  }

  /** Forgets every cached position (the storage stays). */
  reset(): void {
    this.length = 0;
  }

  dispose(): void {
    this.#rt.be.free(this.#buf);
  }
}
