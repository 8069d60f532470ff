import type { AuditAction, AuditCategory, AuditOutcome, AuditSeverity } from './actions.js';
import type { AuditRecord } from './audit-record.js';

/** What a sink may see synchronously, on the request path: enums only, nothing that needs redacting. */
export interface AuditObservation {
  action: AuditAction;
  category: AuditCategory;
  severity: AuditSeverity;
  outcome: AuditOutcome;
}

/**
 * Receives linked records in batches, off the request path. A sink may be slow or fail: the auditor buffers
 * (bounded), retries and, past the bound, drops and counts.
 */
export interface AuditSink {
  readonly name: string;
  write(records: readonly AuditRecord[]): Promise<void>;
  /** Called synchronously when something is recorded, inside the caller's context (e.g. its trace span). */
  observe?(observation: AuditObservation): void;
}

/** Discards everything: the baseline for measuring what the other sinks cost. */
export function noopSink(): AuditSink {
  return { name: 'noop', write: async () => {} };
}
