import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-client.js';

/**
 * A script called by its SHA1 (EVALSHA). A node that does not have it yet (first call, restart, failover)
 * answers NOSCRIPT; the script is then sent once with EVAL, which also caches it on that node.
 */
export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(
    client: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
