import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@sessionkit/source'] },
  test: {
    name: '@sessionkit/express',
    include: ['test/**/*.test.ts'],
  },
});
