import { defineProject } from 'vitest/config';
import { sourceResolution } from '../../vitest.source.js';

export default defineProject({
  ...sourceResolution,
  test: {
    name: '@sessionkit/audit',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    expect: { poll: { timeout: 30_000 } },
  },
});
