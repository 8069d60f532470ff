import { randomBytes } from 'node:crypto';
import { Auditor, adminAuditRecorder, Keyring, PersonalDataVault } from '@sessionkit/audit';
import {
  migrateAuditSchema,
  SqlActivitySource,
  SqlAuditLedger,
  SqlDataSubjects,
  SqlSubjectKeys,
} from '@sessionkit/audit/sql';
import { createPgPool } from '@sessionkit/storage-kysely/pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditVerification } from '../src/index.js';
import {
  adminAuditVerificationSchema,
  adminRouter,
  dataSubjectExportSchema,
  requireRole,
} from '../src/index.js';
import type { TestApp } from './harness.js';
import { testApp } from './harness.js';
import { POSTGRES_URL } from './postgres-store.js';

const INTEGRITY = new Keyring({ currentKeyId: 'k1', keys: { k1: 'i'.repeat(32) } });

describe('data-subject requests over HTTP: sessions on PostgreSQL, audit in PostgreSQL with per-user keys', () => {
  const schema = `sk_dsr_${randomBytes(5).toString('hex')}`;
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: createPgPool({ connectionString: POSTGRES_URL, max: 4 }) }),
  });
  let t: TestApp;
  let auditor: Auditor;
  let admin: string;

  beforeAll(async () => {
    await migrateAuditSchema(db, { schema });
    const ledger = new SqlAuditLedger(db, { schema, keys: INTEGRITY });
    const vault = new PersonalDataVault(new SqlSubjectKeys(db, { schema }));
    auditor = new Auditor({
      ledger,
      ip: { keys: { currentKeyId: 'ip1', keys: { ip1: 'p'.repeat(32) } }, keepPrefix: true },
      buffer: { flushIntervalMs: 5 },
      personalData: vault,
    });
    const verifyAuditChain = async (): Promise<AuditVerification> => {
      const chains = await ledger.verifyAll();
      return {
        ok: chains.every((chain) => chain.ok),
        chains: chains.map((chain) => ({
          chain: chain.chain,
          ok: chain.ok,
          checked: chain.checked,
          ...(chain.firstBad === undefined ? {} : { fault: chain.firstBad.fault }),
          ...(chain.firstBad?.seq === undefined ? {} : { seq: chain.firstBad.seq }),
        })),
      };
    };
    t = await testApp('postgres', {
      extend: (app) => {
        app.use(
          '/api/admin',
          adminRouter({
            authorize: requireRole('admin'),
            audit: adminAuditRecorder(auditor),
            activity: new SqlActivitySource(db, { schema }),
            verifyAuditChain,
            dataSubjects: new SqlDataSubjects(db, { schema, vault }),
          }),
        );
      },
    });
    auditor.attach(t.manager.events);
    const login = await request(t.app)
      .post('/login')
      .send({ userId: 'root', roles: ['admin'], bearer: true });
    admin = `Bearer ${login.body.token as string}`;
  }, 120_000);

  afterAll(async () => {
    await auditor.close();
    await t.close();
    await sql`drop schema ${sql.id(schema)} cascade`.execute(db);
    await db.destroy();
  });

  it('exports everything about a user readable, erases it, and the audit chain still verifies', async () => {
    await request(t.app)
      .post('/login')
      .set('user-agent', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')
      .send({ userId: 'carol', bearer: true });
    auditor.record('auth.login_failed', {
      userId: 'carol',
      ip: '198.51.100.23',
      reason: 'wrong password',
      details: { method: 'password' },
    });
    await auditor.flush();

    const exported = await request(t.app).get('/api/admin/users/carol/export').set('authorization', admin);
    expect(exported.status).toBe(200);
    const document = dataSubjectExportSchema.parse(exported.body);
    expect(document.sessions).toHaveLength(1);
    expect(document.activity.length).toBeGreaterThan(0);
    const audit = document.audit as { personalData: string; record: { action: string; reason?: string } }[];
    expect(audit.every((entry) => entry.personalData === 'readable')).toBe(true);
    expect(audit.find((entry) => entry.record.action === 'auth.login_failed')?.record.reason).toBe(
      'wrong password',
    );

    const erased = await request(t.app).post('/api/admin/users/carol/erase').set('authorization', admin);
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ userId: 'carol', revoked: 1, deleted: 1 });
    expect(erased.body.auditRecordsShredded).toBeGreaterThanOrEqual(2);
    await auditor.flush();

    const after = dataSubjectExportSchema.parse(
      (await request(t.app).get('/api/admin/users/carol/export').set('authorization', admin)).body,
    );
    expect(after.sessions).toEqual([]);
    const sealedBefore = (after.audit as { personalData: string; record: { at: number } }[]).filter(
      (entry) => entry.personalData !== 'none',
    );
    // Records written before the erasure stay unreadable; only records made since (the revocation) have a new key.
    expect(sealedBefore.filter((entry) => entry.personalData === 'erased').length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(after.audit)).not.toContain('wrong password');

    await auditor.flush();
    const verified = await request(t.app).get('/api/admin/audit/verify').set('authorization', admin);
    const verdict = adminAuditVerificationSchema.parse(verified.body);
    expect(verdict.ok).toBe(true);
    expect(verdict.chains.reduce((sum, chain) => sum + chain.checked, 0)).toBeGreaterThan(4);
  });
});
