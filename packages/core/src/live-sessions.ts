import { observableGauge } from './telemetry.js';

/** Live-session counts by tenant id; the key `''` holds sessions without a tenant. */
export type LiveSessionCounts = Record<string, number>;

/**
 * Reports `sessionkit.sessions.live` (by `sessionkit.tenant`) at every metrics collection, from `read`: e.g. the
 * store's statistics. It binds to the meter provider registered at the call, so call it after the OTel SDK
 * starts; a no-op without `@opentelemetry/api`. Returns the function that stops the reports.
 */
export function observeLiveSessions(read: () => Promise<LiveSessionCounts> | LiveSessionCounts): () => void {
  return observableGauge(
    '@sessionkit/core',
    'sessionkit.sessions.live',
    { description: 'Live (active or suspended, unexpired) sessions, by tenant', unit: '{session}' },
    async () =>
      Object.entries(await read()).map(([tenant, count]) => [
        count,
        { 'sessionkit.tenant': tenant === '' ? undefined : tenant },
      ]),
  );
}
