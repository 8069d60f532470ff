import { ManualClock } from '@sessionkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor, PersonalDataVault, SEALED_PERSONAL_DATA } from '../src/index.js';
import {
  auditDb,
  migrateAuditSchema,
  SqlAuditLedger,
  SqlDataSubjects,
  SqlSubjectKeys,
} from '../src/sql/index.js';
import type { TestDatabase } from './support/databases.js';
import { pgliteDatabase, postgresDatabase } from './support/databases.js';
import { integrityKeys, ipKeys } from './support/keys.js';

describe.each([
  ['PostgreSQL', postgresDatabase],
  ['PGlite', pgliteDatabase],
])('data-subject requests on %s', (_name, open) => {
  let database: TestDatabase;
  let ledger: SqlAuditLedger;
  let auditor: Auditor;
  let subjects: SqlDataSubjects;

  beforeAll(async () => {
    database = await open();
    await migrateAuditSchema(database.db, { schema: database.schema });
    const clock = new ManualClock(Date.UTC(2026, 2, 1, 9));
    ledger = new SqlAuditLedger(database.db, { schema: database.schema, keys: integrityKeys, clock });
    const vault = new PersonalDataVault(new SqlSubjectKeys(database.db, { schema: database.schema }));
    subjects = new SqlDataSubjects(database.db, { schema: database.schema, vault });
    auditor = new Auditor({
      ledger,
      clock,
      ip: { keys: ipKeys, keepPrefix: true },
      buffer: { flushIntervalMs: 5 },
      personalData: vault,
    });
  }, 120_000);

  afterAll(async () => {
    await auditor.close();
    await database.close();
  });

  it('stores personal details only sealed, exports them readable, and erases them while the chain verifies', async () => {
    const ip = '203.0.113.7';
    const userAgent = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
    auditor.record('auth.login_failed', {
      userId: 'alice',
      ip,
      userAgent,
      deviceLabel: 'Alice laptop',
      reason: 'wrong password for alice',
      details: { method: 'password' },
    });
    auditor.record('auth.login_succeeded', {
      userId: 'alice',
      ip,
      userAgent,
      details: { method: 'password' },
    });
    auditor.record('auth.login_succeeded', { userId: 'bob', ip, details: { method: 'password' } });
    auditor.record('security.rate_limited', { ip, details: { limiter: 'login', retryAfterMs: 1000 } });
    expect(await auditor.flush()).toBe(true);

    // At rest: no address prefix, label, reason or details of a user in the clear.
    const rows = await auditDb(database.db, { schema: database.schema })
      .selectFrom('audit_records')
      .selectAll()
      .where('user_id', '=', 'alice')
      .execute();
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.ip_prefix).toBeNull();
      expect(row.ip_hash).toBeNull();
      expect(row.device_label).toBeNull();
      expect(row.reason).toBeNull();
      expect(Object.keys(row.details as object)).toEqual([SEALED_PERSONAL_DATA]);
      expect(JSON.stringify(row)).not.toContain('Alice laptop');
      expect(row.device_browser).toBe('Firefox 128');
    }

    const exported = await subjects.exportUser('alice');
    expect(exported.map((opened) => opened.personalData)).toEqual(['readable', 'readable']);
    const failed = exported[0]?.record;
    expect(failed?.ip?.prefix).toBe('203.0.113.0/24');
    expect(failed?.device?.label).toBe('Alice laptop');
    expect(failed?.details).toEqual({ method: 'password' });

    expect(await subjects.eraseUser('alice')).toBe(2);
    const after = await subjects.exportUser('alice');
    expect(after.map((opened) => opened.personalData)).toEqual(['erased', 'erased']);
    expect(after[0]?.record.device?.label).toBeUndefined();
    expect((await subjects.exportUser('bob')).map((opened) => opened.personalData)).toEqual(['readable']);

    const verdicts = await ledger.verifyAll();
    expect(verdicts.length).toBeGreaterThan(0);
    for (const verdict of verdicts) expect(verdict).toMatchObject({ ok: true });
    expect(verdicts.reduce((sum, verdict) => sum + verdict.checked, 0)).toBe(4);
  });
});
