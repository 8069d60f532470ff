export type { Cleanup, CleanupOptions } from './cleanup.js';
export { startCleanup } from './cleanup.js';
export type { Database, SessionsTable } from './database.js';
export { DEFAULT_CHANNEL } from './invalidation-message.js';
export type { KyselyStoreOptions, StoreFeed } from './kysely-store.js';
export { KyselyStore } from './kysely-store.js';
export type { MigrateOptions } from './migrations.js';
export { DEFAULT_SCHEMA, migrateDown, migrateToLatest, sessionMigrations } from './migrations.js';
