import { z } from 'zod';
import { parseInput } from './zod-input.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const duration = z.number().int().positive();
const contextAction = z.enum(['allow', 'flag', 'step-up', 'revoke']);

/**
 * Every policy of the engine. Defaults follow OWASP's session cheat sheet and NIST SP 800-63B AAL2:
 * 30 min idle, 12 h absolute, re-authentication within 15 min for sensitive actions.
 */
export const sessionConfigSchema = z
  .object({
    idleTimeoutMs: duration.default(30 * MINUTE),
    absoluteLifetimeMs: duration.default(12 * HOUR),
    /** Minimum gap between two writes of `lastSeenAt`: validation must not write on every request. */
    touchThrottleMs: z.number().int().nonnegative().default(MINUTE),
    maxSessionsPerUser: z.number().int().positive().max(10_000).default(10),
    onLimit: z.enum(['evict-oldest', 'reject']).default('evict-oldest'),
    /**
     * Per-tenant overrides of the two above. Whatever the numbers, the limit counts a user's sessions in the
     * new session's tenant only (sessions without a tenant count among themselves).
     */
    tenantLimits: z
      .record(
        z.string().min(1).max(256),
        z.object({
          maxSessionsPerUser: z.number().int().positive().max(10_000),
          onLimit: z.enum(['evict-oldest', 'reject']).optional(),
        }),
      )
      .default({}),
    refresh: z
      .object({
        enabled: z.boolean().default(true),
        /** How long the previous refresh token still yields the same successor (lost responses, racing tabs). */
        graceMs: z
          .number()
          .int()
          .nonnegative()
          .max(5 * MINUTE)
          .default(10_000),
      })
      .prefault({}),
    requiredAal: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(1),
    freshnessMaxAgeMs: duration.default(15 * MINUTE),
    contextChange: z
      .object({ ip: contextAction.default('flag'), device: contextAction.default('flag') })
      .prefault({}),
    accessToken: z
      .object({
        ttlMs: duration.max(HOUR).default(5 * MINUTE),
        issuer: z.string().min(1).default('sessionkit'),
        audience: z.string().min(1).default('sessionkit'),
        /** Verified tokens kept so a repeated token is not verified twice (a signature check costs ~100 µs). */
        cacheEntries: z.number().int().nonnegative().default(10_000),
      })
      .prefault({}),
    /**
     * Opaque tokens validated from a local copy for at most `maxAgeMs`. Off by default: turning it on trades
     * a bounded revocation delay (when the feed is down) for skipping the store on hot paths.
     */
    validationCache: z
      .object({
        enabled: z.boolean().default(false),
        maxAgeMs: z.number().int().positive().max(10_000).default(1000),
        maxEntries: z.number().int().positive().default(10_000),
      })
      .prefault({}),
    transfer: z.object({ ttlMs: duration.max(15 * MINUTE).default(2 * MINUTE) }).prefault({}),
    /**
     * The server secret every instance sharing a store must share. Refresh tokens carry a MAC under a key
     * derived from it, so that any instance recognises the replay of any token a session ever issued; it also
     * keys IP hashes when `ipHashKey` is unset. Without it each process draws random keys: refresh still works
     * across instances, but an old token's replay is recognised only by the process that issued it (and IP hashes
     * compare only within one process), which is why a manager on a store shared across processes (every store
     * but MemoryStore) refuses to start without it or `ipHashKey` (`config.secret_required`).
     */
    secret: z.string().min(32).optional(),
    /**
     * HMAC key for IP hashes, if they must differ from the one derived from `secret` (e.g. to keep hashes
     * already stored). Instances that share a store must share it; without it and without `secret` a random
     * per-process key is used, which keeps IPs private but makes IP-change detection work only within one process.
     */
    ipHashKey: z.string().min(32).optional(),
    /** Bound on the local denylist of revoked session ids (each kept until its access tokens have expired). */
    denylistMaxEntries: z.number().int().positive().default(100_000),
  })
  .refine((config) => config.absoluteLifetimeMs >= config.idleTimeoutMs, {
    message: 'absoluteLifetimeMs must be at least idleTimeoutMs',
    path: ['absoluteLifetimeMs'],
  });

export type SessionConfigInput = z.input<typeof sessionConfigSchema>;
export type SessionConfig = z.output<typeof sessionConfigSchema>;

/** Throws `input.invalid` naming each bad field. */
export function parseSessionConfig(input: unknown = {}): SessionConfig {
  return parseInput(sessionConfigSchema, input, 'session config');
}
