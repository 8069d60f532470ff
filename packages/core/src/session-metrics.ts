import type { SessionEvent } from './events.js';
import type { InvalidationMessage } from './store.js';
import { counter, histogram } from './telemetry.js';

/* Core's instruments; docs/observability.md lists them with their attributes and Prometheus names. */
const SCOPE = '@sessionkit/core';

/** From 50 µs (a cache hit) to 2.5 s (a store at its timeout). */
const OPERATION_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];
/** From a minute to a month. */
const SESSION_BUCKETS = [60, 300, 900, 1800, 3600, 14_400, 28_800, 86_400, 604_800, 2_592_000];
/** From a millisecond (one region, an idle broker) to 10 s (a feed far behind or clocks far apart). */
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** OTel's semantic-convention buckets for `db.client.operation.duration`. */
const DB_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

export const sessionMetrics = {
  validations: counter(SCOPE, 'sessionkit.session.validations', {
    description:
      'Validations answered, by tier, cache hit or miss (fast tier) and outcome (valid, invalid, error)',
    unit: '{validation}',
  }),
  operationDuration: histogram(SCOPE, 'sessionkit.session.operation.duration', {
    description: 'Duration of session manager operations',
    unit: 's',
    buckets: OPERATION_BUCKETS,
  }),
  storeDuration: histogram(SCOPE, 'db.client.operation.duration', {
    description: 'Duration of session store calls',
    unit: 's',
    buckets: DB_BUCKETS,
  }),
  storeErrors: counter(SCOPE, 'sessionkit.store.errors', {
    description:
      'Session store calls that failed for the store, not the session (unavailable, corrupt, timeout)',
    unit: '{error}',
  }),
  storeTimeouts: counter(SCOPE, 'sessionkit.store.timeouts', {
    description: 'Session store calls that got no answer within the store timeout',
    unit: '{timeout}',
  }),
};

const created = counter(SCOPE, 'sessionkit.session.created', {
  description: 'Sessions created',
  unit: '{session}',
});
const refreshes = counter(SCOPE, 'sessionkit.session.refreshes', {
  description: 'Refresh-token rotations that issued tokens',
  unit: '{refresh}',
});
const revocations = counter(SCOPE, 'sessionkit.session.revocations', {
  description: 'Sessions revoked, by reason and by whom',
  unit: '{session}',
});
const evictions = counter(SCOPE, 'sessionkit.session.evictions', {
  description: 'Sessions revoked to make room under the per-user session limit',
  unit: '{session}',
});
const sessionDuration = histogram(SCOPE, 'sessionkit.session.duration', {
  description: 'Lifetime of sessions ended by revocation or eviction, from creation',
  unit: 's',
  buckets: SESSION_BUCKETS,
});
const reuseDetections = counter(SCOPE, 'sessionkit.token.reuse_detections', {
  description: 'Refresh tokens presented again after rotation (the token family is revoked)',
  unit: '{detection}',
});
const rejections = counter(SCOPE, 'sessionkit.token.rejections', {
  description: 'Tokens that named no session issued here or carried a wrong secret, by reason',
  unit: '{token}',
});
const invalidations = counter(SCOPE, 'sessionkit.invalidation.messages', {
  description: 'Invalidation-feed messages received, by kind',
  unit: '{message}',
});
const lag = histogram(SCOPE, 'sessionkit.invalidation.lag', {
  description:
    'Time from publishing an invalidation-feed message to its receipt, by kind (wall clocks of both ends)',
  unit: 's',
  buckets: LAG_BUCKETS,
});
const gaps = counter(SCOPE, 'sessionkit.invalidation.gaps', {
  description: 'Times the invalidation feed may have missed messages (local caches were dropped)',
  unit: '{gap}',
});

/** Counts what the session lifecycle announces: every creation, refresh, revocation and rejection passes here. */
export function recordSessionEvent(event: SessionEvent): void {
  switch (event.type) {
    case 'session.created':
      created.add(1, { 'sessionkit.tenant': event.session.tenantId });
      return;
    case 'session.refreshed':
      refreshes.add(1);
      return;
    case 'session.revoked':
      revocations.add(1, {
        'sessionkit.revocation.reason': event.reason,
        'sessionkit.revocation.by': event.by,
      });
      sessionDuration.record((event.at - event.session.createdAt) / 1000, { 'sessionkit.end': 'revoked' });
      return;
    case 'session.evicted':
      evictions.add(1);
      revocations.add(1, {
        'sessionkit.revocation.reason': event.reason,
        'sessionkit.revocation.by': 'policy',
      });
      sessionDuration.record((event.at - event.session.createdAt) / 1000, { 'sessionkit.end': 'evicted' });
      return;
    case 'token.reuse_detected':
      reuseDetections.add(1);
      return;
    case 'token.rejected':
      rejections.add(1, { 'sessionkit.rejection.reason': event.reason });
      return;
    default:
      return;
  }
}

/** `receivedAt`: this instance's wall clock, as `sentAt` is the publisher's; skew that makes it negative reads 0. */
export function recordInvalidation(message: InvalidationMessage, receivedAt: number): void {
  const kind = { 'sessionkit.invalidation.kind': message.kind };
  invalidations.add(1, kind);
  if (message.sentAt !== undefined) lag.record(Math.max(0, receivedAt - message.sentAt) / 1000, kind);
}

export function recordInvalidationGap(): void {
  gaps.add(1);
}
