import type { AuditRecord, AuditSink } from '../../src/index.js';

/** A sink that keeps what it is given, to look at in assertions. */
export function collectingSink(name = 'collect'): AuditSink & { records: AuditRecord[] } {
  const records: AuditRecord[] = [];
  return {
    name,
    records,
    async write(batch) {
      records.push(...batch);
    },
  };
}
