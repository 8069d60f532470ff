export type { PgInvalidationFeedOptions } from './pg-feed.js';
export { PgInvalidationFeed } from './pg-feed.js';
export type { PgPoolOptions } from './pg-pool.js';
export { createPgPool } from './pg-pool.js';
