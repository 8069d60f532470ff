import { defineProject } from 'vitest/config';

// Vite applies `resolve.conditions` to the client environment only; tests run in the server (SSR)
// environment, which needs the source condition too, or workspace packages resolve to their (absent) dist.
const sourceConditions = ['@sessionkit/source', 'module', 'node', 'development|production'];

export default defineProject({
  resolve: { conditions: ['@sessionkit/source'] },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    name: '@sessionkit/express',
    include: ['test/**/*.test.ts'],
  },
});
