import { defineProject } from 'vitest/config';
import { sourceResolution } from '../../vitest.source.js';

export default defineProject({
  ...sourceResolution,
  test: {
    name: '@sessionkit/audit',
    include: ['test/**/*.test.ts'],
    // PGlite runs PostgreSQL in WebAssembly on the test's own thread: with two suites at once on two cores, its
    // retention and verification tests take tens of seconds.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 30_000 } },
  },
});
