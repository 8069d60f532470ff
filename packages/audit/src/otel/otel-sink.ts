import type { Meter } from '@opentelemetry/api';
import { metrics, trace } from '@opentelemetry/api';
import type { AuditSink } from '../sink.js';

export interface OtelSinkOptions {
  /** Defaults to the global meter provider's meter: a no-op until the application registers an SDK. */
  meter?: Meter;
  name?: string;
}

export const AUDIT_COUNTER = 'sessionkit.audit.records';

/**
 * Counts written records by action, category and outcome, and adds an event to the span that is active when
 * something is recorded. Through `@opentelemetry/api` only: without an SDK both are no-ops.
 */
export function otelSink(options: OtelSinkOptions = {}): AuditSink {
  const meter = options.meter ?? metrics.getMeter('@sessionkit/audit');
  const counter = meter.createCounter(AUDIT_COUNTER, {
    description: 'Audit records written, by action, category and outcome',
    unit: '{record}',
  });
  return {
    name: options.name ?? 'otel',
    async write(records) {
      for (const record of records) {
        counter.add(1, {
          'audit.action': record.action,
          'audit.category': record.category,
          'audit.outcome': record.outcome,
        });
      }
    },
    observe(observation) {
      trace.getActiveSpan()?.addEvent(`audit.${observation.action}`, {
        'audit.action': observation.action,
        'audit.category': observation.category,
        'audit.severity': observation.severity,
        'audit.outcome': observation.outcome,
      });
    },
  };
}
