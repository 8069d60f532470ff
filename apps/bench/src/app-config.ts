import { parseInput } from '@sessionkit/core';
import { z } from 'zod';

/** How one bench app process is wired, from its environment; validated once at start. */
export const appConfigSchema = z.object({
  APP_BACKEND: z.enum(['redis', 'postgres']),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/test'),
  /** Redis key prefix or PostgreSQL schema; instances that share sessions share it. */
  APP_NAMESPACE: z.string().regex(/^[a-z0-9_]{1,40}$/),
  APP_TIER: z.enum(['fast', 'full']).default('full'),
  APP_CACHE: z.enum(['0', '1']).default('0'),
  /** Audit every session event into @sessionkit/audit's SQL ledger in `<namespace>_audit` (PostgreSQL). */
  APP_AUDIT: z.enum(['0', '1']).default('0'),
  /** Limit logins with @sessionkit/security's Redis limiter (fail closed), beside sessions on PostgreSQL. */
  APP_LOGIN_LIMIT_REDIS: z.enum(['0', '1']).default('0'),
  APP_MAX_SESSIONS: z.coerce.number().int().positive().default(5),
  APP_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
  /** Shared by every instance, so access tokens and IP hashes verify across them. */
  APP_SHARED_SECRET: z.string().min(32).default('bench-shared-secret-bench-shared-secret'),
});

export type AppConfig = z.output<typeof appConfigSchema>;

export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return parseInput(appConfigSchema, env, 'bench app environment');
}
