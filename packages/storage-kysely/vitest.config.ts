import { defineProject } from 'vitest/config';
import { sourceResolution } from '../../vitest.source.js';

export default defineProject({
  ...sourceResolution,
  test: {
    name: '@sessionkit/storage-kysely',
    include: ['test/**/*.test.ts'],
    // PGlite compiles its WebAssembly on first use, which takes seconds on a busy two-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 30_000 } },
  },
});
