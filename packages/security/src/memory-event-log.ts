import { RecentMap } from '@sessionkit/core/store';
import type { SecurityEvent, SecurityEventLog, SecuritySummary } from './security-event.js';
import { summarize } from './security-event.js';

/**
 * Embedded default: the newest `maxPerScope` events per user and per tenant, in process memory, for at most
 * `maxScopes` users and as many tenants (the most recently active ones; see core's `RecentMap`).
 */
export class MemoryEventLog implements SecurityEventLog {
  readonly #byUser: RecentMap<string, SecurityEvent[]>;
  readonly #byTenant: RecentMap<string, SecurityEvent[]>;
  readonly #maxPerScope: number;

  constructor(options: { maxPerScope?: number; maxScopes?: number } = {}) {
    this.#maxPerScope = options.maxPerScope ?? 200;
    this.#byUser = new RecentMap(options.maxScopes ?? 10_000);
    this.#byTenant = new RecentMap(options.maxScopes ?? 10_000);
  }

  async record(event: SecurityEvent): Promise<void> {
    this.#push(this.#byUser, event.userId, event);
    if (event.tenantId !== undefined) this.#push(this.#byTenant, event.tenantId, event);
  }

  async summarizeUser(userId: string, options: { now: number; limit?: number }): Promise<SecuritySummary> {
    return summarize(this.#byUser.get(userId) ?? [], options.now, options.limit ?? 50);
  }

  async summarizeTenant(
    tenantId: string,
    options: { now: number; limit?: number },
  ): Promise<SecuritySummary> {
    return summarize(this.#byTenant.get(tenantId) ?? [], options.now, options.limit ?? 50);
  }

  #push(scopes: RecentMap<string, SecurityEvent[]>, scope: string, event: SecurityEvent): void {
    const events = scopes.get(scope) ?? [];
    events.unshift(event);
    events.length = Math.min(events.length, this.#maxPerScope);
    scopes.set(scope, events);
  }
}
