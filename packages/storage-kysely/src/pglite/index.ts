export { PGliteDialect } from '../pglite-dialect.js';
export type { PGliteInvalidationFeedOptions } from '../pglite-feed.js';
export { PGliteInvalidationFeed } from '../pglite-feed.js';
export { openPGlite } from '../pglite-open.js';
