import { PrivatePostgres } from '@sessionkit/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditBacklogError, Auditor, auditHealthCheck } from '../src/index.js';
import { migrateAuditSchema, SqlAuditLedger } from '../src/sql/index.js';
import { postgresKysely } from './support/databases.js';
import { integrityKeys, ipKeys } from './support/keys.js';

// The test stops this server (on a port the OS handed out), never the shared 5432.
const server = await PrivatePostgres.onFreePort();
const db = postgresKysely({ port: server.port, database: 'postgres', connectionTimeoutMillis: 10_000 });
let auditor: Auditor;

beforeAll(async () => {
  server.start();
  await migrateAuditSchema(db, { schema: 'audit' });
  auditor = new Auditor({
    ledger: new SqlAuditLedger(db, { schema: 'audit', keys: integrityKeys }),
    ip: { keys: ipKeys },
    buffer: { flushIntervalMs: 5 },
    ledgerRetry: { initialDelayMs: 50, maxDelayMs: 500 },
  });
});

afterAll(async () => {
  await auditor.close(1000);
  await db.destroy();
  server.destroy();
});

const signal = new AbortController().signal;

function recordLogins(count: number): void {
  for (let index = 0; index < count; index += 1) {
    auditor.record('auth.login_failed', {
      userId: `user-${index}`,
      reason: 'bad_password',
      ip: '203.0.113.9',
    });
  }
}

describe('auditHealthCheck against a real PostgreSQL ledger', () => {
  it('fails once records pile up while the ledger database is down, and recovers once it is back', async () => {
    const check = auditHealthCheck(auditor, { maxPending: 20 });
    recordLogins(5);
    await expect.poll(() => auditor.stats.written).toBe(5);
    await expect(check.run(signal)).resolves.toEqual({ pending: 0, sinkPending: 0, dropped: 0 });

    server.stop();
    recordLogins(50);
    await expect(check.run(signal)).rejects.toBeInstanceOf(AuditBacklogError);
    await expect(check.run(signal)).rejects.toMatchObject({ code: 'audit.backlog' });

    server.start();
    await expect
      .poll(
        () =>
          check.run(signal).then(
            () => 'up',
            () => 'down',
          ),
        { timeout: 60_000 },
      )
      .toBe('up');
    // The check is up once the backlog is under its bound; the batch in flight lands a little later.
    await expect.poll(() => auditor.stats, { timeout: 60_000 }).toMatchObject({ written: 55, dropped: 0 });
  });
});
