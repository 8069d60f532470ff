import { SpanStatusCode } from '@opentelemetry/api';
import { SessionManager } from '@sessionkit/core';
import { PrivateRedis } from '@sessionkit/test-support';
import type { OtelSdk } from '@sessionkit/test-support/otel';
import { startOtelSdk } from '@sessionkit/test-support/otel';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';

// This test pauses its own server (on a port the OS handed out), never the shared one.
const server = await PrivateRedis.onFreePort();
let sdk: OtelSdk;
let client: Redis;

beforeAll(async () => {
  sdk = await startOtelSdk();
  await server.start();
  client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
});

afterAll(async () => {
  client.disconnect();
  await server.destroy();
  await sdk.shutdown();
});

async function sum(name: string, attributes: Record<string, string>): Promise<number> {
  await sdk.collect();
  return sdk.points(name, attributes).reduce((total, point) => {
    const value = point.value as number | { count: number };
    return total + (typeof value === 'number' ? value : value.count);
  }, 0);
}

describe('RedisStore under OpenTelemetry, with the real SDK and a Redis that stops answering', () => {
  it('counts a command timeout as a store error and a timeout, and the validation as an error', async () => {
    const store = new RedisStore({ client, prefix: 'sk-otel:', commandTimeoutMs: 2000 });
    const manager = new SessionManager({
      store,
      config: { secret: 'otel-redis-test-secret'.padEnd(40, '-') },
    });
    const issued = await manager.create({ userId: 'alice' });
    // Frozen (SIGSTOP) until the validation has failed: the connection stays open and nothing answers. (CLIENT
    // PAUSE ALL would hold a CLIENT UNPAUSE too, until the pause ran out.)
    server.pause();
    try {
      await expect(manager.validate(issued.token, { tier: 'full' })).rejects.toMatchObject({
        code: 'store.unavailable',
      });
    } finally {
      server.resume();
    }
    const get = { 'db.system.name': 'redis', 'db.operation.name': 'get' };
    expect(await sum('sessionkit.store.timeouts', get)).toBe(1);
    expect(await sum('sessionkit.store.errors', { ...get, 'error.type': 'store.unavailable' })).toBe(1);
    expect(await sum('sessionkit.session.validations', { 'sessionkit.outcome': 'error' })).toBe(1);
    const failed = sdk.spans().find((span) => span.name === 'sessionkit.store.get');
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes['error.type']).toBe('store.unavailable');
    const created = sdk.spans().find((span) => span.name === 'sessionkit.store.create');
    expect(created?.attributes).toMatchObject({
      'db.system.name': 'redis',
      'sessionkit.store': 'RedisStore',
    });
  });
});
