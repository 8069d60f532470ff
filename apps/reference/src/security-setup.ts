import type { Clock } from '@sessionkit/core';
import type {
  ClientNetworkBits,
  ProfileStore,
  RuleLimiter,
  SecurityDatabase,
  SecurityEventLog,
} from '@sessionkit/security';
import {
  BruteForceGuard,
  KyselyProfileStore,
  MemoryEventLog,
  MemoryLockoutStore,
  MemoryRateLimiter,
  migrateSecurityProfiles,
  parseClientNetworkOptions,
  RedisEventLog,
  RedisLockoutStore,
  RedisProfileStore,
  RedisRateLimiter,
  RequestRateLimits,
  RiskEngine,
} from '@sessionkit/security';
import type { Logger } from 'pino';
import type { AppConfig } from './config.js';
import { DeviceCookies } from './device-cookie.js';
import type { Infrastructure } from './infrastructure.js';
import { tablesOf } from './infrastructure.js';

const MINUTE = 60_000;

/**
 * Login: 30 attempts a minute per client network, 10 per account+network (then a 5 min block; a successful
 * login starts the count again); refresh: 60 a minute per network.
 */
const LOGIN_RULES = [
  { name: 'login-ip', scope: 'ip', limit: 30, windowMs: MINUTE },
  { name: 'login-user-ip', scope: 'user-ip', limit: 10, windowMs: MINUTE, blockMs: 5 * MINUTE },
] as const;
const REFRESH_RULES = [{ name: 'refresh-ip', scope: 'ip', limit: 60, windowMs: MINUTE }] as const;
/** Cross-device codes carry 256 random bits, so this only stops a flood: 10 a minute, then a 5 min block. */
const TRANSFER_RULE = {
  name: 'transfer-ip',
  scope: 'ip',
  limit: 10,
  windowMs: MINUTE,
  blockMs: 5 * MINUTE,
} as const;

export interface SecurityParts {
  risk: RiskEngine;
  guard: BruteForceGuard;
  loginLimits: RequestRateLimits;
  refreshLimits: RequestRateLimits;
  /** Counts transfer-code redemptions per client network (`transferRouter`). */
  transferLimiter: RuleLimiter;
  events: SecurityEventLog;
  devices: DeviceCookies;
  /** What one client is: the IPv4 address, the IPv6 prefix of `IPV6_CLIENT_PREFIX` bits. */
  network: ClientNetworkBits;
}

export interface SecurityKeys {
  networkHashKey: string;
  deviceCookieKey: string;
}

/**
 * With Redis, every counter and profile is shared by all instances. Embedded, limits and lockouts are in
 * memory (one process) while security profiles stay durable in the SQL database.
 */
export async function setUpSecurity(
  infra: Infrastructure,
  keys: SecurityKeys,
  options: { config: AppConfig; clock: Clock; logger: Logger },
): Promise<SecurityParts> {
  const { clock, logger } = options;
  const onDegraded = (event: unknown) => logger.error({ event }, 'security store degraded');
  const redis = infra.redis;
  let events: SecurityEventLog;
  let profiles: ProfileStore;
  let limiter: (
    rule: (typeof LOGIN_RULES)[number] | (typeof REFRESH_RULES)[number] | typeof TRANSFER_RULE,
  ) => RuleLimiter;
  let guard: BruteForceGuard;
  if (redis) {
    const prefix = `${options.config.REDIS_PREFIX}reference:`;
    events = new RedisEventLog({ redis, prefix });
    profiles = new RedisProfileStore({ redis, prefix });
    limiter = (rule) => new RedisRateLimiter({ redis, prefix, rule, clock, onDegraded });
    guard = new BruteForceGuard({
      store: new RedisLockoutStore({ redis, prefix }),
      clock,
      events,
      onDegraded,
    });
  } else {
    events = new MemoryEventLog();
    const db = tablesOf<SecurityDatabase>(infra.sql);
    await migrateSecurityProfiles(db);
    profiles = new KyselyProfileStore({ db });
    limiter = (rule) => new MemoryRateLimiter({ rule, clock });
    guard = new BruteForceGuard({ store: new MemoryLockoutStore(), clock, events, onDegraded });
  }
  const risk = new RiskEngine({ profiles, networkHashKey: keys.networkHashKey, events, onDegraded });
  return {
    risk,
    guard,
    events,
    devices: new DeviceCookies({ key: keys.deviceCookieKey, clock }),
    network: parseClientNetworkOptions({ ipv6PrefixBits: options.config.IPV6_CLIENT_PREFIX }),
    loginLimits: new RequestRateLimits(LOGIN_RULES.map(limiter)),
    refreshLimits: new RequestRateLimits(REFRESH_RULES.map(limiter)),
    transferLimiter: limiter(TRANSFER_RULE),
  };
}
