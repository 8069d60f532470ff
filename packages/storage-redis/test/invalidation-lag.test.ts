import { metrics } from '@opentelemetry/api';
import type { DataPoint, Histogram } from '@opentelemetry/sdk-metrics';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { SessionManager } from '@sessionkit/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';
import { deleteKeys, runPrefix } from './prefix-cleanup.js';

const prefix = runPrefix();
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const clients: Redis[] = [];

function connectClient(): Redis {
  const client = new Redis({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false });
  clients.push(client);
  return client;
}

beforeAll(() => {
  metrics.setGlobalMeterProvider(meterProvider);
});

afterAll(async () => {
  const admin = new Redis({ host: '127.0.0.1', port: 6379 });
  await deleteKeys(admin, prefix);
  admin.disconnect();
  for (const client of clients) {
    client.on('error', () => {});
    client.disconnect();
  }
  metrics.disable();
  await meterProvider.shutdown();
});

async function lagPoints(): Promise<DataPoint<Histogram>[]> {
  exporter.reset();
  await reader.forceFlush();
  const metric = exporter
    .getMetrics()
    .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
    .find((candidate) => candidate.descriptor.name === 'sessionkit.invalidation.lag');
  return (metric?.dataPoints ?? []) as DataPoint<Histogram>[];
}

describe('invalidation-feed lag over Redis pub/sub, with the real OTel SDK', () => {
  it('records the lag on the instance that receives what another instance published', async () => {
    const config = { secret: 'lag-redis-test-secret'.padEnd(40, '-') };
    // Two instances, each on its own connection: only the receiver subscribes, so every point is its own.
    const publisherStore = new RedisStore({ client: connectClient(), prefix });
    const publisher = new SessionManager({ store: publisherStore, config });
    const receiverStore = new RedisStore({ client: connectClient(), prefix });
    const receiver = new SessionManager({ store: receiverStore, config });
    await receiver.start();
    try {
      const issued = await publisher.create({ userId: 'alice' });
      await publisher.stepUp(issued.session.id, { aal: 2 });
      await publisher.revoke(issued.session.id);
      const kinds = async () =>
        (await lagPoints()).map((point) => [
          point.attributes['sessionkit.invalidation.kind'],
          point.value.count,
        ]);
      await expect.poll(kinds, { timeout: 10_000 }).toEqual(
        expect.arrayContaining([
          ['changed', 1],
          ['revoked', 1],
        ]),
      );
      for (const point of await lagPoints()) {
        expect(point.value.min).toBeGreaterThanOrEqual(0);
        // Generous: a loaded machine, yet far below the unset-sentAt reading (the epoch, 56 years).
        expect(point.value.max).toBeLessThan(60);
      }
    } finally {
      await receiver.close();
      await receiverStore.close();
      await publisherStore.close();
    }
  });
});
