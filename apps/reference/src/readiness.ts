import type { HealthCheck } from '@sessionkit/core';
import { healthRouter } from '@sessionkit/express';
import type { Router } from 'express';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Logger } from 'pino';

export interface Readiness {
  /** `/healthz` and `/readyz`, mounted before anything else. */
  handler: Router;
  /** Adds a check once its dependency exists (the identity provider starts after the app listens). */
  add(check: HealthCheck): void;
}

/** The app's health routes over every dependency it uses, mounted before the last dependency starts. */
export function appReadiness(options: {
  checks: HealthCheck[];
  draining: () => boolean;
  logger: Logger;
}): Readiness {
  const checks = [...options.checks];
  return {
    handler: healthRouter({
      checks,
      draining: options.draining,
      onCheckFailure: (name, error) =>
        options.logger.warn({ check: name, err: error }, 'readiness check failed'),
    }),
    // The router reads `checks` on every request.
    add: (check) => checks.push(check),
  };
}

/** The SQL database (users, audit, keys; sessions too without Redis) answers `select 1`. */
export function databaseCheck(db: Kysely<unknown>): HealthCheck {
  return {
    name: 'database',
    run: async () => {
      await sql`select 1`.execute(db);
      return undefined;
    },
  };
}

/** The Redis holding rate limits and lockouts answers PING (checked apart from sessions: it is another role). */
export function rateLimitStoreCheck(redis: { ping(): Promise<string> }): HealthCheck {
  return {
    name: 'rate-limit-store',
    run: async () => {
      await redis.ping();
      return undefined;
    },
  };
}
