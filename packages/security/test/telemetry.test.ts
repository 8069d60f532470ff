import { context, metrics, trace } from '@opentelemetry/api';
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
import { ManualClock } from '@sessionkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BruteForceGuard, MemoryLockoutStore, MemoryRateLimiter, RequestRateLimits } from '../src/index.js';

const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
});

afterAll(async () => {
  trace.disable();
  metrics.disable();
  context.disable();
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
});

async function counted(name: string): Promise<Array<[Record<string, unknown>, unknown]>> {
  metricExporter.reset();
  await reader.forceFlush();
  const metric = metricExporter
    .getMetrics()
    .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
    .find((candidate) => candidate.descriptor.name === name);
  return (metric?.dataPoints ?? []).map((point) => [point.attributes, point.value]);
}

describe('security checks, with the real OTel SDK', () => {
  it('puts each rate-limit check in a span under the request span and counts refusals', async () => {
    const limits = new RequestRateLimits([
      new MemoryRateLimiter({
        rule: { name: 'login-ip', scope: 'ip', limit: 2, windowMs: 60_000 },
        clock: new ManualClock(),
      }),
    ]);
    await trace.getTracer('test').startActiveSpan('POST /login', async (root) => {
      for (let attempt = 0; attempt < 3; attempt += 1) await limits.check({ ipHash: 'network-hash' });
      root.end();
    });
    const request = spans.getFinishedSpans().find((span) => span.name === 'POST /login');
    const checks = spans.getFinishedSpans().filter((span) => span.name === 'sessionkit.security.rate_limit');
    expect(checks.map((span) => span.attributes['sessionkit.outcome'])).toEqual([
      'allowed',
      'allowed',
      'limited',
    ]);
    expect(checks.every((span) => span.parentSpanContext?.spanId === request?.spanContext().spanId)).toBe(
      true,
    );
    expect(await counted('sessionkit.security.rate_limit.rejections')).toEqual([
      [{ 'sessionkit.outcome': 'limited' }, 1],
    ]);
  });

  it('puts each lockout check in a span and counts the attempts it refused', async () => {
    const guard = new BruteForceGuard({
      store: new MemoryLockoutStore(),
      clock: new ManualClock(),
      random: () => 0,
    });
    const attempt = { userId: 'alice', ipHash: 'network-hash' };
    expect((await guard.check(attempt)).allowed).toBe(true);
    for (let failure = 0; failure < 20; failure += 1) await guard.recordFailure(attempt);
    expect((await guard.check(attempt)).allowed).toBe(false);
    const checks = spans.getFinishedSpans().filter((span) => span.name === 'sessionkit.security.lockout');
    expect(checks.map((span) => span.attributes['sessionkit.outcome'])).toEqual(['allowed', 'locked']);
    expect(await counted('sessionkit.security.lockouts')).toEqual([[{}, 1]]);
  });
});
