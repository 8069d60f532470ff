import { context, metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditSink } from '../src/index.js';
import { Auditor, MemoryLedger } from '../src/index.js';
import { integrityKeys, ipKeys } from './support/keys.js';

const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
const provider = new MeterProvider({ readers: [reader] });

beforeAll(() => {
  metrics.setGlobalMeterProvider(provider);
});

afterAll(async () => {
  metrics.disable();
  context.disable();
  await provider.shutdown();
});

async function points(name: string): Promise<Array<[unknown, unknown]>> {
  exporter.reset();
  await reader.forceFlush();
  const metric = exporter
    .getMetrics()
    .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
    .find((candidate) => candidate.descriptor.name === name);
  return (metric?.dataPoints ?? []).map((point) => [point.attributes, point.value]);
}

describe('audit metrics, with the real OTel SDK', () => {
  it('reports the backlog of a stuck sink and counts the records it had to drop', async () => {
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sink: AuditSink = { name: 'slow', write: () => stuck };
    const auditor = new Auditor({
      ledger: new MemoryLedger({ keys: integrityKeys }),
      sinks: [sink],
      ip: { keys: ipKeys },
      sinkBuffer: { maxRecords: 3, batchSize: 1 },
    });
    for (let i = 0; i < 6; i += 1) auditor.record('auth.login_failed', { userId: `user-${i}` });
    await expect
      .poll(async () => (await points('sessionkit.audit.dropped')).length, { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect(await points('sessionkit.audit.dropped')).toEqual([
      [{ 'sessionkit.audit.stage': 'slow', 'sessionkit.audit.cause': 'overflow' }, 3],
    ]);
    const waiting = auditor.stats.sinks.slow?.pending;
    expect(waiting).toBeGreaterThan(0);
    expect(await points('sessionkit.audit.backlog')).toContainEqual([
      { 'sessionkit.audit.stage': 'slow' },
      waiting,
    ]);
    release();
    expect(await auditor.close()).toBe(true);
  });
});
