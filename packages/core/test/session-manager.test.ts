import { describe, expect, it } from 'vitest';
import type { ContextAssessor } from '../src/context-policy.js';
import { MemoryStore } from '../src/memory-store.js';
import { parseToken } from '../src/opaque-token.js';
import { SessionManager } from '../src/session-manager.js';
import { codeOf, eventTypes, harness } from './helpers.js';

const MINUTE = 60_000;

describe('create and validate', () => {
  it('issues a session token that validates with one store read and never stores the secret', async () => {
    const { manager, store, events } = await harness();
    const issued = await manager.create({ userId: 'alice', context: { ip: '203.0.113.7', userAgent: 'UA' } });
    const { sessionId, secret } = parseToken(issued.token, 'session');
    const record = await store.get(sessionId);
    expect(JSON.stringify(record)).not.toContain(secret);
    expect(record?.device.firstIpHash).toBe(manager.hashIp('203.0.113.7'));
    expect(JSON.stringify(record)).not.toContain('203.0.113.7');
    const validated = await manager.validate(issued.token);
    expect(validated).toMatchObject({ sessionId, userId: 'alice', aal: 1, source: 'store', warnings: [] });
    expect(validated.session).not.toHaveProperty('secretHash');
    expect(eventTypes(events)).toEqual(['session.created']);
  });

  it('rejects malformed, unknown and wrong-secret tokens with token.invalid and counts them', async () => {
    const { manager, events } = await harness();
    const issued = await manager.create({ userId: 'alice' });
    const [id] = issued.token.split('.');
    expect(await codeOf(manager.validate('garbage'))).toBe('token.invalid');
    expect(await codeOf(manager.validate(42))).toBe('token.invalid');
    expect(await codeOf(manager.validate(`${id}.${'A'.repeat(43)}`))).toBe('token.invalid');
    expect(await codeOf(manager.validate(`${'B'.repeat(22)}.${'A'.repeat(43)}`))).toBe('token.invalid');
    expect(manager.rejectedTokenCount).toBe(4);
    expect(events.filter((event) => event.type === 'token.rejected')).toHaveLength(4);
  });

  it('refuses invalid create input with input.invalid naming the field', async () => {
    const { manager } = await harness();
    const error = await manager.create({ userId: '' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'input.invalid' });
    expect(String((error as Error).message)).toContain('userId');
  });
});

describe('timeouts and touch', () => {
  it('enforces the idle timeout on the server and reports it', async () => {
    const { manager, clock, events, store } = await harness({ idleTimeoutMs: 10 * MINUTE });
    const { token, session } = await manager.create({ userId: 'alice' });
    clock.advance(10 * MINUTE);
    expect(await codeOf(manager.validate(token))).toBe('session.expired');
    expect((await store.get(session.id))?.state).toBe('expired');
    expect(eventTypes(events)).toContain('session.expired');
  });

  it('slides the idle deadline on use but never past the absolute lifetime', async () => {
    const { manager, clock } = await harness({ idleTimeoutMs: 10 * MINUTE, absoluteLifetimeMs: 25 * MINUTE });
    const { token } = await manager.create({ userId: 'alice' });
    for (let i = 0; i < 4; i += 1) {
      clock.advance(6 * MINUTE);
      await manager.validate(token);
    }
    clock.advance(2 * MINUTE);
    expect(await codeOf(manager.validate(token))).toBe('session.expired');
  });

  it('writes lastSeenAt at most once per throttle interval', async () => {
    const { manager, clock, store } = await harness({ touchThrottleMs: MINUTE });
    const { token, session } = await manager.create({ userId: 'alice' });
    for (let i = 0; i < 10; i += 1) {
      clock.advance(5_000);
      await manager.validate(token);
    }
    expect((await store.get(session.id))?.version).toBe(1);
    clock.advance(15_000);
    await manager.validate(token);
    expect((await store.get(session.id))?.version).toBe(2);
  });

  it('a touch racing a logout never resurrects the session', async () => {
    const { manager, clock, store } = await harness({ touchThrottleMs: 0 });
    const { token, session } = await manager.create({ userId: 'alice' });
    clock.advance(1000);
    const results = await Promise.allSettled([manager.validate(token), manager.revoke(session.id)]);
    expect(results[1].status).toBe('fulfilled');
    expect((await store.get(session.id))?.state).toBe('revoked');
    expect(await codeOf(manager.validate(token))).toBe('session.revoked');
  });
});

describe('refresh rotation', () => {
  it('rotates, serves the same successor in the grace window, and revokes the family on reuse', async () => {
    const { manager, clock, events } = await harness({ refresh: { graceMs: 5000 } });
    const issued = await manager.create({ userId: 'alice' });
    const first = await manager.refresh(issued.refreshToken);
    expect(first.refreshToken).not.toBe(issued.refreshToken);
    clock.advance(1000);
    const racing = await manager.refresh(issued.refreshToken);
    expect(racing.refreshToken).toBe(first.refreshToken);
    const second = await manager.refresh(first.refreshToken);
    expect(await codeOf(manager.refresh(issued.refreshToken))).toBe('token.reuse_detected');
    expect(await codeOf(manager.validate(issued.token))).toBe('session.revoked');
    expect(await codeOf(manager.refresh(second.refreshToken))).toBe('session.revoked');
    expect(eventTypes(events)).toContain('token.reuse_detected');
  });

  it('treats the previous token after the grace window as reuse', async () => {
    const { manager, clock } = await harness({ refresh: { graceMs: 5000 } });
    const issued = await manager.create({ userId: 'alice' });
    await manager.refresh(issued.refreshToken);
    clock.advance(6000);
    expect(await codeOf(manager.refresh(issued.refreshToken))).toBe('token.reuse_detected');
  });

  it('50 concurrent refreshes with one token all get the same successor', async () => {
    const { manager } = await harness();
    const issued = await manager.create({ userId: 'alice' });
    const results = await Promise.all(Array.from({ length: 50 }, () => manager.refresh(issued.refreshToken)));
    expect(new Set(results.map((result) => result.refreshToken)).size).toBe(1);
  });

  it('does not revoke anything for a forged refresh token naming a real session', async () => {
    const { manager } = await harness();
    const issued = await manager.create({ userId: 'alice' });
    expect(await codeOf(manager.refresh(`rt_${issued.session.id}.${'A'.repeat(43)}`))).toBe('token.invalid');
    expect(await codeOf(manager.refresh(issued.token))).toBe('token.invalid');
    await expect(manager.validate(issued.token)).resolves.toBeDefined();
  });

  it('is refused when refresh tokens are disabled', async () => {
    const { manager } = await harness({ refresh: { enabled: false } });
    const issued = await manager.create({ userId: 'alice' });
    expect(issued.refreshToken).toBeUndefined();
    expect(await codeOf(manager.refresh('rt_x'))).toBe('token.invalid');
  });
});

describe('assurance and freshness', () => {
  it('step-up raises the AAL, resets authenticatedAt and replaces the token (no fixation)', async () => {
    const { manager, clock, events } = await harness();
    const issued = await manager.create({ userId: 'alice' });
    expect(await codeOf(manager.validate(issued.token, { requiredAal: 2 }))).toBe('aal.insufficient');
    clock.advance(20 * MINUTE);
    expect(await codeOf(manager.validate(issued.token, { maxAuthAgeMs: 15 * MINUTE }))).toBe('auth.stale');
    const stepped = await manager.stepUp(issued.session.id, { aal: 2 });
    expect(stepped.token).not.toBe(issued.token);
    expect(stepped.session.id).toBe(issued.session.id);
    expect(await codeOf(manager.validate(issued.token))).toBe('token.invalid');
    const ok = await manager.validate(stepped.token, { requiredAal: 2, maxAuthAgeMs: 15 * MINUTE });
    expect(ok.aal).toBe(2);
    expect(eventTypes(events)).toContain('session.stepped_up');
  });

  it('applies the configured minimum AAL to every validation', async () => {
    const { manager } = await harness({ requiredAal: 2 });
    const low = await manager.create({ userId: 'alice' });
    expect(await codeOf(manager.validate(low.token))).toBe('aal.insufficient');
    const high = await manager.create({ userId: 'alice', aal: 2 });
    await expect(manager.validate(high.token)).resolves.toMatchObject({ aal: 2 });
  });
});

describe('revocation, limits and tenants', () => {
  it('evicts the oldest session past the per-user limit and reports it', async () => {
    const { manager, clock, events } = await harness({ maxSessionsPerUser: 2 });
    const first = await manager.create({ userId: 'alice' });
    clock.advance(1);
    await manager.create({ userId: 'alice' });
    clock.advance(1);
    await manager.create({ userId: 'alice' });
    expect(await codeOf(manager.validate(first.token))).toBe('session.revoked');
    expect(eventTypes(events)).toContain('session.evicted');
    expect((await manager.stats('alice')).active).toBe(2);
  });

  it('rejects past the limit under the reject policy', async () => {
    const { manager } = await harness({ maxSessionsPerUser: 1, onLimit: 'reject' });
    await manager.create({ userId: 'alice' });
    expect(await codeOf(manager.create({ userId: 'alice' }))).toBe('limit.exceeded');
  });

  it('revokes all of a user but the current one, within a tenant', async () => {
    const { manager } = await harness();
    const keep = await manager.create({ userId: 'alice', tenantId: 'acme' });
    const other = await manager.create({ userId: 'alice', tenantId: 'acme' });
    const elsewhere = await manager.create({ userId: 'alice', tenantId: 'globex' });
    expect(await manager.revokeAllForUser('alice', { exceptId: keep.session.id, tenantId: 'acme' })).toBe(1);
    expect(await codeOf(manager.validate(other.token))).toBe('session.revoked');
    await expect(manager.validate(keep.token)).resolves.toBeDefined();
    await expect(manager.validate(elsewhere.token)).resolves.toBeDefined();
    expect((await manager.list('alice', { tenantId: 'acme' })).map((s) => s.state).sort()).toEqual([
      'active',
      'revoked',
    ]);
  });

  it('revokes child sessions with their parent, including another user (impersonation)', async () => {
    const { manager } = await harness();
    const admin = await manager.create({ userId: 'admin', aal: 2 });
    const impersonation = await manager.create({ userId: 'bob', parentId: admin.session.id });
    const subApp = await manager.create({ userId: 'admin', parentId: admin.session.id });
    expect(await manager.revoke(admin.session.id, { by: 'user', reason: 'logout' })).toBe(3);
    expect(await codeOf(manager.validate(impersonation.token))).toBe('session.revoked');
    expect(await codeOf(manager.validate(subApp.token))).toBe('session.revoked');
    expect(await codeOf(manager.create({ userId: 'bob', parentId: admin.session.id }))).toBe(
      'session.not_found',
    );
  });

  it('suspends and resumes a session', async () => {
    const { manager } = await harness();
    const issued = await manager.create({ userId: 'alice' });
    await manager.suspend(issued.session.id);
    expect(await codeOf(manager.validate(issued.token))).toBe('session.suspended');
    await manager.resume(issued.session.id);
    await expect(manager.validate(issued.token)).resolves.toBeDefined();
  });

  it('lists effective states, counts them, and cleans up expired records', async () => {
    const { manager, clock } = await harness({ idleTimeoutMs: MINUTE });
    await manager.create({ userId: 'alice' });
    const revoked = await manager.create({ userId: 'alice' });
    await manager.revoke(revoked.session.id);
    clock.advance(2 * MINUTE);
    await manager.create({ userId: 'alice' });
    expect(await manager.stats('alice')).toEqual({ active: 1, suspended: 0, revoked: 1, expired: 1 });
    expect(await manager.cleanup({ batchSize: 1 })).toBe(2);
    expect(await manager.list('alice')).toHaveLength(1);
    expect(await manager.get('nope')).toBeUndefined();
  });

  it('answers 0 from cleanup over a store that expires records itself (no deleteExpired)', async () => {
    const store = new MemoryStore();
    // What a store with native expiry looks like to the engine (RedisStore has no deleteExpired at all).
    Object.defineProperty(store, 'deleteExpired', { value: undefined });
    const manager = new SessionManager({ store });
    expect(await manager.cleanup({ batchSize: 1 })).toBe(0);
    await store.close();
  });
});

describe('transfer', () => {
  it('takeover moves the session to a new device, caps AAL and is single use', async () => {
    const { manager, events } = await harness();
    const original = await manager.create({ userId: 'alice', aal: 2 });
    const { code } = await manager.createTransferCode(original.session.id, { mode: 'takeover' });
    const taken = await manager.redeemTransferCode(code, { deviceLabel: 'Tablet' });
    expect(taken.session.aal).toBe(1);
    expect(taken.session.device.label).toBe('Tablet');
    expect(await codeOf(manager.validate(original.token))).toBe('session.revoked');
    expect(await codeOf(manager.redeemTransferCode(code))).toBe('transfer.invalid');
    expect(eventTypes(events)).toContain('session.transferred');
  });

  it('fork keeps the original and keeps AAL when re-verified; only the app metadata moves', async () => {
    const { manager, store } = await harness();
    const original = await manager.create({
      userId: 'alice',
      aal: 2,
      metadata: { plan: 'pro', 'sk.upstream': 'sealed' },
    });
    const { code } = await manager.createTransferCode(original.session.id, { mode: 'fork' });
    const forked = await manager.redeemTransferCode(code, { reverifiedAal: 2 });
    expect(forked.session.aal).toBe(2);
    expect((await store.get(forked.session.id))?.metadata).toEqual({ plan: 'pro' });
    await expect(manager.validate(original.token)).resolves.toBeDefined();
    await expect(manager.validate(forked.token)).resolves.toBeDefined();
  });

  it('rejects expired, forged and concurrent second redemptions', async () => {
    const { manager, clock } = await harness({ transfer: { ttlMs: MINUTE } });
    const original = await manager.create({ userId: 'alice' });
    const first = await manager.createTransferCode(original.session.id, { mode: 'fork' });
    clock.advance(2 * MINUTE);
    expect(await codeOf(manager.redeemTransferCode(first.code))).toBe('transfer.invalid');
    expect(await codeOf(manager.redeemTransferCode('tc_nonsense'))).toBe('transfer.invalid');
    expect(await codeOf(manager.redeemTransferCode(`tc_${original.session.id}.${'A'.repeat(43)}`))).toBe(
      'transfer.invalid',
    );
    const second = await manager.createTransferCode(original.session.id, { mode: 'fork' });
    const codes = await Promise.all(
      Array.from({ length: 10 }, () => codeOf(manager.redeemTransferCode(second.code))),
    );
    expect(codes.filter((code) => code === 'resolved')).toHaveLength(1);
  });
});

describe('context policy', () => {
  it('flags an IP change with a warning and an event, then accepts the new IP', async () => {
    const { manager, events } = await harness({ contextChange: { ip: 'flag' } });
    const { token } = await manager.create({ userId: 'alice', context: { ip: '198.51.100.1' } });
    const moved = await manager.validate(token, { context: { ip: '203.0.113.9' } });
    expect(moved.warnings).toEqual(['ip.changed']);
    expect(eventTypes(events)).toContain('session.context_changed');
    expect((await manager.validate(token, { context: { ip: '203.0.113.9' } })).warnings).toEqual([]);
  });

  it('demotes to AAL 1 on a device change under step-up', async () => {
    const { manager } = await harness({ contextChange: { device: 'step-up' } });
    const { token } = await manager.create({ userId: 'alice', aal: 2, context: { userAgent: 'Firefox' } });
    const result = await manager.validate(token, { context: { userAgent: 'curl' } });
    expect(result.aal).toBe(1);
    expect(result.warnings).toContain('step-up.required');
    expect(await codeOf(manager.validate(token, { requiredAal: 2 }))).toBe('aal.insufficient');
  });

  it('a request without the user agent the session recorded is a device change, at the device policy', async () => {
    const { manager, events } = await harness({ contextChange: { device: 'step-up' } });
    const { token } = await manager.create({
      userId: 'alice',
      aal: 2,
      context: { ip: '198.51.100.1', userAgent: 'Firefox' },
    });
    const stripped = await manager.validate(token, { context: { ip: '198.51.100.1', requestId: 'r-1' } });
    expect(stripped.warnings).toEqual(['device.missing', 'step-up.required']);
    expect(stripped.aal).toBe(1);
    expect(events.find((event) => event.type === 'session.context_changed')).toMatchObject({
      action: 'step-up',
      reasons: ['device.missing'],
    });
    // An empty context is a server-side check (introspection): there is no client to compare.
    expect((await manager.validate(token)).warnings).toEqual([]);
  });

  it('revokes on an IP change under revoke', async () => {
    const { manager } = await harness({ contextChange: { ip: 'revoke' } });
    const { token } = await manager.create({ userId: 'alice', context: { ip: '198.51.100.1' } });
    expect(await codeOf(manager.validate(token, { context: { ip: '203.0.113.9' } }))).toBe(
      'context.rejected',
    );
    expect(await codeOf(manager.validate(token, { context: { ip: '198.51.100.1' } }))).toBe(
      'session.revoked',
    );
  });

  it('applies the most severe action of any plugged-in assessor', async () => {
    const paranoid: ContextAssessor = { assess: () => ({ action: 'revoke', reasons: ['risk.high'] }) };
    const { manager } = await harness({}, { assessors: [paranoid] });
    const { token } = await manager.create({ userId: 'alice' });
    const error = await manager.validate(token).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'context.rejected', details: { reasons: ['risk.high'] } });
  });
});

describe('events', () => {
  it('isolates a throwing listener from the operation', async () => {
    const { manager } = await harness();
    manager.events.subscribe(() => {
      throw new Error('listener bug');
    });
    await expect(manager.create({ userId: 'alice' })).resolves.toBeDefined();
  });
});
