import { defineProject } from 'vitest/config';
import { sourceResolution } from '../../vitest.source.js';

export default defineProject({
  ...sourceResolution,
  test: {
    name: '@sessionkit/audit',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
