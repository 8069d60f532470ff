import { context, metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { SessionManager } from '@sessionkit/core';
import { PrivateRedis } from '@sessionkit/test-support';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';

// This test pauses its own server (on a port the OS handed out), never the shared one.
const server = await PrivateRedis.onFreePort();
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
let client: Redis;

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  await server.start();
  client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
});

afterAll(async () => {
  client.disconnect();
  await server.destroy();
  trace.disable();
  metrics.disable();
  context.disable();
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
});

async function sum(name: string, attributes: Record<string, string>): Promise<number> {
  exporter.reset();
  await reader.forceFlush();
  const metric = exporter
    .getMetrics()
    .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
    .find((candidate) => candidate.descriptor.name === name);
  return (metric?.dataPoints ?? [])
    .filter((point) => Object.entries(attributes).every(([key, value]) => point.attributes[key] === value))
    .reduce((total, point) => {
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
    const failed = spans.getFinishedSpans().find((span) => span.name === 'sessionkit.store.get');
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes['error.type']).toBe('store.unavailable');
    const created = spans.getFinishedSpans().find((span) => span.name === 'sessionkit.store.create');
    expect(created?.attributes).toMatchObject({
      'db.system.name': 'redis',
      'sessionkit.store': 'RedisStore',
    });
  });
});
