import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@sessionkit/source'] },
  test: {
    name: '@sessionkit/storage-kysely',
    include: ['test/**/*.test.ts'],
    // PGlite compiles its WebAssembly on first use, which takes seconds on a busy two-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
