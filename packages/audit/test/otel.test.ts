import { context, trace } from '@opentelemetry/api';
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
import { MemoryStore, SessionManager } from '@sessionkit/core';
import { describe, expect, it } from 'vitest';
import { Auditor, MemoryLedger } from '../src/index.js';
import { AUDIT_COUNTER, otelSink } from '../src/otel/index.js';
import { integrityKeys, ipKeys } from './support/keys.js';

function auditorWith(sink: ReturnType<typeof otelSink>) {
  return new Auditor({
    ledger: new MemoryLedger({ keys: integrityKeys }),
    sinks: [sink],
    ip: { keys: ipKeys },
  });
}

describe('OpenTelemetry sink', () => {
  it('is a no-op when the application configures no SDK', async () => {
    const auditor = auditorWith(otelSink());
    const manager = new SessionManager({ store: new MemoryStore() });
    auditor.attach(manager.events);
    await manager.create({ userId: 'alice' });
    auditor.record('auth.login_failed', { userId: 'alice' });
    expect(await auditor.close()).toBe(true);
    expect(auditor.stats.sinks.otel).toMatchObject({ written: 2, dropped: 0, failures: 0 });
  });

  it('counts records by action and outcome and adds span events to the active span, with a real SDK', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    try {
      const auditor = auditorWith(otelSink({ meter: meterProvider.getMeter('test') }));
      const manager = new SessionManager({ store: new MemoryStore() });
      auditor.attach(manager.events);
      const tracer = tracerProvider.getTracer('test');
      await tracer.startActiveSpan('POST /login', async (span) => {
        auditor.record('auth.login_failed', { userId: 'alice' });
        await manager.create({ userId: 'alice' });
        span.end();
      });
      auditor.record('auth.login_failed', { userId: 'bob' });
      expect(await auditor.close()).toBe(true);

      await reader.forceFlush();
      const metric = exporter
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics)
        .flatMap((scope) => scope.metrics)
        .find((candidate) => candidate.descriptor.name === AUDIT_COUNTER);
      const points = (metric?.dataPoints ?? []).map((point) => [
        point.attributes['audit.action'],
        point.attributes['audit.outcome'],
        point.value,
      ]);
      expect(points).toEqual(
        expect.arrayContaining([
          ['auth.login_failed', 'failure', 2],
          ['session.created', 'success', 1],
        ]),
      );

      const [span] = spans.getFinishedSpans();
      expect(span?.name).toBe('POST /login');
      expect(span?.events.map((event) => event.name)).toEqual([
        'audit.auth.login_failed',
        'audit.session.created',
      ]);
      expect(span?.events[0]?.attributes).toEqual({
        'audit.action': 'auth.login_failed',
        'audit.category': 'auth',
        'audit.severity': 'warning',
        'audit.outcome': 'failure',
      });
    } finally {
      context.disable();
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
      expect(trace.getActiveSpan()).toBeUndefined();
    }
  });
});
