import type { HealthCheck, HealthCheckOptions } from '@sessionkit/core';
import type { AuditorStats } from './auditor.js';

export interface AuditHealthOptions extends HealthCheckOptions {
  /** Unready past this many records waiting, for the ledger or for any one sink. Default 1000. */
  maxPending?: number;
}

export class AuditBacklogError extends Error {
  readonly code = 'audit.backlog';
  constructor(stage: string, pending: number, maxPending: number) {
    super(`audit ${stage} has ${pending} records waiting (more than ${maxPending})`);
    this.name = 'AuditBacklogError';
  }
}

/**
 * The auditor keeps up: neither its ledger intake nor any sink has more than `maxPending` records waiting. A
 * growing backlog means the ledger or a sink stopped taking writes, and records will soon be dropped.
 */
export function auditHealthCheck(
  auditor: { readonly stats: AuditorStats },
  options: AuditHealthOptions = {},
): HealthCheck {
  const { maxPending = 1000, ...rest } = options;
  return {
    name: 'audit',
    ...rest,
    run: async () => {
      const { pending, dropped, sinks } = auditor.stats;
      if (pending > maxPending) throw new AuditBacklogError('ledger', pending, maxPending);
      let sinkPending = 0;
      for (const [name, sink] of Object.entries(sinks)) {
        if (sink.pending > maxPending) throw new AuditBacklogError(`sink ${name}`, sink.pending, maxPending);
        sinkPending = Math.max(sinkPending, sink.pending);
      }
      return { pending, sinkPending, dropped };
    },
  };
}
