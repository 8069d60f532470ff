import type { Clock } from '@sessionkit/core';
import { parseInput, sha256, systemClock } from '@sessionkit/core';
import { ExpiringCache } from '@sessionkit/core/store';
import { z } from 'zod';
import type { IntrospectionResponse, OidcClient } from './oidc-client.js';
import { UpstreamUnavailableError } from './upstream-errors.js';

const HOUR = 3_600_000;

const introspectionOptionsSchema = z.object({
  /** How long an `active: true` answer is reused without asking again. */
  positiveTtlMs: z.number().int().nonnegative().max(HOUR).default(30_000),
  /** How long an `active: false` answer is reused; keeps a flood of dead tokens off the provider. */
  negativeTtlMs: z.number().int().nonnegative().max(HOUR).default(10_000),
  maxEntries: z.number().int().positive().max(1_000_000).default(10_000),
  /**
   * When the provider cannot answer: `fail-closed` throws `store.unavailable` (upstream); `keep-until` keeps
   * trusting a token the provider last called active for at most `maxStaleMs` after that answer.
   */
  whenUnavailable: z
    .discriminatedUnion('mode', [
      z.object({ mode: z.literal('fail-closed') }),
      z.object({
        mode: z.literal('keep-until'),
        maxStaleMs: z
          .number()
          .int()
          .positive()
          .max(24 * HOUR),
      }),
    ])
    .default({ mode: 'fail-closed' }),
});
export type UpstreamIntrospectionConfig = z.input<typeof introspectionOptionsSchema>;

export interface IntrospectionResult {
  active: boolean;
  /** The provider's answer; for inactive tokens only `{ active: false }` (RFC 7662 says nothing more). */
  response: IntrospectionResponse;
  /** `stale`: the provider is down and a earlier positive answer is still within `maxStaleMs`. */
  source: 'provider' | 'cache' | 'stale';
  checkedAt: number;
}

interface Entry {
  response: IntrospectionResponse;
  checkedAt: number;
}

/**
 * RFC 7662 introspection with a short, bounded cache of positive and negative answers, keyed by the token's
 * SHA-256 so the cache never holds a usable token.
 */
export class UpstreamIntrospection {
  readonly #client: OidcClient;
  readonly #clock: Clock;
  readonly #config: z.output<typeof introspectionOptionsSchema>;
  readonly #cache: ExpiringCache<Entry>;

  constructor(options: UpstreamIntrospectionConfig & { client: OidcClient; clock?: Clock }) {
    const { client, clock, ...config } = options;
    this.#config = parseInput(introspectionOptionsSchema, config, 'introspection options');
    this.#client = client;
    this.#clock = clock ?? systemClock;
    this.#cache = new ExpiringCache(this.#config.maxEntries);
  }

  async introspect(token: string, hint?: 'access_token' | 'refresh_token'): Promise<IntrospectionResult> {
    const key = sha256(token);
    const now = this.#clock.now();
    const cached = this.#cache.get(key, now);
    if (cached && this.#fresh(cached, now)) return result(cached, 'cache');
    let response: IntrospectionResponse;
    try {
      response = await this.#client.introspect(token, hint);
    } catch (error) {
      const policy = this.#config.whenUnavailable;
      if (
        error instanceof UpstreamUnavailableError &&
        policy.mode === 'keep-until' &&
        cached?.response.active === true &&
        now < cached.checkedAt + policy.maxStaleMs &&
        !pastExpiry(cached.response, now)
      ) {
        return result(cached, 'stale');
      }
      throw error;
    }
    const entry: Entry = { response: response.active ? response : { active: false }, checkedAt: now };
    this.#cache.set(key, entry, this.#keepUntil(entry));
    return result(entry, 'provider');
  }

  /** Drops a cached answer, e.g. after the app itself revoked the token. */
  forget(token: string): void {
    this.#cache.delete(sha256(token));
  }

  #fresh(entry: Entry, now: number): boolean {
    const ttl = entry.response.active ? this.#config.positiveTtlMs : this.#config.negativeTtlMs;
    return now < entry.checkedAt + ttl && !pastExpiry(entry.response, now);
  }

  #keepUntil(entry: Entry): number {
    if (!entry.response.active) return entry.checkedAt + this.#config.negativeTtlMs;
    const policy = this.#config.whenUnavailable;
    const keep = Math.max(this.#config.positiveTtlMs, policy.mode === 'keep-until' ? policy.maxStaleMs : 0);
    const exp = entry.response.exp;
    return Math.min(entry.checkedAt + keep, exp === undefined ? Number.MAX_SAFE_INTEGER : exp * 1000);
  }
}

function pastExpiry(response: IntrospectionResponse, now: number): boolean {
  return response.exp !== undefined && response.exp * 1000 <= now;
}

function result(entry: Entry, source: IntrospectionResult['source']): IntrospectionResult {
  return { active: entry.response.active, response: entry.response, source, checkedAt: entry.checkedAt };
}
