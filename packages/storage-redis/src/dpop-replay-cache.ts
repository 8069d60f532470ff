import type { DpopReplayCache } from '@sessionkit/core';
import { CommandGuard } from './command-guard.js';
import type { RedisClient } from './redis-client.js';

export interface RedisDpopReplayCacheOptions {
  client: RedisClient;
  /** Key prefix, e.g. the store's; keys are `<prefix>dpop:<hash>`. Default `sk:`. */
  prefix?: string;
  /** A command that has not answered within this fails the proof with `store.unavailable`. Default 1000 ms. */
  commandTimeoutMs?: number;
}

/**
 * DPoP `jti` replay cache shared by every instance on one Redis: one `SET NX PX` per proof, so the first use
 * wins atomically and Redis itself drops each key when its proof has expired. Memory is bounded by the proofs
 * of the last `maxAgeMs` (about 100 bytes each).
 */
export class RedisDpopReplayCache implements DpopReplayCache {
  readonly #client: RedisClient;
  readonly #guard: CommandGuard;
  readonly #prefix: string;

  constructor(options: RedisDpopReplayCacheOptions) {
    this.#client = options.client;
    this.#guard = new CommandGuard(options.client, options.commandTimeoutMs ?? 1000);
    this.#prefix = `${options.prefix ?? 'sk:'}dpop:`;
  }

  async claimOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    const ttlMs = Math.max(1, expiresAt - now);
    const reply = await this.#guard.call(() =>
      this.#client.set(`${this.#prefix}${key}`, '1', 'PX', ttlMs, 'NX'),
    );
    return reply === 'OK';
  }
}
