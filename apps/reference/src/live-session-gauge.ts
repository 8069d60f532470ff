import type { LiveSessionCounts, SessionStore } from '@sessionkit/core';
import { observeLiveSessions } from '@sessionkit/core';
import { metricsOn } from '@sessionkit/core/telemetry';
import type { Logger } from 'pino';

export interface LiveSessionGaugeOptions {
  /** Tenants reported on series of their own; the rest of the live sessions go on the series without a tenant. */
  tenants: readonly string[];
  /** How long counts answer scrapes before the store is asked again. */
  maxAgeMs: number;
  /** The instant the store counts at (the app's clock). */
  now: () => number;
  logger: Logger;
}

/**
 * Reports `sessionkit.sessions.live` by tenant from the store's `sessionStats`, when an SDK collects metrics (a
 * no-op otherwise, and for a store that cannot count). The counts are kept `maxAgeMs`, so however often Prometheus
 * (or several of them) scrapes, the store counts at most once per period; scrapes during a count share it.
 * Returns the function that stops the reports.
 */
export function reportLiveSessions(store: SessionStore, options: LiveSessionGaugeOptions): () => void {
  const sessionStats = store.sessionStats?.bind(store);
  if (!sessionStats || !metricsOn()) return () => {};
  const count = async (): Promise<LiveSessionCounts> => {
    const now = options.now();
    const window = { from: now, to: now, now };
    const all = await sessionStats(window);
    const counts: LiveSessionCounts = {};
    let inTenants = 0;
    for (const tenantId of options.tenants) {
      const { live } = await sessionStats({ ...window, tenantId });
      counts[tenantId] = live;
      inTenants += live;
    }
    counts[''] = all.live - inTenants;
    return counts;
  };
  let cached: { at: number; counts: Promise<LiveSessionCounts> } | undefined;
  return observeLiveSessions(async () => {
    // Monotonic time: the app's clock may be a test's, and the period is about load on the store, not sessions.
    const at = performance.now();
    if (cached === undefined || at - cached.at >= options.maxAgeMs) cached = { at, counts: count() };
    const current = cached;
    try {
      return await current.counts;
    } catch (error) {
      // No series this collection rather than a stale one; the next scrape asks the store again.
      if (cached === current) cached = undefined;
      options.logger.warn({ err: error }, 'live-session count failed');
      return {};
    }
  });
}
