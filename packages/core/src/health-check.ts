import type { SessionStore } from './store.js';

/** A few figures a check wants shown beside its status, e.g. an audit backlog. Never a secret or a host. */
export type HealthDetails = Readonly<Record<string, number | string | boolean>>;

/**
 * One dependency that readiness asks about. Packages that know how to ask (a store, the auditor, the identity
 * provider) export a factory returning one; an application writes its own for anything else.
 */
export interface HealthCheck {
  /** Names the dependency in readiness answers: `session-store`, `audit`, `identity-provider`. */
  readonly name: string;
  /** An optional check is reported but never makes the instance unready. */
  readonly optional?: boolean;
  /** Overrides the caller's per-check timeout. */
  readonly timeoutMs?: number;
  /** Resolves when the dependency serves (maybe with figures to show); rejects when it does not. */
  run(signal: AbortSignal): Promise<HealthDetails | undefined>;
}

/** What every check factory accepts: another name, optional, its own timeout. */
export type HealthCheckOptions = Partial<Pick<HealthCheck, 'name' | 'optional' | 'timeoutMs'>>;

/** The session store answers: `store.health()`, one round trip (Redis PING, `select 1`). */
export function sessionStoreCheck(
  store: Pick<SessionStore, 'health'>,
  options: HealthCheckOptions = {},
): HealthCheck {
  return {
    name: 'session-store',
    ...options,
    run: async () => {
      await store.health();
      return undefined;
    },
  };
}
