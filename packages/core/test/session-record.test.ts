import { describe, expect, it } from 'vitest';
import { parseSessionConfig } from '../src/config.js';
import { parseStoredSession } from '../src/session-record.js';
import { sampleRecord } from '../src/store-kit/sample-record.js';

describe('session record', () => {
  it('round-trips through its stored form exactly, dates included', () => {
    const record = sampleRecord({
      tenantId: 't',
      revokedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      revokeReason: 'x',
    });
    const restored = parseStoredSession(JSON.parse(JSON.stringify(record)));
    expect(restored).toEqual(record);
    expect(new Date(restored.revokedAt ?? 0).toISOString()).toBe('2026-01-02T03:04:05.678Z');
  });

  it('turns corrupt or foreign values into store.corrupt, never a wrong session', () => {
    expect(() => parseStoredSession('{not json')).toThrow(expect.objectContaining({ code: 'store.corrupt' }));
    expect(() => parseStoredSession({ cookie: { maxAge: 1 } })).toThrow(
      expect.objectContaining({ code: 'store.corrupt' }),
    );
    const tampered = { ...sampleRecord(), state: 'superuser' };
    expect(() => parseStoredSession(tampered)).toThrow(expect.objectContaining({ code: 'store.corrupt' }));
    const huge = sampleRecord({ metadata: { blob: 'x'.repeat(17_000) } });
    expect(() => parseStoredSession(huge)).toThrow(expect.objectContaining({ code: 'store.corrupt' }));
  });
});

describe('session config', () => {
  it('has safe defaults', () => {
    const config = parseSessionConfig();
    expect(config).toMatchObject({
      idleTimeoutMs: 30 * 60_000,
      absoluteLifetimeMs: 12 * 3_600_000,
      onLimit: 'evict-oldest',
      requiredAal: 1,
      freshnessMaxAgeMs: 15 * 60_000,
      refresh: { enabled: true, graceMs: 10_000 },
      contextChange: { ip: 'flag', device: 'flag' },
      validationCache: { enabled: false, maxAgeMs: 1000 },
    });
  });

  it('throws input.invalid naming each bad field', () => {
    const attempt = () =>
      parseSessionConfig({
        idleTimeoutMs: -1,
        onLimit: 'drop',
        contextChange: { ip: 'ignore' },
        refresh: { graceMs: 'x' },
      });
    expect(attempt).toThrow(expect.objectContaining({ code: 'input.invalid' }));
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      for (const field of ['idleTimeoutMs', 'onLimit', 'contextChange.ip', 'refresh.graceMs'])
        expect(message).toContain(field);
    }
    expect(() => parseSessionConfig({ idleTimeoutMs: 60_000, absoluteLifetimeMs: 1000 })).toThrow(
      /absoluteLifetimeMs/,
    );
    expect(() => parseSessionConfig({ ipHashKey: 'short' })).toThrow(/ipHashKey/);
  });
});

describe('session view', () => {
  it('never lets hashes, refresh state or reserved metadata out', async () => {
    const { toView } = await import('../src/session-view.js');
    const view = toView(sampleRecord({ metadata: { plan: 'pro', 'sk.upstream': 'sealed' } }));
    expect(view.metadata).toEqual({ plan: 'pro' });
    for (const key of ['secretHash', 'refresh', 'transfer', 'version']) expect(view).not.toHaveProperty(key);
    expect(view.device).not.toHaveProperty('firstIpHash');
  });

  it('carries every other field of the record, so a new field is a decision, not an accident', async () => {
    const { toView } = await import('../src/session-view.js');
    const { sessionRecordSchema, deviceSchema } = await import('../src/session-record.js');
    const secret = new Set(['secretHash', 'refresh', 'transfer', 'version']);
    const record = sampleRecord({
      tenantId: 't1',
      parentId: 'p'.repeat(22),
      revokedAt: 5,
      revokeReason: 'user',
      device: { label: 'l', userAgent: 'ua', fingerprint: { a: 'b' }, firstIpHash: 'f', lastIpHash: 'g' },
    });
    const view = toView(record);
    for (const key of Object.keys(sessionRecordSchema.shape)) {
      if (secret.has(key)) continue;
      expect(view, key).toHaveProperty(key);
    }
    for (const key of Object.keys(deviceSchema.shape)) {
      if (key !== 'firstIpHash') expect(view.device, key).toHaveProperty(key);
    }
    view.device.fingerprint = { changed: 'yes' };
    expect(record.device.fingerprint).toEqual({ a: 'b' });
  });
});
