import { counter, observableGauge } from '@sessionkit/core/telemetry';
import type { DropNotice } from './sink-outlet.js';

/* The auditor's backlog and drops as OTel metrics; names in docs/observability.md. */
const SCOPE = '@sessionkit/audit';

const dropped = counter(SCOPE, 'sessionkit.audit.dropped', {
  description: 'Audit records dropped, by stage (intake, ledger or a sink) and cause',
  unit: '{record}',
});

export function countDrop(notice: DropNotice): void {
  dropped.add(notice.count, {
    'sessionkit.audit.stage': notice.stage,
    'sessionkit.audit.cause': notice.cause,
  });
}

/**
 * Reports the records waiting, in the auditor's intake and in each sink's buffer, at every collection of the
 * meter provider registered now (start the SDK before the auditor). Returns the function that stops it.
 */
export function observeBacklog(read: () => { pending: number; sinks: Record<string, { pending: number }> }) {
  return observableGauge(
    SCOPE,
    'sessionkit.audit.backlog',
    { description: 'Audit records waiting to be written, by stage', unit: '{record}' },
    () => {
      const stats = read();
      return [
        [stats.pending, { 'sessionkit.audit.stage': 'intake' }],
        ...Object.entries(stats.sinks).map(([name, sink]): [number, { 'sessionkit.audit.stage': string }] => [
          sink.pending,
          { 'sessionkit.audit.stage': name },
        ]),
      ];
    },
  );
}
