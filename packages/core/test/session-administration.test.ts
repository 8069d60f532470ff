import { describe, expect, it } from 'vitest';
import { codeOf, eventTypes, harness } from './helpers.js';

const MINUTE = 60_000;

describe('manager.admin', () => {
  it('lists across users with effective states and follows cursors to the end', async () => {
    const { manager, clock } = await harness({ idleTimeoutMs: 10 * MINUTE });
    const ids: string[] = [];
    for (const userId of ['u1', 'u2', 'u3', 'u4', 'u5']) {
      ids.unshift((await manager.create({ userId, tenantId: 'acme' })).session.id);
      clock.advance(1000);
    }
    await manager.create({ userId: 'u6', tenantId: 'other' });
    clock.advance(10 * MINUTE - 2500);
    // The first three are now past their idle deadline: listed as expired, not active.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await manager.admin.list({ tenantId: 'acme', limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.sessions.map((session) => session.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);
    const expired = await manager.admin.list({ tenantId: 'acme', state: 'expired' });
    expect(expired.sessions.map((session) => session.id)).toEqual(ids.slice(2));
    expect(expired.sessions.every((session) => session.state === 'expired')).toBe(true);
  });

  it('rejects bad queries with input.invalid', async () => {
    const { manager } = await harness();
    expect(await codeOf(manager.admin.list({ limit: 0 }))).toBe('input.invalid');
    expect(await codeOf(manager.admin.list({ cursor: 'garbage!' }))).toBe('input.invalid');
    expect(await codeOf(manager.admin.statistics({ from: -1 }))).toBe('input.invalid');
  });

  it('counts per tenant over a window defaulting to the last day', async () => {
    const { manager, clock } = await harness();
    const a = await manager.create({ userId: 'u1', tenantId: 'acme' });
    await manager.create({ userId: 'u2', tenantId: 'acme' });
    await manager.create({ userId: 'u3', tenantId: 'other' });
    await manager.revoke(a.session.id, { by: 'admin' });
    const stats = await manager.admin.statistics({ tenantId: 'acme' });
    expect(stats).toMatchObject({ tenantId: 'acme', live: 1, expired: 0, created: 2, revoked: 1 });
    expect(stats.to - stats.from).toBe(86_400_000);
    expect(stats.to).toBe(clock.now() + 1);
    expect(stats.at).toBe(clock.now());
    expect(await manager.admin.statistics()).toMatchObject({ live: 2, created: 3, revoked: 1 });
  });

  it('revokes a whole tenant, announcing each session, and leaves other tenants', async () => {
    const { manager, events } = await harness();
    const acme = [
      await manager.create({ userId: 'u1', tenantId: 'acme' }),
      await manager.create({ userId: 'u1', tenantId: 'acme' }),
      await manager.create({ userId: 'u2', tenantId: 'acme' }),
    ];
    const other = await manager.create({ userId: 'u1', tenantId: 'other' });
    expect(await manager.admin.revokeTenant('acme')).toBe(3);
    for (const issued of acme) expect(await codeOf(manager.validate(issued.token))).toBe('session.revoked');
    expect((await manager.validate(other.token)).tenantId).toBe('other');
    expect(eventTypes(events).filter((type) => type === 'session.revoked')).toHaveLength(3);
  });

  it('erases a user: revoked, announced, then deleted', async () => {
    const { manager, store } = await harness();
    const issued = await manager.create({ userId: 'gone', tenantId: 'acme' });
    await manager.create({ userId: 'gone' });
    await manager.create({ userId: 'stays' });
    expect(await manager.admin.eraseUser('gone')).toEqual({ revoked: 2, deleted: 2 });
    // Deleted: the token now names no session at all.
    expect(await codeOf(manager.validate(issued.token))).toBe('token.invalid');
    expect(await store.listByUser('gone')).toEqual([]);
    expect(await store.listByUser('stays')).toHaveLength(1);
  });
});

describe('tenant isolation', () => {
  it('rejects a token presented for another tenant with tenant.mismatch, at every tier', async () => {
    const { manager } = await harness({}, { withAccessTokens: true });
    const issued = await manager.create({ userId: 'u1', tenantId: 'acme' });
    const untenanted = await manager.create({ userId: 'u1' });
    expect((await manager.validate(issued.token, { tenantId: 'acme' })).tenantId).toBe('acme');
    expect(await codeOf(manager.validate(issued.token, { tenantId: 'globex' }))).toBe('tenant.mismatch');
    expect(await codeOf(manager.validate(untenanted.token, { tenantId: 'acme' }))).toBe('tenant.mismatch');
    const accessToken = issued.accessToken ?? '';
    expect(await codeOf(manager.validate(accessToken, { tenantId: 'globex', tier: 'fast' }))).toBe(
      'tenant.mismatch',
    );
    expect((await manager.validate(accessToken, { tenantId: 'acme', tier: 'fast' })).tenantId).toBe('acme');
  });

  it('applies a tenant own limit, counting only the user sessions of that tenant', async () => {
    const { manager } = await harness({
      maxSessionsPerUser: 5,
      tenantLimits: { strict: { maxSessionsPerUser: 1, onLimit: 'reject' } },
    });
    await manager.create({ userId: 'u1', tenantId: 'strict' });
    for (let i = 0; i < 4; i += 1) await manager.create({ userId: 'u1', tenantId: 'open' });
    await manager.create({ userId: 'u1' });
    expect(await codeOf(manager.create({ userId: 'u1', tenantId: 'strict' }))).toBe('limit.exceeded');
    await manager.create({ userId: 'u1', tenantId: 'open' });
    expect((await manager.list('u1', { tenantId: 'open' })).filter((s) => s.state === 'active')).toHaveLength(
      5,
    );
  });
});
