import { defineProject } from 'vitest/config';
import { sourceResolution } from '../../vitest.source.js';

export default defineProject({
  ...sourceResolution,
  test: {
    name: '@sessionkit/express',
    // Generous bounds: the suite must pass on a loaded machine; no test relies on finishing quickly.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 30_000 } },
    include: ['test/**/*.test.ts'],
  },
});
