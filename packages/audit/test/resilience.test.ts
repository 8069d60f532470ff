import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { MemoryStore, SessionManager } from '@sessionkit/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord, DropNotice } from '../src/index.js';
import { Auditor, loggerSink, MemoryLedger, noopSink } from '../src/index.js';
import { redisStreamSink } from '../src/redis/index.js';
import { auditDb, migrateAuditSchema, SqlAuditLedger } from '../src/sql/index.js';
import { collectingSink } from './support/collecting-sink.js';
import type { TestDatabase } from './support/databases.js';
import { POSTGRES, postgresDatabase, postgresKysely } from './support/databases.js';
import { integrityKeys, ipKeys } from './support/keys.js';
import { TcpRelay } from './support/tcp-relay.js';

/** Drives the engine like requests would, each yielding to the event loop once; returns the slowest one. */
/**
 * The slowest request allowed while a sink or the ledger fails: far below a request that waited on a failing
 * sink (a 40-record backlog of 100 ms writes, or retries until the ledger's deadline), and far above the
 * event-loop stalls of a machine running two suites at once.
 */
const NO_WAIT_MS = 1000;

async function serve(manager: SessionManager, requests: number): Promise<number> {
  let slowest = 0;
  for (let index = 0; index < requests; index += 1) {
    const started = performance.now();
    const issued = await manager.create({ userId: `user-${index % 7}`, context: { ip: '203.0.113.7' } });
    await manager.validate(issued.token, { context: { ip: '203.0.113.7' } });
    slowest = Math.max(slowest, performance.now() - started);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return slowest;
}

function newManager() {
  return new SessionManager({ store: new MemoryStore(), config: { maxSessionsPerUser: 1000 } });
}

describe('a slow sink', () => {
  it('is buffered up to its bound, then drops are counted, announced once and written into the trail', async () => {
    // A real stream whose every write takes 100 ms: it applies back-pressure to the logger sink.
    const slow = new Writable({
      highWaterMark: 1024,
      write(_chunk, _encoding, done) {
        setTimeout(done, 100);
      },
    });
    const ledgerCopy = collectingSink('ledger-copy');
    const drops: DropNotice[] = [];
    const auditor = new Auditor({
      ledger: new MemoryLedger({ keys: integrityKeys }),
      sinks: [loggerSink({ stream: slow }), ledgerCopy, noopSink()],
      ip: { keys: ipKeys },
      buffer: { flushIntervalMs: 5, batchSize: 20 },
      sinkBuffer: { maxRecords: 40, batchSize: 20, writeTimeoutMs: 5000 },
      onDrop: (notice) => drops.push(notice),
    });
    const manager = newManager();
    auditor.attach(manager.events);

    const slowest = await serve(manager, 300);
    expect(slowest).toBeLessThan(NO_WAIT_MS);
    expect(await auditor.close(5000)).toBe(true);

    const stats = auditor.stats;
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.sinks.logger?.dropped).toBe(stats.dropped);
    expect(stats.sinks['ledger-copy']).toMatchObject({ dropped: 0 });
    // Announced when dropping starts (again after each report), not once per record.
    expect(drops.length).toBeGreaterThan(0);
    expect(drops.length).toBeLessThan(stats.dropped);
    expect(drops.every((notice) => notice.stage === 'logger' && notice.cause === 'overflow')).toBe(true);
    const reports = ledgerCopy.records.filter(
      (record: AuditRecord) => record.action === 'audit.records_dropped',
    );
    expect(reports.length).toBeGreaterThan(0);
    expect(reports[0]).toMatchObject({
      outcome: 'failure',
      severity: 'critical',
      details: { stage: 'logger' },
    });
    expect(ledgerCopy.records.filter((record) => record.action === 'session.created')).toHaveLength(300);
    slow.destroy();
  });
});

describe('a failing Redis sink', () => {
  it('fails its writes fast, retries, then drops and counts; the ledger and the other sinks get everything', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const redis = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    redis.on('error', () => {});
    const copy = collectingSink('copy');
    const auditor = new Auditor({
      ledger: new MemoryLedger({ keys: integrityKeys }),
      sinks: [redisStreamSink(redis, { key: 'never-written' }), copy],
      ip: { keys: ipKeys },
      buffer: { flushIntervalMs: 5 },
      sinkBuffer: { retryDelayMs: 5 },
    });
    const manager = newManager();
    auditor.attach(manager.events);
    expect(await serve(manager, 100)).toBeLessThan(NO_WAIT_MS);
    expect(await auditor.close()).toBe(true);
    const stats = auditor.stats;
    // Every record that reached the sinks, drop reports included, was dropped by this one and kept by the other.
    expect(stats.sinks['redis-stream']).toMatchObject({
      written: 0,
      dropped: copy.records.length,
      pending: 0,
    });
    expect(stats.sinks['redis-stream']?.failures).toBeGreaterThanOrEqual(3);
    expect(copy.records.filter((record) => record.action === 'session.created')).toHaveLength(100);
    expect(copy.records.find((record) => record.action === 'audit.records_dropped')).toMatchObject({
      action: 'audit.records_dropped',
      details: { stage: 'redis-stream' },
    });
    redis.disconnect();
  });

  it('refuses two sinks of one name', () => {
    expect(
      () =>
        new Auditor({
          ledger: new MemoryLedger({ keys: integrityKeys }),
          sinks: [noopSink(), noopSink()],
          ip: { keys: ipKeys },
        }),
    ).toThrow(expect.objectContaining({ code: 'input.invalid' }));
  });
});

describe('a failing SQL ledger', () => {
  let database: TestDatabase;
  let relay: TcpRelay;

  beforeAll(async () => {
    database = await postgresDatabase();
    await migrateAuditSchema(database.db, { schema: database.schema });
    relay = new TcpRelay({ host: POSTGRES.host, port: POSTGRES.port });
    await relay.start();
  });

  afterAll(async () => {
    await relay.stop();
    await database.close();
  });

  it('pointed at a port where nothing listens: requests still succeed; the bounded buffer drops and counts', async () => {
    await relay.stop();
    const unreachable = postgresKysely({ port: relay.port, connectionTimeoutMillis: 300 });
    const drops: DropNotice[] = [];
    const auditor = new Auditor({
      ledger: new SqlAuditLedger(unreachable, { schema: database.schema, keys: integrityKeys }),
      ip: { keys: ipKeys },
      buffer: { maxRecords: 100, batchSize: 50, flushIntervalMs: 5 },
      ledgerRetry: { initialDelayMs: 20, maxDelayMs: 100 },
      onDrop: (notice) => drops.push(notice),
    });
    const manager = newManager();
    auditor.attach(manager.events);
    const slowest = await serve(manager, 400);
    expect(slowest).toBeLessThan(NO_WAIT_MS);
    expect(auditor.stats.ledgerFailures).toBeGreaterThan(0);
    expect(auditor.stats.pending).toBeLessThanOrEqual(150);
    expect(drops[0]).toMatchObject({ stage: 'intake', cause: 'overflow' });
    expect(await auditor.close(300)).toBe(false);
    expect(auditor.stats.dropped).toBe(400 - auditor.stats.written);
    await unreachable.destroy();
  });

  it('recovers when the database comes back: the held batch is written, then a record of what was dropped', async () => {
    await relay.start();
    const db = postgresKysely({ port: relay.port, connectionTimeoutMillis: 300 });
    const ledger = new SqlAuditLedger(db, { schema: database.schema, keys: integrityKeys });
    const auditor = new Auditor({
      ledger,
      ip: { keys: ipKeys },
      buffer: { maxRecords: 60, batchSize: 30, flushIntervalMs: 5 },
      ledgerRetry: { initialDelayMs: 20, maxDelayMs: 100 },
      dropReportIntervalMs: 0,
    });
    const manager = newManager();
    auditor.attach(manager.events);
    await serve(manager, 20);
    expect(await auditor.flush()).toBe(true);

    await relay.stop();
    await serve(manager, 200);
    expect(auditor.stats.ledgerFailures).toBeGreaterThan(0);
    const dropped = auditor.stats.dropped;
    expect(dropped).toBeGreaterThan(0);

    await relay.start();
    expect(await auditor.close(5000)).toBe(true);
    const rows = await auditDb(database.db, { schema: database.schema })
      .selectFrom('audit_records')
      .select(['action', 'details'])
      .where('chain', '=', 'global')
      .orderBy('seq')
      .execute();
    expect(rows.filter((row) => row.action === 'session.created')).toHaveLength(220 - dropped);
    const report = rows.find((row) => row.action === 'audit.records_dropped');
    expect(report?.details).toMatchObject({ stage: 'intake', count: dropped });
    expect(await ledger.verifyChain('global')).toMatchObject({ ok: true, checked: rows.length });
    await db.destroy();
  });
});
