// The size budget (issue 6), on the built files, gzip -9: what `import 'heed/infer'` loads (the
// entry and the chunks it imports statically) plus the default .wasm under 60 KB; the same for
// `import 'heed'` under 165 KB (150 until the BERT family, Hugging Face checkpoints and WordPiece). import() chunks (the js backend) are not loaded unless asked for
// and do not count. heed/infer fetches or reads one .wasm, relaxed.wasm or simd.wasm as the host
// allows (the larger is counted); heed inlines the three builds as base64 (counted inside its
// chunks), and the default .wasm is added on top as the budget says.
// For comparison: TensorFlow.js core + layers + wasm backend is about 360 KB gzipped.
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE, ROOT, closure, gzipBytes, requireBuild } from './util.js';

beforeAll(requireBuild);

const KB = 1024;

function measure(entry: string): { files: Record<string, number>; total: number } {
  const files: Record<string, number> = {};
  for (const f of closure(join(BUNDLE, entry))) files[relative(ROOT, f)] = gzipBytes(f);
  const [wasm, bytes] = ['build/relaxed.wasm', 'build/simd.wasm'].map((f) => [f, gzipBytes(join(ROOT, f))] as const)
    .reduce((a, b) => (b[1] > a[1] ? b : a));
  files[wasm] = bytes;
  return { files, total: Object.values(files).reduce((a, b) => a + b, 0) };
}

describe('size budget (gzip -9)', () => {
  it.each([
    ['heed/infer', 'infer.js', 60],
    ['heed', 'heed.js', 165],
  ] as const)('%s (dist/bundle/%s) + its default .wasm is under %i KB', (name, entry, budgetKB) => {
    const m = measure(entry);
    const line = Object.entries(m.files).map(([f, n]) => `${f} ${(n / KB).toFixed(1)} KB`).join(', ');
    console.log(`${name}: ${(m.total / KB).toFixed(1)} KB gzipped (budget ${budgetKB} KB): ${line}`);
    expect(m.total, `${name}: ${line}`).toBeLessThan(budgetKB * KB);
  });
});
