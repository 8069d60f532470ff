/**
 * Tests run from TypeScript sources: `@sessionkit/*` imports resolve through the `@sessionkit/source` export
 * condition. Vitest runs Node tests in Vite's SSR environment, which reads `ssr.resolve.conditions` (not
 * `resolve.conditions`), so both are set; the rest are Vite's server defaults, which this list replaces, less
 * `module` (it picks builds, e.g. @opentelemetry/api's, that Node itself cannot import).
 */
const conditions = ['@sessionkit/source', 'node', 'development|production'];

export const sourceResolution = { resolve: { conditions }, ssr: { resolve: { conditions } } };
