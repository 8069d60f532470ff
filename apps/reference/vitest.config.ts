import { defineProject } from 'vitest/config';
import { sourceResolution } from '../../vitest.source.js';

export default defineProject({
  ...sourceResolution,
  test: {
    name: '@sessionkit/reference',
    include: ['test/**/*.test.ts'],
    // Starting the app opens PGlite (WebAssembly) or PostgreSQL, and scrypt costs ~100 ms per hash.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    expect: { poll: { timeout: 30_000 } },
  },
});
