import { describe, expect, it } from 'vitest';
import type { DpopReplayCache } from '../dpop-replay-cache.js';
import { randomToken } from '../token-crypto.js';

/**
 * The contract every DPoP replay cache keeps: the first claim of a key wins, every later one within its life
 * loses (also when made at once from many callers, as instances racing on one replayed proof would), and an
 * expired key is free again. `connect` may be called more than once: each answer must share the same data.
 */
export function describeDpopReplayCacheConformance(name: string, connect: () => Promise<DpopReplayCache>) {
  describe(`${name}: DPoP replay cache conformance`, () => {
    it('answers true for the first claim of a key and false for a replay', async () => {
      const cache = await connect();
      const key = randomToken(16);
      const now = Date.now();
      expect(await cache.claimOnce(key, now + 60_000, now)).toBe(true);
      expect(await cache.claimOnce(key, now + 60_000, now + 1)).toBe(false);
      expect(await cache.claimOnce(randomToken(16), now + 60_000, now)).toBe(true);
    });

    it('lets exactly one of many concurrent claims of one key through, across connections', async () => {
      const [first, second] = [await connect(), await connect()];
      const key = randomToken(16);
      const now = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? first : second).claimOnce(key, now + 60_000, now),
        ),
      );
      expect(answers.filter(Boolean)).toHaveLength(1);
    });

    it('frees a key once it expired', async () => {
      const cache = await connect();
      const key = randomToken(16);
      const now = Date.now();
      expect(await cache.claimOnce(key, now + 1500, now)).toBe(true);
      // Stores that expire keys themselves (Redis) need real time to pass; poll generously.
      let freed = false;
      for (let attempt = 0; attempt < 50 && !freed; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const later = Date.now();
        freed = later > now + 1500 && (await cache.claimOnce(key, later + 60_000, later));
      }
      expect(freed).toBe(true);
    });
  });
}
