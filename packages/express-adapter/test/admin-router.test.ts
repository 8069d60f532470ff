import type { AuditRecord } from '@sessionkit/audit';
import { Auditor, adminAuditRecorder, Keyring, MemoryLedger } from '@sessionkit/audit';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminRouter,
  adminSessionDetailSchema,
  adminSessionPageSchema,
  adminStatisticsSchema,
  requireRole,
  requireSession,
  requireTenant,
} from '../src/index.js';
import type { StoreKind, TestApp } from './harness.js';
import { testApp } from './harness.js';

const KINDS: readonly StoreKind[] = ['memory', 'redis', 'postgres'];
const INTEGRITY = new Keyring({ currentKeyId: 'k1', keys: { k1: 'i'.repeat(32) } });

describe.each(KINDS)('adminRouter over HTTP on the %s store', (kind) => {
  let t: TestApp;
  let auditor: Auditor;
  let ledger: MemoryLedger;
  let admin: string;
  const records: AuditRecord[] = [];

  beforeAll(async () => {
    ledger = new MemoryLedger({ keys: INTEGRITY });
    auditor = new Auditor({
      ledger,
      sinks: [{ name: 'collect', write: async (batch) => void records.push(...batch) }],
      ip: { keys: { currentKeyId: 'ip1', keys: { ip1: 'p'.repeat(32) } } },
    });
    t = await testApp(kind, {
      extend: (app) => {
        app.use(
          '/api/admin',
          adminRouter({ authorize: requireRole('admin'), audit: adminAuditRecorder(auditor) }),
        );
        app.get(
          '/t/:tenant/whoami',
          requireSession(),
          requireTenant((req) => String(req.params.tenant)),
          (_req, res) => {
            res.json({ ok: true });
          },
        );
      },
    });
    const login = await request(t.app)
      .post('/login')
      .send({ userId: 'root', roles: ['admin'], bearer: true });
    admin = `Bearer ${login.body.token as string}`;
  }, 120_000);

  afterAll(async () => {
    await auditor.close();
    await t.close();
  });

  const get = (path: string) => request(t.app).get(`/api/admin${path}`).set('authorization', admin);
  const post = (path: string, body: object = {}) =>
    request(t.app).post(`/api/admin${path}`).set('authorization', admin).send(body);
  const tokenFor = async (userId: string, tenantId?: string) =>
    (await t.manager.create({ userId, ...(tenantId === undefined ? {} : { tenantId }) })).token;
  const whoami = (token: string) =>
    request(t.app).get('/whoami/full').set('authorization', `Bearer ${token}`);

  it('refuses anonymous callers (401) and signed-in non-admins (403)', async () => {
    expect((await request(t.app).get('/api/admin/sessions')).status).toBe(401);
    const user = await request(t.app).post('/login').send({ userId: 'u', bearer: true });
    const res = await request(t.app)
      .get('/api/admin/sessions')
      .set('authorization', `Bearer ${user.body.token as string}`);
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('access.denied');
  });

  it('lists a tenant page by page with filters, and answers bad queries with problem+json', async () => {
    const tenant = `acme-${kind}`;
    for (const userId of ['a1', 'a2', 'a3', 'a4', 'a5']) {
      await tokenFor(userId, tenant);
      t.clock.advance(5);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await get('/sessions').query({ tenantId: tenant, limit: 2, ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      const page = adminSessionPageSchema.parse(res.body);
      seen.push(...page.sessions.map((session) => session.userId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['a5', 'a4', 'a3', 'a2', 'a1']);
    const one = adminSessionPageSchema.parse(
      (await get('/sessions').query({ tenantId: tenant, userId: 'a3' })).body,
    );
    expect(one.sessions.map((session) => session.userId)).toEqual(['a3']);

    for (const query of [
      { limit: 0 },
      { state: 'zombie' },
      { createdFrom: 'yesterday' },
      { cursor: 'forged' },
    ]) {
      const res = await get('/sessions').query(query);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.code).toBe('input.invalid');
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts/);
    }
  });

  it('shows one session with its children; 404 for an unknown one', async () => {
    const parent = await t.manager.create({ userId: 'fam' });
    const child = await t.manager.create({ userId: 'fam', parentId: parent.session.id });
    const res = await get(`/sessions/${parent.session.id}`);
    expect(res.status).toBe(200);
    const detail = adminSessionDetailSchema.parse(res.body);
    expect(detail.session.id).toBe(parent.session.id);
    expect(detail.children.map((session) => session.id)).toEqual([child.session.id]);
    expect((await get(`/sessions/${'A'.repeat(22)}`)).body.code).toBe('session.not_found');
    expect((await get('/sessions/short')).status).toBe(400);
  });

  it('suspends, resumes and revokes a session, and revokes a user and a tenant', async () => {
    const victim = await t.manager.create({ userId: 'v1' });
    const victimToken = victim.token;
    expect((await post(`/sessions/${victim.session.id}/suspend`)).body.session.state).toBe('suspended');
    expect((await whoami(victimToken)).body.code).toBe('session.suspended');
    expect((await post(`/sessions/${victim.session.id}/resume`)).body.session.state).toBe('active');
    expect((await whoami(victimToken)).status).toBe(200);
    expect((await post(`/sessions/${victim.session.id}/revoke`, { reason: 'stolen laptop' })).body).toEqual({
      revoked: 1,
    });
    expect((await whoami(victimToken)).body.code).toBe('session.revoked');

    const user = [await tokenFor('v2'), await tokenFor('v2', 'x')];
    expect((await post('/users/v2/revoke', { tenantId: 'x' })).body).toEqual({ revoked: 1 });
    expect((await whoami(user[0] ?? '')).status).toBe(200);
    expect((await whoami(user[1] ?? '')).body.code).toBe('session.revoked');

    const tenant = `doomed-${kind}`;
    const inTenant = [await tokenFor('w1', tenant), await tokenFor('w2', tenant)];
    const outside = await tokenFor('w1', 'elsewhere');
    expect((await post(`/tenants/${tenant}/revoke`)).body).toEqual({ revoked: 2 });
    for (const token of inTenant) expect((await whoami(token)).body.code).toBe('session.revoked');
    expect((await whoami(outside)).status).toBe(200);
    expect((await post('/users/v2/revoke', { reason: 'x'.repeat(500) })).status).toBe(400);
  });

  it('counts a tenant and cleans up expired sessions', async () => {
    const tenant = `stats-${kind}`;
    const issued = [await tokenFor('s1', tenant), await tokenFor('s2', tenant), await tokenFor('s3', tenant)];
    await post('/users/s1/revoke');
    const res = await get('/statistics').query({ tenantId: tenant });
    const stats = adminStatisticsSchema.parse(res.body);
    expect(stats).toMatchObject({ tenantId: tenant, live: 2, created: 3, revoked: 1, expired: 0 });
    expect(issued).toHaveLength(3);
    expect((await get('/statistics').query({ from: 10, to: 5 })).status).toBe(200);
    const cleanup = await post('/cleanup-expired');
    expect(cleanup.status).toBe(200);
    expect(cleanup.body.deleted).toBeGreaterThanOrEqual(0);
  });

  it('rejects a session presented for another tenant (requireTenant, tenant.mismatch)', async () => {
    const token = await tokenFor('tu', 'blue');
    const ok = await request(t.app).get('/t/blue/whoami').set('authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    const wrong = await request(t.app).get('/t/red/whoami').set('authorization', `Bearer ${token}`);
    expect(wrong.status).toBe(403);
    expect(wrong.body.code).toBe('tenant.mismatch');
  });

  it('exports a user and erases them', async () => {
    const token = await tokenFor('subject', 'green');
    await tokenFor('subject');
    const exported = await get('/users/subject/export');
    expect(exported.status).toBe(200);
    expect(exported.body.sessions).toHaveLength(2);
    expect(exported.body.devices).toHaveLength(2);
    const erased = await post('/users/subject/erase');
    expect(erased.body).toEqual({ userId: 'subject', revoked: 2, deleted: 2, auditRecordsShredded: 0 });
    expect((await whoami(token)).status).toBe(401);
    expect((await get('/users/subject/export')).body.sessions).toEqual([]);
  });

  it('audits every admin action with the admin as actor, failures included', async () => {
    await auditor.flush();
    const admins = records.filter((record) => record.category === 'admin');
    expect(admins.length).toBeGreaterThan(10);
    for (const record of admins) {
      expect(record.actor).toEqual({ type: 'admin', id: 'root' });
      expect(record.details.adminSessionId).toEqual(expect.any(String));
    }
    const actions = new Set(admins.map((record) => record.action));
    for (const action of [
      'admin.sessions_listed',
      'admin.session_viewed',
      'admin.session_suspended',
      'admin.session_resumed',
      'admin.session_revoked',
      'admin.user_sessions_revoked',
      'admin.tenant_sessions_revoked',
      'admin.statistics_viewed',
      'admin.expired_sessions_cleaned',
      'admin.user_data_exported',
      'admin.user_erased',
    ]) {
      expect(actions).toContain(action);
    }
    const failures = admins.filter((record) => record.outcome === 'failure');
    expect(failures.map((record) => record.reason)).toContain('input.invalid');
    expect(failures.map((record) => record.reason)).toContain('session.not_found');
  });
});
