// The f32x4 multiply + add ceiling of this machine, measured now: an L1-free loop of 16 independent
// accumulator updates (eight f32x4 accumulators, each updated twice per iteration, mul then add,
// operands in registers) compiled by this V8. K1's GFLOP/s are quoted as a share of it, since the
// clock of a shared VM moves from day to day. The module is written in WebAssembly text and
// assembled with binaryen (installed with assemblyscript, a dev dependency).
import binaryen from 'binaryen';

const update = (c, a, b) => `(local.set ${c} (f32x4.add (local.get ${c}) (f32x4.mul (local.get ${a}) (local.get ${b}))))`;
const accs = ['$c0', '$c1', '$c2', '$c3', '$c4', '$c5', '$c6', '$c7'];
const body = [...accs.map((c, i) => update(c, i % 2 ? '$b' : '$a', i % 2 ? '$a' : '$b')), ...accs.map((c, i) => update(c, i % 2 ? '$a' : '$b', i % 2 ? '$b' : '$a'))].join('\n');
const sum = (xs) => (xs.length === 1 ? `(local.get ${xs[0]})` : `(f32x4.add ${sum(xs.slice(0, xs.length / 2))} ${sum(xs.slice(xs.length / 2))})`);
const WAT = `(module
 (func (export "peak") (param $n i32) (result f32)
  (local $a v128) (local $b v128) ${accs.map((c) => `(local ${c} v128)`).join(' ')}
  (local.set $a (f32x4.splat (f32.const 1.0000001)))
  (local.set $b (f32x4.splat (f32.const 0.9999999)))
  (loop $l
   ${body}
   (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
  (f32x4.extract_lane 0 ${sum(accs)})))`;

/** Best of `rounds` timed runs, in GFLOP/s (16 updates × 4 lanes × 2 flops per iteration). */
export async function measureCeiling(rounds = 7, iterations = 20_000_000) {
  const mod = binaryen.parseText(WAT);
  mod.setFeatures(binaryen.Features.SIMD128);
  if (!mod.validate()) throw new Error('ceiling: the probe module does not validate');
  const { instance } = await WebAssembly.instantiate(mod.emitBinary());
  mod.dispose();
  const peak = instance.exports.peak;
  peak(1_000_000); // tier up to TurboFan
  let best = 0;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    peak(iterations);
    best = Math.max(best, (iterations * 16 * 4 * 2) / ((performance.now() - t) * 1e6));
  }
  return best;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(`f32x4 mul+add ceiling: ${(await measureCeiling()).toFixed(1)} GFLOP/s`);
