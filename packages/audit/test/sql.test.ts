import type { ManualClock } from '@sessionkit/core';
import { MemoryStore, SessionManager } from '@sessionkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SqlActivitySource, SqlAuditLedger } from '../src/sql/index.js';
import { sqlBackends, useSqlAuditTrail } from './support/sql-audit-trail.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const DAY = 86_400_000;

describe.each(sqlBackends)('SQL audit trail on %s', (_name, open) => {
  const trail = useSqlAuditTrail(open);
  const { auditorFor, records } = trail;
  let clock: ManualClock;
  let ledger: SqlAuditLedger;
  let activity: SqlActivitySource;
  beforeAll(() => {
    ({ clock, ledger, activity } = trail);
  });

  it('records the session lifecycle from core and app events, and the chain verifies', async () => {
    const auditor = auditorFor();
    const manager = new SessionManager({
      store: new MemoryStore({ now: () => clock.now() }),
      clock,
      config: { touchThrottleMs: 0, idleTimeoutMs: 2 * DAY, absoluteLifetimeMs: 3 * DAY },
    });
    auditor.attach(manager.events);
    const laptop = { ip: '203.0.113.7', userAgent: FIREFOX, requestId: 'r-1' };
    const phone = { ip: '198.51.100.20', userAgent: IPHONE, requestId: 'r-2' };

    const first = await manager.create({ userId: 'alice', tenantId: 'acme', context: laptop });
    clock.advance(DAY);
    auditor.record('auth.login_failed', {
      userId: 'alice',
      tenantId: 'acme',
      ip: phone.ip,
      userAgent: IPHONE,
      details: { method: 'password' },
    });
    auditor.record('auth.mfa_failed', {
      userId: 'alice',
      tenantId: 'acme',
      ip: phone.ip,
      userAgent: IPHONE,
      details: { factor: 'totp' },
    });
    const second = await manager.create({ userId: 'alice', tenantId: 'acme', context: phone });
    await manager.validate(first.token, { context: { ...laptop, ip: '192.0.2.55' } });
    await manager.refresh(second.refreshToken, { context: phone });
    clock.advance(60_000);
    await manager.revoke(first.session.id, { reason: 'logout', by: 'user', context: laptop });
    await manager.create({ userId: 'bob', tenantId: 'acme', context: laptop });
    expect(await auditor.close()).toBe(true);

    const actions = (
      await records()
        .selectFrom('audit_records')
        .select('action')
        .where('user_id', '=', 'alice')
        .orderBy('pos')
        .execute()
    ).map((row) => row.action);
    expect(actions).toEqual([
      'session.created',
      'auth.login_failed',
      'auth.mfa_failed',
      'session.created',
      'session.context_changed',
      'session.validated_with_warning',
      'session.refreshed',
      'session.revoked_by_user',
    ]);
    const results = await ledger.verifyAll();
    expect(results).toEqual([expect.objectContaining({ chain: 'tenant:acme', ok: true, checked: 9 })]);
  });

  it('lists a user activity newest first, paginated by cursor, per session and per device', async () => {
    const all = await activity.listActivity('alice', { limit: 100 });
    expect(all.nextCursor).toBeUndefined();
    expect(all.entries.map((entry) => entry.action)[0]).toBe('session.revoked_by_user');
    const times = all.entries.map((entry) => entry.at);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(all.entries.find((entry) => entry.action === 'auth.login_failed')).toMatchObject({
      outcome: 'failure',
      device: 'Safari 17 on iOS 17 (mobile), 198.51.100.0/24',
    });

    const paged = [];
    let cursor: string | undefined;
    do {
      const page = await activity.listActivity('alice', {
        limit: 3,
        ...(cursor === undefined ? {} : { cursor }),
      });
      expect(page.entries.length).toBeLessThanOrEqual(3);
      paged.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged.map((entry) => entry.id)).toEqual(all.entries.map((entry) => entry.id));
    await expect(activity.listActivity('alice', { limit: 3, cursor: 'garbage' })).rejects.toMatchObject({
      code: 'input.invalid',
    });

    const sessionId = all.entries.find((entry) => entry.action === 'session.revoked_by_user')
      ?.sessionId as string;
    const perSession = await activity.listActivity('alice', { limit: 100, sessionId });
    expect(perSession.entries.map((entry) => entry.action)).toEqual([
      'session.revoked_by_user',
      'session.validated_with_warning',
      'session.context_changed',
      'session.created',
    ]);

    const devices = await activity.listDevices('alice');
    expect(devices.map((device) => device.description)).toEqual([
      'Firefox 128 on Linux (desktop)',
      'Safari 17 on iOS 17 (mobile)',
    ]);
    const phone = await activity.listActivity('alice', { limit: 100, deviceKey: devices[1]?.key as string });
    expect(phone.entries.map((entry) => entry.action)).toEqual([
      'session.refreshed',
      'session.created',
      'auth.mfa_failed',
      'auth.login_failed',
    ]);
  });

  it('computes statistics for a user and for a tenant', async () => {
    const alice = await activity.userStats('alice');
    expect(alice.activeSessions).toBe(1);
    expect(alice.loginsPerDay).toEqual([
      { day: '2026-03-01', count: 1 },
      { day: '2026-03-02', count: 1 },
    ]);
    expect(alice.failures).toEqual({ total: 2, byAction: { 'auth.login_failed': 1, 'auth.mfa_failed': 1 } });
    const acme = await activity.tenantStats('acme');
    expect(acme.activeSessions).toBe(2);
    expect(acme.loginsPerDay).toEqual([
      { day: '2026-03-01', count: 1 },
      { day: '2026-03-02', count: 2 },
    ]);
    expect(acme.failures.total).toBe(2);
    expect((await activity.userStats('nobody')).activeSessions).toBe(0);
  });
});
