/**
 * SessionManager on RedisStore: create, validate, revoke. Needs a Redis on 127.0.0.1:6379 (or REDIS_URL).
 * Run with `SESSION_SECRET=$(openssl rand -base64 32) npx tsx packages/storage-redis/examples/wiring.ts`.
 */
import { SessionManager } from '@sessionkit/core';
import { RedisStore } from '@sessionkit/storage-redis';
import { Redis } from 'ioredis';

// enableOfflineQueue: false — while Redis is away, commands fail at once instead of piling up in memory.
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableOfflineQueue: false });
const store = new RedisStore({
  client: redis,
  prefix: 'sk-example',
  commandTimeoutMs: 500,
  onError: (error) => console.warn(`redis: ${error.message}`),
});
// SESSION_SECRET: the same on every instance (≥ 32 chars), so each recognises the others' old refresh tokens.
const manager = new SessionManager({
  store,
  config: { maxSessionsPerUser: 5, secret: process.env.SESSION_SECRET },
});
await manager.start(); // subscribes to the invalidation feed

const login = await manager.create({ userId: 'alice', deviceLabel: 'Firefox on Linux' });
const session = await manager.validate(login.token);
console.log(`validated session of ${session.userId}`);
await manager.revoke(login.session.id, { reason: 'logout' });
const revoked = await manager.validate(login.token).catch((error: { code: string }) => error.code);
console.log(`after logout: ${revoked}`);

await manager.close();
await store.close();
redis.disconnect();
