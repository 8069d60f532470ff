import { SessionKitError } from '@sessionkit/core';
import { sampleRecord } from '@sessionkit/core/store';
import { freePort, freePorts, PrivateRedis, sleep } from '@sessionkit/test-support';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/index.js';

const servers: PrivateRedis[] = [];
const clients: Redis[] = [];
const stores: RedisStore[] = [];

function storeOn(port: number, commandTimeoutMs: number, clientOptions: { enableReadyCheck?: boolean } = {}) {
  const client = new Redis({ host: '127.0.0.1', port, enableOfflineQueue: false, ...clientOptions });
  clients.push(client);
  const store = new RedisStore({ client, prefix: 'sk', commandTimeoutMs });
  stores.push(store);
  return store;
}

function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof SessionKitError ? error.code : `untyped: ${String(error)}`),
  );
}

afterAll(async () => {
  for (const store of stores) await store.close();
  for (const client of clients) client.disconnect();
  for (const server of servers) await server.destroy();
});

describe('RedisStore during a failover (own redis-servers on free ports)', () => {
  it('retries a write answered READONLY until the node is promoted, and fails in time if it never is', async () => {
    const [primaryPort = 0, replicaPort = 0] = await freePorts(2);
    const primary = new PrivateRedis(primaryPort, {
      args: ['--save', '', '--repl-diskless-sync-delay', '0'],
    });
    const replica = new PrivateRedis(replicaPort, {
      args: ['--save', '', '--replicaof', '127.0.0.1', String(primaryPort)],
    });
    servers.push(primary, replica);
    await primary.start();
    await replica.start();
    let linked = false;
    for (let attempt = 0; attempt < 100 && !linked; attempt += 1) {
      linked = (await replica.cli('info', 'replication')).includes('master_link_status:up');
      if (!linked) await sleep(50);
    }
    expect(linked).toBe(true);
    // A client still pointed at the old primary after a failover is talking to a replica.
    const impatient = storeOn(replicaPort, 200);
    const record = sampleRecord();
    expect(
      await codeOf(impatient.create({ session: record, maxSessions: 5, onLimit: 'reject', now: Date.now() })),
    ).toBe('store.unavailable');

    const patient = storeOn(replicaPort, 5000);
    const pending = patient.create({ session: record, maxSessions: 5, onLimit: 'reject', now: Date.now() });
    await sleep(300);
    await replica.cli('replicaof', 'no', 'one');
    await expect(pending).resolves.toMatchObject({ session: record, evicted: [] });
    expect(await patient.get(record.id)).toEqual(record);
  });

  it('waits out LOADING replies while Redis loads its data set, and fails in time if loading outlasts the timeout', async () => {
    const server = new PrivateRedis(await freePort(), { args: ['--save', ''] });
    servers.push(server);
    await server.start();
    const seed = storeOn(server.port, 1000);
    const record = sampleRecord();
    await seed.create({ session: record, maxSessions: 5, onLimit: 'reject', now: Date.now() });
    const filler = new Redis({ host: '127.0.0.1', port: server.port });
    clients.push(filler);
    const pipeline = filler.pipeline();
    for (let i = 0; i < 20_000; i += 1) pipeline.set(`filler:${i}`, 'x');
    await pipeline.exec();
    await server.cli('save');
    await server.stop();

    // 100 µs per key while loading 20,000 keys: about two seconds during which Redis answers LOADING.
    await server.start({
      args: ['--key-load-delay', '100', '--loading-process-events-interval-bytes', '1024'],
      untilLoading: true,
    });
    const raw = new Redis({
      host: '127.0.0.1',
      port: server.port,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
    });
    clients.push(raw);
    await expect(raw.get('filler:1')).rejects.toThrow(/^LOADING/);

    const impatient = storeOn(server.port, 100, { enableReadyCheck: false });
    expect(await codeOf(impatient.get(record.id))).toBe('store.unavailable');
    const patient = storeOn(server.port, 20_000, { enableReadyCheck: false });
    expect(await patient.get(record.id)).toEqual(record);
    expect(await server.cli('info', 'persistence')).toContain('loading:0');
  });
});
