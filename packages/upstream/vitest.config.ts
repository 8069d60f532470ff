import { defineProject } from 'vitest/config';
import { sourceResolution } from '../../vitest.source.js';

export default defineProject({
  ...sourceResolution,
  test: {
    name: '@sessionkit/upstream',
    include: ['test/**/*.test.ts'],
    // Real HTTP round trips to a loopback provider: a machine running two suites at once takes seconds.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 30_000 } },
  },
});
