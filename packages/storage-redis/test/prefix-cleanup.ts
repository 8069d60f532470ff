import { randomToken } from '@sessionkit/core';
import type { Redis } from 'ioredis';

/** A prefix no other run uses, so tests share the Redis on 6379 without touching each other's keys. */
export function runPrefix(): string {
  return `sk-test-${randomToken(6)}`;
}

/** Deletes every key under the prefix (SCAN, never KEYS or FLUSHDB: the server is shared). */
export async function deleteKeys(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
