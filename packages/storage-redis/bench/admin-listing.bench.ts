/*
 * The operator's listing and statistics on Redis at scale: memory of the creation-time indexes, page latency at
 * the top and deep in the list, filtered pages, and statistics per tenant and over everything.
 *
 *   npx tsx --conditions=@sessionkit/source packages/storage-redis/bench/admin-listing.bench.ts
 *
 * Starts its own redis-server on 127.0.0.1:7600 (a million sessions never land on the shared server) and stops
 * it at the end. BENCH_SESSIONS (default 1,000,000) sessions over 100 tenants (one of them, `t0`, holds 10 %),
 * two per user, 1 % suspended, 2 % on mobile. BENCH_ROUNDS rounds (default 5) interleave the variants; each
 * figure is the median over rounds, with the spread and this process's CPU per page beside it.
 */
import { spawn } from 'node:child_process';
import type { SessionRecord } from '@sessionkit/core';
import type { SessionQuery } from '@sessionkit/core/store';
import { hashSecret, newSecret, newSessionId } from '@sessionkit/core/store';
import { Redis } from 'ioredis';
import { RedisStore } from '../src/index.js';

const PORT = 7600;
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PAGES_PER_ROUND = 20;
const HOUR = 3_600_000;
const PREFIX = 'adm';

function tenantOf(i: number): string {
  return i % 10 === 0 ? 't0' : `t${1 + (i % 99)}`;
}

function record(i: number, base: number): SessionRecord {
  const createdAt = base + i;
  return {
    id: newSessionId(),
    userId: `u${i >> 1}`,
    tenantId: tenantOf(i),
    state: 'active',
    createdAt,
    lastSeenAt: createdAt,
    idleExpiresAt: createdAt + 6 * HOUR,
    absoluteExpiresAt: createdAt + 12 * HOUR,
    aal: 1,
    authenticatedAt: createdAt,
    secretHash: hashSecret(newSecret()),
    device: {
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0',
      fingerprint: { browser: 'Firefox', os: 'Linux', deviceType: i % 50 === 0 ? 'mobile' : 'desktop' },
    },
    version: 1,
    metadata: {},
  };
}

async function startServer() {
  const child = spawn(
    'redis-server',
    ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const probe = new Redis({ port: PORT, lazyConnect: true, retryStrategy: () => 50 });
  probe.on('error', () => {});
  await probe.connect().catch(() => undefined);
  for (let i = 0; i < 200 && (await probe.ping().catch(() => '')) !== 'PONG'; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  probe.disconnect();
  return child;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const spread = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;

async function main() {
  const server = await startServer();
  const client = new Redis({ host: '127.0.0.1', port: PORT, enableOfflineQueue: false });
  const store = new RedisStore({ client, prefix: PREFIX, commandTimeoutMs: 60_000 });
  try {
    const base = Date.now() - SESSIONS - 1000;
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        for (let i = next++; i < SESSIONS; i = next++) {
          const session = record(i, base);
          await store.create({ session, maxSessions: 10, onLimit: 'evict-oldest', now: Date.now() });
          if (i % 100 === 1) await store.update({ ...session, state: 'suspended' }, 1);
        }
      }),
    );
    console.log(`loaded ${SESSIONS} sessions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const info = await client.info('memory');
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1]);
    let indexBytes = 0;
    for (const tenant of [undefined, 't0', ...Array.from({ length: 99 }, (_, k) => `t${k + 1}`)]) {
      const key = tenant === undefined ? `${PREFIX}:{created}:all` : `${PREFIX}:{t:${tenant}}:created`;
      indexBytes += Number(await client.memory('USAGE', key, 'SAMPLES', '0'));
    }
    console.log(
      `memory: ${(used / 2 ** 20).toFixed(0)} MiB in all, creation indexes ${(indexBytes / 2 ** 20).toFixed(0)} MiB ` +
        `(${((100 * indexBytes) / used).toFixed(1)} %, ${(indexBytes / SESSIONS).toFixed(0)} B per session)`,
    );

    const now = Date.now();
    const deepCursor = async (query: Omit<SessionQuery, 'now' | 'limit'>, depth: number) => {
      let cursor: string | undefined;
      for (let read = 0; read < depth; read += 500) {
        const page = await store.listSessions({ ...query, limit: 500, now, ...(cursor ? { cursor } : {}) });
        cursor = page.nextCursor;
      }
      return cursor;
    };
    const deepGlobal = await deepCursor({}, Math.floor(SESSIONS / 2));
    const deepTenant = await deepCursor({ tenantId: 't0' }, Math.floor(SESSIONS / 20));
    const variants: [string, Omit<SessionQuery, 'now'>][] = [
      ['global, first page of 50', { limit: 50 }],
      ['global, page of 50 halfway down', { limit: 50, ...(deepGlobal ? { cursor: deepGlobal } : {}) }],
      ['tenant t0 (10 %), first page of 50', { tenantId: 't0', limit: 50 }],
      [
        'tenant t0, page of 50 halfway down',
        { tenantId: 't0', limit: 50, ...(deepTenant ? { cursor: deepTenant } : {}) },
      ],
      ['tenant t5 (1 %), suspended only', { tenantId: 't5', state: 'suspended', limit: 50 }],
      ['global, mobile only (2 %)', { deviceType: 'mobile', limit: 50 }],
      ['one user', { userId: 'u1234', limit: 50 }],
    ];
    const wall = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    const sizes = new Map<string, number>();
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, query] of variants) {
        const c0 = process.cpuUsage();
        const w0 = performance.now();
        let page = await store.listSessions({ ...query, now });
        for (let i = 1; i < PAGES_PER_ROUND; i += 1) page = await store.listSessions({ ...query, now });
        const w = (performance.now() - w0) / PAGES_PER_ROUND;
        const c = process.cpuUsage(c0);
        sizes.set(name, page.sessions.length);
        wall.set(name, [...(wall.get(name) ?? []), w]);
        cpu.set(name, [...(cpu.get(name) ?? []), (c.user + c.system) / 1000 / PAGES_PER_ROUND]);
      }
    }
    console.log(`\npage latency, median of ${ROUNDS} interleaved rounds of ${PAGES_PER_ROUND} pages (ms)`);
    console.log('variant | sessions on page | wall ms (spread) | client CPU ms');
    for (const [name] of variants) {
      const w = wall.get(name) ?? [];
      const c = cpu.get(name) ?? [];
      console.log(
        `${name} | ${sizes.get(name)} | ${median(w).toFixed(2)} (${spread(w)}) | ${median(c).toFixed(2)}`,
      );
    }

    for (const tenantId of ['t5', 't0', undefined]) {
      const s0 = performance.now();
      const c0 = process.cpuUsage();
      const stats = await store.sessionStats({
        ...(tenantId === undefined ? {} : { tenantId }),
        from: now - HOUR,
        to: now,
        now,
      });
      const c = process.cpuUsage(c0);
      console.log(
        `stats ${tenantId ?? 'global'}: ${((performance.now() - s0) / 1000).toFixed(2)} s wall, ` +
          `${((c.user + c.system) / 1e6).toFixed(2)} s client CPU, ${JSON.stringify(stats)}`,
      );
    }
  } finally {
    await store.close();
    client.disconnect();
    server.kill('SIGTERM');
  }
}

await main();
