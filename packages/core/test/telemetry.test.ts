import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { OtelSdk, ReadableSpan } from '@sessionkit/test-support/otel';
import { startOtelSdk } from '@sessionkit/test-support/otel';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { observeLiveSessions } from '../src/live-sessions.js';
import { codeOf, harness } from './helpers.js';

let sdk: OtelSdk;
beforeEach(async () => {
  sdk = await startOtelSdk();
});
afterEach(() => sdk.shutdown());

function childrenOf(parent: ReadableSpan | undefined): ReadableSpan[] {
  const id = parent?.spanContext().spanId;
  return sdk.spans().filter((span) => id !== undefined && span.parentSpanContext?.spanId === id);
}

function sumOf(name: string, attributes: Record<string, string> = {}): number {
  return sdk.points(name, attributes).reduce((total, point) => {
    const value = point.value as number | { count: number };
    return total + (typeof value === 'number' ? value : value.count);
  }, 0);
}

describe('OpenTelemetry traces, with the real SDK', () => {
  it('puts every manager operation in a span under the caller span, and the store calls under it', async () => {
    const { manager } = await harness({ validationCache: { enabled: true } });
    await trace.getTracer('test').startActiveSpan('POST /login', { kind: SpanKind.SERVER }, async (root) => {
      const issued = await manager.create({ userId: 'alice', tenantId: 'acme' });
      await manager.validate(issued.token, { tier: 'fast' });
      await manager.validate(issued.token, { tier: 'fast' });
      await manager.validate(issued.token, { tier: 'full' });
      await manager.refresh(issued.refreshToken);
      await manager.stepUp(issued.session.id, { aal: 2 });
      await manager.revoke(issued.session.id);
      await manager.cleanup();
      root.end();
    });
    const root = sdk.spans().find((span) => span.name === 'POST /login');
    const operations = childrenOf(root);
    expect(operations.map((span) => span.name)).toEqual([
      'sessionkit.session.create',
      'sessionkit.session.validate',
      'sessionkit.session.validate',
      'sessionkit.session.validate',
      'sessionkit.session.refresh',
      'sessionkit.session.step_up',
      'sessionkit.session.revoke',
      'sessionkit.session.cleanup',
    ]);
    const [create, miss, hit, full] = operations;
    expect(create?.attributes).toMatchObject({
      'sessionkit.store': 'MemoryStore',
      'sessionkit.tenant': 'acme',
      'sessionkit.outcome': 'ok',
    });
    expect(full?.attributes).toMatchObject({ 'sessionkit.tier': 'full', 'sessionkit.outcome': 'valid' });
    expect(miss?.attributes).toMatchObject({ 'sessionkit.tier': 'fast', 'sessionkit.cache': 'miss' });
    expect(hit?.attributes).toMatchObject({
      'sessionkit.tier': 'fast',
      'sessionkit.cache': 'hit',
      'sessionkit.tenant': 'acme',
      'sessionkit.outcome': 'valid',
    });
    expect(childrenOf(hit)).toEqual([]);
    const storeCalls = childrenOf(full);
    expect(storeCalls.map((span) => span.name)).toContain('sessionkit.store.get');
    expect(storeCalls[0]?.attributes).toMatchObject({
      'db.system.name': 'memory',
      'db.operation.name': 'get',
    });
    expect(childrenOf(create).map((span) => span.name)).toEqual(['sessionkit.store.create']);
    expect(childrenOf(operations[6]).map((span) => span.name)).toContain('sessionkit.store.revokeTree');
  });

  it('marks a refused validation with status ERROR and the error code, never the message', async () => {
    const { manager } = await harness();
    const issued = await manager.create({ userId: 'alice' });
    await manager.revoke(issued.session.id);
    expect(await codeOf(manager.validate(issued.token, { tier: 'full' }))).toBe('session.revoked');
    const refused = sdk.spans().find((span) => span.attributes['sessionkit.outcome'] === 'invalid');
    expect(refused?.status.code).toBe(SpanStatusCode.ERROR);
    expect(refused?.status.message).toBeUndefined();
    expect(refused?.attributes['error.type']).toBe('session.revoked');
    expect(refused?.events).toEqual([]);
  });
});

describe('OpenTelemetry metrics, with the real SDK', () => {
  it('counts validations by tier and outcome, cache lookups, revocations by reason and store calls', async () => {
    const { manager } = await harness({ validationCache: { enabled: true } });
    const issued = await manager.create({ userId: 'alice', tenantId: 'acme' });
    await manager.validate(issued.token, { tier: 'fast' });
    await manager.validate(issued.token, { tier: 'fast' });
    await manager.validate(issued.token, { tier: 'fast' });
    await manager.validate(issued.token, { tier: 'full' });
    const rotated = await manager.refresh(issued.refreshToken);
    await manager.refresh(rotated.refreshToken);
    expect(await codeOf(manager.refresh(issued.refreshToken))).toBe('token.reuse_detected');
    expect(await codeOf(manager.validate(issued.token, { tier: 'full' }))).toBe('session.revoked');
    const other = await manager.create({ userId: 'bob' });
    await manager.revoke(other.session.id, { reason: 'logout' });
    await sdk.collect();

    const validations = 'sessionkit.session.validations';
    expect(sumOf(validations, { 'sessionkit.tier': 'full', 'sessionkit.outcome': 'valid' })).toBe(1);
    expect(sumOf(validations, { 'sessionkit.tier': 'fast', 'sessionkit.outcome': 'valid' })).toBe(3);
    expect(sumOf(validations, { 'sessionkit.outcome': 'invalid', 'error.type': 'session.revoked' })).toBe(1);
    expect(sumOf(validations, { 'sessionkit.tier': 'fast', 'sessionkit.cache': 'hit' })).toBe(2);
    expect(sumOf(validations, { 'sessionkit.tier': 'fast', 'sessionkit.cache': 'miss' })).toBe(1);
    expect(sumOf('sessionkit.session.created', { 'sessionkit.tenant': 'acme' })).toBe(1);
    expect(sumOf('sessionkit.session.refreshes')).toBe(2);
    expect(sumOf('sessionkit.token.reuse_detections')).toBe(1);
    const revocations = 'sessionkit.session.revocations';
    expect(sumOf(revocations, { 'sessionkit.revocation.reason': 'token.reuse_detected' })).toBe(1);
    expect(sumOf(revocations, { 'sessionkit.revocation.reason': 'logout' })).toBe(1);
    expect(sumOf('sessionkit.session.duration', { 'sessionkit.end': 'revoked' })).toBe(2);
    expect(sumOf('sessionkit.session.operation.duration', { 'sessionkit.operation': 'create' })).toBe(2);
    expect(sumOf('sessionkit.session.operation.duration', { 'sessionkit.operation': 'validate' })).toBe(5);
    const storeGets = { 'db.system.name': 'memory', 'db.operation.name': 'get' };
    // The three validations that reach the store. A refresh reads nothing: the memory store checks the session's
    // DPoP binding inside its rotation (checksRotationKey), so no read precedes it.
    expect(sumOf('db.client.operation.duration', storeGets)).toBe(3);
    expect(sdk.metric('db.client.operation.duration')?.descriptor.unit).toBe('s');
  });

  it('counts evictions under the per-user limit', async () => {
    const { manager } = await harness({ maxSessionsPerUser: 1 });
    await manager.create({ userId: 'alice' });
    await manager.create({ userId: 'alice' });
    await sdk.collect();
    expect(sumOf('sessionkit.session.evictions')).toBe(1);
    expect(sumOf('sessionkit.session.duration', { 'sessionkit.end': 'evicted' })).toBe(1);
  });

  it('reports live sessions by tenant from the function it is given', async () => {
    const stop = observeLiveSessions(async () => ({ acme: 3, '': 1 }));
    await sdk.collect();
    stop();
    const live = sdk.points('sessionkit.sessions.live').map((point) => [point.attributes, point.value]);
    expect(live).toEqual(
      expect.arrayContaining([
        [{ 'sessionkit.tenant': 'acme' }, 3],
        [{}, 1],
      ]),
    );
  });
});
