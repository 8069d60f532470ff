import { defineProject } from 'vitest/config';

// Vitest runs Node tests in Vite's SSR environment, which reads `ssr.resolve.conditions`; the list replaces
// Vite's defaults. `module` is left out on purpose: it picks @opentelemetry/api's bundler-only ESM build,
// whose extensionless imports Node cannot load.
const conditions = ['@sessionkit/source', 'node', 'development|production'];

export default defineProject({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: '@sessionkit/audit',
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
