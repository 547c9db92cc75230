// LayerNorm over the last axis (torch.nn.LayerNorm, eps inside the sqrt).
// x, y, dx, dy: [N, C]; gamma, beta, dgamma, dbeta: [C]. Corrected two-pass statistics (never
// E[x²]−E[x]², which cancels catastrophically for rows with a large mean). Backward recomputes mean and rstd
// instead of saving them, so the pair is stateless.
import { addTo, at, hsum, madd } from "../simd";

// Row statistics, returned through globals (AssemblyScript has no tuples). The mean is kept as
// statMean + statDelta: a single f32 mean near 1e4 is off by up to half an ulp (5e-4), which is 5%
// of a row spread of 1e-2, so x − mean is formed as (x − statMean) − statDelta instead.
let statMean: f32 = 0, statDelta: f32 = 0, statRstd: f32 = 0;

/** Corrected two-pass mean and 1/sqrt(var + eps): pass 1 takes a provisional mean m; pass 2 sums
 *  d = x − m and d², so mean = m + Σd/C and var = (Σd² − (Σd)²/C)/C lose nothing to a large mean. */
// @ts-ignore: decorator
@inline function rowStats(x: usize, C: i32, eps: f32): void {
  let i = 0;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let acc = f32x4.splat(0);
    for (; i + 4 <= C; i += 4) acc = f32x4.add(acc, v128.load(at(x, i)));
    s = hsum(acc);
  }
  for (; i < C; i++) s += load<f32>(at(x, i));
  let m = s / <f32>C;
  if (abs(s) == Infinity) {                       // the sum overflowed (|x| near f32's max): Σ x/C
    m = 0;
    for (i = 0; i < C; i++) m += load<f32>(at(x, i)) / <f32>C;
  }
  let sd: f32 = 0, sdd: f32 = 0;
  i = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(m);
    let ad = f32x4.splat(0), add = f32x4.splat(0);
    for (; i + 4 <= C; i += 4) {
      const d = f32x4.sub(v128.load(at(x, i)), mv);
      ad = f32x4.add(ad, d);
      add = f32x4.add(add, f32x4.mul(d, d));
    }
    sd = hsum(ad); sdd = hsum(add);
  }
  for (; i < C; i++) {
    const d = load<f32>(at(x, i)) - m;
    sd += d; sdd += d * d;
  }
  statMean = m;
  statDelta = sd / <f32>C;
  statRstd = sdd == Infinity ? scaledRstd(x, C, m, eps)
                             : <f32>1 / Mathf.sqrt(max<f32>(sdd - sd * sd / <f32>C, 0) / <f32>C + eps);
}

/** rowStats' 1/sqrt(var + eps) for a row whose Σd² overflows f32 (|x − m| past ~1e19): the same
 *  sums over d/a with a = max|d|, so var = a²·var(d/a) and rstd = 1/(a·sqrt(var(d/a) + eps/a²)).
 *  Rare, so scalar. */
function scaledRstd(x: usize, C: i32, m: f32, eps: f32): f32 {
  let a: f32 = 0;
  for (let i = 0; i < C; i++) a = max(a, abs(load<f32>(at(x, i)) - m));
  const inv = <f32>1 / a;
  let sd: f32 = 0, sdd: f32 = 0;
  for (let i = 0; i < C; i++) {
    const d = (load<f32>(at(x, i)) - m) * inv;
    sd += d; sdd += d * d;
  }
  return inv / Mathf.sqrt(max<f32>(sdd - sd * sd / <f32>C, 0) / <f32>C + eps * inv * inv);
}

export function layernorm_forward(y: usize, x: usize, gamma: usize, beta: usize, N: i32, C: i32, eps: f32): void {
  for (let n = 0; n < N; n++) {
    const xr = at(x, n * C), yr = at(y, n * C);
    rowStats(xr, C, eps);
    const mean = statMean, delta = statDelta, rstd = statRstd;
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const m = f32x4.splat(mean), dl = f32x4.splat(delta), r = f32x4.splat(rstd);
      for (; i + 4 <= C; i += 4) {
        const xhat = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(at(xr, i)), m), dl), r);
        v128.store(at(yr, i), madd(xhat, v128.load(at(gamma, i)), v128.load(at(beta, i))));
      }
    }
    for (; i < C; i++) {
      const xhat = (load<f32>(at(xr, i)) - mean - delta) * rstd;
      store<f32>(at(yr, i), xhat * load<f32>(at(gamma, i)) + load<f32>(at(beta, i)));
    }
  }
}

/** dx += rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·gamma; dgamma += dy·x̂; dbeta += dy. */
export function layernorm_backward(dx: usize, dgamma: usize, dbeta: usize,
                                   dy: usize, x: usize, gamma: usize, N: i32, C: i32, eps: f32): void {
  for (let n = 0; n < N; n++) {
    const xr = at(x, n * C), dyr = at(dy, n * C), dxr = at(dx, n * C);
    rowStats(xr, C, eps);
    const mean = statMean, delta = statDelta, rstd = statRstd;
    let gMean: f32 = 0, gxMean: f32 = 0;            // pass 1: the two row reductions
    let i = 0;
    if (ASC_FEATURE_SIMD) {
      const m = f32x4.splat(mean), dl = f32x4.splat(delta), r = f32x4.splat(rstd);
      let ga = f32x4.splat(0), gxa = f32x4.splat(0);
      for (; i + 4 <= C; i += 4) {
        const g = f32x4.mul(v128.load(at(dyr, i)), v128.load(at(gamma, i)));
        ga = f32x4.add(ga, g);
        gxa = madd(g, f32x4.mul(f32x4.sub(f32x4.sub(v128.load(at(xr, i)), m), dl), r), gxa);
      }
      gMean = hsum(ga); gxMean = hsum(gxa);
    }
    for (; i < C; i++) {
      const g = load<f32>(at(dyr, i)) * load<f32>(at(gamma, i));
      gMean += g; gxMean += g * (load<f32>(at(xr, i)) - mean - delta) * rstd;
    }
    gMean /= <f32>C; gxMean /= <f32>C;
    i = 0;                                           // pass 2: accumulate the three gradients
    if (ASC_FEATURE_SIMD) {
      const m = f32x4.splat(mean), dl = f32x4.splat(delta), r = f32x4.splat(rstd), gm = f32x4.splat(gMean), gxm = f32x4.splat(gxMean);
      for (; i + 4 <= C; i += 4) {
        const d = v128.load(at(dyr, i)), xhat = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(at(xr, i)), m), dl), r);
        const g = f32x4.mul(d, v128.load(at(gamma, i)));
        addTo(at(dxr, i), f32x4.mul(r, f32x4.sub(f32x4.sub(g, gm), f32x4.mul(xhat, gxm))));
        v128.store(at(dgamma, i), madd(d, xhat, v128.load(at(dgamma, i))));
        addTo(at(dbeta, i), d);
      }
    }
    for (; i < C; i++) {
      const d = load<f32>(at(dyr, i)), xhat = (load<f32>(at(xr, i)) - mean - delta) * rstd;
      const g = d * load<f32>(at(gamma, i));
      store<f32>(at(dxr, i), load<f32>(at(dxr, i)) + rstd * (g - gMean - xhat * gxMean));
      store<f32>(at(dgamma, i), load<f32>(at(dgamma, i)) + d * xhat);
      store<f32>(at(dbeta, i), load<f32>(at(dbeta, i)) + d);
    }
  }
}
