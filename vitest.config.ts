import { defineConfig } from 'vitest/config';

// Node 20's V8 validates relaxed SIMD only behind a flag (Node 22 and later have it on), so there
// the op tests run a second time in a 'relaxed' project with the flag, on the relaxed build only
// (test/ops/backends.ts), with the causalLM's parity and KV-cache tests, and test/relaxed.test.ts
// runs there instead of in the default project;
// everything else runs once, on the host as it is.
const nodeMajor = Number(process.versions.node.split('.')[0]);
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true as const,
        test: { name: 'default', include: ['test/**/*.test.ts'], exclude: nodeMajor < 22 ? ['test/relaxed.test.ts'] : [] },
      },
      ...(nodeMajor < 22 ? [{
        extends: true as const,
        test: {
          name: 'relaxed',
          include: ['test/ops/*.test.ts', 'test/relaxed.test.ts', 'test/nn/decoder.test.ts', 'test/nn/kv-cache.test.ts'],
          execArgv: [RELAXED_FLAG],
          env: { HEED_TEST_BACKENDS: 'wasm-relaxed' },
        },
      }] : []),
    ],
  },
});
