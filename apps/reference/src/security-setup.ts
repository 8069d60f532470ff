import type { ProfileStore, RuleLimiter, SecurityDatabase, SecurityEventLog } from '@sessionkit/security';
import {
  BruteForceGuard,
  KyselyProfileStore,
  MemoryEventLog,
  MemoryLockoutStore,
  MemoryRateLimiter,
  migrateSecurityProfiles,
  RedisEventLog,
  RedisLockoutStore,
  RedisProfileStore,
  RedisRateLimiter,
  RequestRateLimits,
  RiskEngine,
} from '@sessionkit/security';
import type { Logger } from 'pino';
import type { Infrastructure } from './infrastructure.js';
import { tablesOf } from './infrastructure.js';

const MINUTE = 60_000;

/** Login: 30 attempts a minute per IP, 10 per account+IP (then a 5 min block); refresh: 60 a minute per IP. */
const LOGIN_RULES = [
  { name: 'login-ip', scope: 'ip', limit: 30, windowMs: MINUTE },
  { name: 'login-user-ip', scope: 'user-ip', limit: 10, windowMs: MINUTE, blockMs: 5 * MINUTE },
] as const;
const REFRESH_RULES = [{ name: 'refresh-ip', scope: 'ip', limit: 60, windowMs: MINUTE }] as const;

export interface SecurityParts {
  risk: RiskEngine;
  guard: BruteForceGuard;
  loginLimits: RequestRateLimits;
  refreshLimits: RequestRateLimits;
  events: SecurityEventLog;
}

/**
 * With Redis, every counter and profile is shared by all instances. Embedded, limits and lockouts are in
 * memory (one process) while security profiles stay durable in the SQL database.
 */
export async function setUpSecurity(
  infra: Infrastructure,
  networkHashKey: string,
  logger: Logger,
): Promise<SecurityParts> {
  const onDegraded = (event: unknown) => logger.error({ event }, 'security store degraded');
  const redis = infra.redis;
  let events: SecurityEventLog;
  let profiles: ProfileStore;
  let limiter: (rule: (typeof LOGIN_RULES)[number] | (typeof REFRESH_RULES)[number]) => RuleLimiter;
  let guard: BruteForceGuard;
  if (redis) {
    const prefix = 'reference:';
    events = new RedisEventLog({ redis, prefix });
    profiles = new RedisProfileStore({ redis, prefix });
    limiter = (rule) => new RedisRateLimiter({ redis, prefix, rule, onDegraded });
    guard = new BruteForceGuard({ store: new RedisLockoutStore({ redis, prefix }), events, onDegraded });
  } else {
    events = new MemoryEventLog();
    const db = tablesOf<SecurityDatabase>(infra.sql);
    await migrateSecurityProfiles(db);
    profiles = new KyselyProfileStore({ db });
    limiter = (rule) => new MemoryRateLimiter({ rule });
    guard = new BruteForceGuard({ store: new MemoryLockoutStore(), events, onDegraded });
  }
  const risk = new RiskEngine({ profiles, networkHashKey, events, onDegraded });
  return {
    risk,
    guard,
    events,
    loginLimits: new RequestRateLimits(LOGIN_RULES.map(limiter)),
    refreshLimits: new RequestRateLimits(REFRESH_RULES.map(limiter)),
  };
}
