import { InvalidInputError } from '@sessionkit/core';
import { describe, expect, it } from 'vitest';
import { Auditor, auditActionNames, auditActions, MemoryLedger } from '../src/index.js';
import { collectingSink } from './support/collecting-sink.js';
import { integrityKeys, ipKeys } from './support/keys.js';

describe('action taxonomy', () => {
  it('has at least 25 stable, dot-separated names, each with a category, severity, outcome and details schema', () => {
    expect(auditActionNames.length).toBeGreaterThanOrEqual(25);
    for (const name of auditActionNames) {
      expect(name).toMatch(/^[a-z]+\.[a-z_]+$/);
      const spec = auditActions[name];
      expect(name.startsWith(`${spec.category}.`)).toBe(true);
      expect(['info', 'warning', 'critical']).toContain(spec.severity);
      expect(['success', 'failure']).toContain(spec.outcome);
    }
    // Stored records key on these names; renaming one is a breaking change this test makes visible.
    expect(auditActionNames).toEqual(
      expect.arrayContaining([
        'session.created',
        'session.validated_with_warning',
        'session.refreshed',
        'session.stepped_up',
        'session.revoked_by_user',
        'session.revoked_by_admin',
        'session.revoked_by_policy',
        'session.expired',
        'session.evicted',
        'session.transferred',
        'session.context_changed',
        'token.reuse_detected',
        'security.rate_limited',
        'security.locked_out',
        'auth.login_failed',
        'auth.mfa_failed',
        'auth.logout',
        'admin.user_sessions_revoked',
      ]),
    );
  });

  it('types and validates details per action, rejecting bad input with input.invalid before queueing', async () => {
    const sink = collectingSink();
    const auditor = new Auditor({
      ledger: new MemoryLedger({ keys: integrityKeys }),
      sinks: [sink],
      ip: { keys: ipKeys },
    });
    expect(() =>
      // @ts-expect-error retryAfterMs must be a number
      auditor.record('security.rate_limited', { details: { limiter: 'login', retryAfterMs: 'soon' } }),
    ).toThrow(InvalidInputError);
    expect(() =>
      // @ts-expect-error not an action
      auditor.record('session.exploded', {}),
    ).toThrow(expect.objectContaining({ code: 'input.invalid' }));
    expect(() => auditor.record('auth.login_failed', { ip: 'not-an-ip' })).toThrow(InvalidInputError);
    expect(() => auditor.record('auth.logout', { details: { blob: 'x'.repeat(5000) } })).toThrow(
      InvalidInputError,
    );

    auditor.record('security.rate_limited', {
      userId: 'u1',
      details: { limiter: 'login', retryAfterMs: 30_000, limit: 5 },
    });
    auditor.record('auth.logout', { userId: 'u1', sessionId: 'Sx', reason: 'user clicked sign out' });
    expect(await auditor.flush()).toBe(true);
    expect(sink.records.map((record) => record.action)).toEqual(['security.rate_limited', 'auth.logout']);
    const [limited, logout] = sink.records;
    expect(limited).toMatchObject({
      category: 'security',
      severity: 'warning',
      outcome: 'failure',
      actor: { type: 'user', id: 'u1' },
      details: { limiter: 'login', retryAfterMs: 30_000, limit: 5 },
    });
    expect(logout).toMatchObject({ outcome: 'success', reason: 'user clicked sign out', details: {} });
    expect(auditor.stats).toMatchObject({ recorded: 2, written: 2, dropped: 0 });
    await auditor.close();
  });
});
