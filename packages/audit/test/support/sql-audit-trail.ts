import { ManualClock } from '@sessionkit/core';
import { afterAll, beforeAll } from 'vitest';
import { Auditor } from '../../src/index.js';
import { auditDb, migrateAuditSchema, SqlActivitySource, SqlAuditLedger } from '../../src/sql/index.js';
import type { TestDatabase } from './databases.js';
import { pgliteDatabase, postgresDatabase } from './databases.js';
import { integrityKeys, ipKeys } from './keys.js';

/** The two SQL backends every SQL audit test runs on. */
export const sqlBackends = [
  ['PostgreSQL', postgresDatabase],
  ['PGlite', pgliteDatabase],
] as const;

export interface SqlAuditTrail {
  database: TestDatabase;
  clock: ManualClock;
  ledger: SqlAuditLedger;
  activity: SqlActivitySource;
  auditorFor(target?: SqlAuditLedger, chainBy?: 'tenant' | 'global'): Auditor;
  records(): ReturnType<typeof auditDb>;
}

/**
 * Opens a migrated audit schema for the enclosing `describe` (migrated twice: the second run must change
 * nothing) and closes it afterwards. Fields are set in `beforeAll`, so read them inside tests only.
 */
export function useSqlAuditTrail(open: () => Promise<TestDatabase>): SqlAuditTrail {
  const trail = {
    auditorFor: (target?: SqlAuditLedger, chainBy: 'tenant' | 'global' = 'tenant') =>
      new Auditor({
        ledger: target ?? trail.ledger,
        clock: trail.clock,
        chainBy,
        ip: { keys: ipKeys, keepPrefix: true },
        buffer: { flushIntervalMs: 5 },
      }),
    records: () => auditDb(trail.database.db, { schema: trail.database.schema }),
  } as SqlAuditTrail;
  beforeAll(async () => {
    const database = await open();
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 9));
    await migrateAuditSchema(database.db, { schema: database.schema });
    await migrateAuditSchema(database.db, { schema: database.schema });
    trail.database = database;
    trail.clock = clock;
    trail.ledger = new SqlAuditLedger(database.db, { schema: database.schema, keys: integrityKeys, clock });
    trail.activity = new SqlActivitySource(database.db, { schema: database.schema, clock });
  });
  afterAll(async () => {
    await trail.database?.close();
  });
  return trail;
}
