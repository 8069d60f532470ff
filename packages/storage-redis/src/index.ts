export type { RedisDpopReplayCacheOptions } from './dpop-replay-cache.js';
export { RedisDpopReplayCache } from './dpop-replay-cache.js';
export type { RedisClient } from './redis-client.js';
export { RedisInvalidationFeed } from './redis-invalidation-feed.js';
export { RedisStore } from './redis-store.js';
export type { RedisStoreOptions } from './redis-store-options.js';
export { redisStoreOptionsSchema } from './redis-store-options.js';
