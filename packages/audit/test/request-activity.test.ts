import type { RequestActivity } from '@sessionkit/core';
import { ManualClock } from '@sessionkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Auditor, requestActivityRecorder } from '../src/index.js';
import { auditDb, migrateAuditSchema, SqlActivitySource, SqlAuditLedger } from '../src/sql/index.js';
import type { TestDatabase } from './support/databases.js';
import { pgliteDatabase, postgresDatabase } from './support/databases.js';
import { integrityKeys, ipKeys } from './support/keys.js';

const TOKEN = 'AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';

describe.each([
  ['PostgreSQL', postgresDatabase],
  ['PGlite', pgliteDatabase],
])('request activity in the SQL audit trail on %s', (_name, open) => {
  let database: TestDatabase;
  let clock: ManualClock;
  let ledger: SqlAuditLedger;
  let activity: SqlActivitySource;
  let auditor: Auditor;

  beforeAll(async () => {
    database = await open();
    clock = new ManualClock(Date.UTC(2026, 5, 1, 9));
    await migrateAuditSchema(database.db, { schema: database.schema });
    ledger = new SqlAuditLedger(database.db, { schema: database.schema, keys: integrityKeys, clock });
    activity = new SqlActivitySource(database.db, { schema: database.schema, clock });
    auditor = new Auditor({
      ledger,
      clock,
      ip: { keys: ipKeys, keepPrefix: true },
      buffer: { flushIntervalMs: 5 },
    });
  });

  afterAll(async () => {
    await auditor?.close();
    await database?.close();
  });

  const request = (overrides: Partial<RequestActivity>): RequestActivity => ({
    at: clock.now(),
    sessionId: 's-laptop',
    userId: 'alice',
    route: '/api/me/sessions',
    method: 'GET',
    status: 200,
    durationMs: 3.2,
    category: 'account',
    ...overrides,
  });

  it('keeps the newest request per session, redacted, failures marked, in a chain that verifies', async () => {
    const recorder = requestActivityRecorder(auditor);
    recorder.recordRequest(request({}));
    clock.advance(1_000);
    recorder.recordRequest(request({ route: '/api/me/sessions/:id', method: 'DELETE', status: 404 }));
    clock.advance(1_000);
    recorder.recordRequest(request({ sessionId: 's-phone', route: '/api/transfer/redeem', method: 'POST' }));
    // A pattern written with literals in it still passes the audit trail's redaction.
    recorder.recordRequest(
      request({
        sessionId: 's-phone',
        route: `/api/users/bob@example.com/tokens/${TOKEN}`,
        category: 'admin',
      }),
    );
    recorder.recordRequest(request({ userId: 'bob', sessionId: 's-bob' }));
    expect(await auditor.flush()).toBe(true);

    const last = await activity.lastRequests('alice', ['s-laptop', 's-phone', 's-bob', 's-none']);
    expect([...last.keys()].sort()).toEqual(['s-laptop', 's-phone']);
    expect(last.get('s-laptop')).toMatchObject({
      action: 'session.request',
      outcome: 'failure',
      request: { route: '/api/me/sessions/:id', method: 'DELETE', status: 404, category: 'account' },
    });
    const phone = last.get('s-phone');
    // The email pattern takes the slashes before it too (they are legal in an address): over, never under.
    expect(phone?.request?.route).toBe('[email]/tokens/[token]');
    expect(JSON.stringify(phone)).not.toContain('example.com');

    const page = await activity.listActivity('alice', { limit: 10, sessionId: 's-laptop' });
    expect(page.entries.map((entry) => entry.request?.status)).toEqual([404, 200]);
    const rows = await auditDb(database.db, { schema: database.schema })
      .selectFrom('audit_records')
      .select(['ip_hash', 'device_key'])
      .where('action', '=', 'session.request')
      .execute();
    expect(rows.every((row) => row.ip_hash === null && row.device_key === null)).toBe(true);
    expect(await ledger.verifyChain('global')).toMatchObject({ ok: true });
    expect(await activity.lastRequests('alice', [])).toEqual(new Map());
  });

  it('drops input that does not fit the action, reporting it, without throwing', async () => {
    const invalid: unknown[] = [];
    const recorder = requestActivityRecorder(auditor, { onInvalid: (error) => invalid.push(error) });
    expect(() => recorder.recordRequest(request({ method: 'get lost', status: 42 }))).not.toThrow();
    expect(invalid).toHaveLength(1);
  });
});
