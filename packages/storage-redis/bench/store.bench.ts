/*
 * RedisStore throughput and latency beside raw ioredis on the same server in the same run, at 10,000, 100,000
 * and 1,000,000 stored sessions, plus memory per stored session.
 *
 *   pnpm --filter @sessionkit/storage-redis bench
 *
 * It measures the built package (what users run; `decodeRecord` for the floor row comes from source), so the
 * script builds it first.
 * Starts its own redis-server on 127.0.0.1:6394 (so a million sessions never land on a shared server) and stops
 * it at the end. BENCH_SIZES=10000,100000 limits the sizes; BENCH_SECONDS sets the seconds per figure.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { SessionRecord } from '@sessionkit/core';
import { randomToken } from '@sessionkit/core';
import { hashSecret, newSecret, newSessionId } from '@sessionkit/core/store';
import { RedisStore } from '@sessionkit/storage-redis';
import { Redis } from 'ioredis';
import { decodeRecord } from '../src/record-encoding.js';

const PORT = 6394;
const CONCURRENCY = 64;
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const PREFIX = 'bench';
const HOUR = 3_600_000;
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0';

function record(userId: string): SessionRecord {
  const now = Date.now();
  return {
    id: newSessionId(),
    userId,
    state: 'active',
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + 2 * HOUR,
    absoluteExpiresAt: now + 12 * HOUR,
    aal: 1,
    authenticatedAt: now,
    secretHash: hashSecret(newSecret()),
    refresh: { familyId: randomToken(16), generation: 0, currentHash: hashSecret(newSecret()) },
    device: {
      label: 'Firefox on Linux',
      userAgent: UA,
      firstIpHash: randomToken(32),
      lastIpHash: randomToken(32),
    },
    version: 1,
    metadata: { plan: 'pro' },
  };
}

interface Figure {
  name: string;
  ops: number;
  p50: number;
  p99: number;
}

/** `CONCURRENCY` callers issue `operation` back to back for `SECONDS`; latency is per call. */
async function measure(name: string, operation: (i: number) => Promise<unknown>): Promise<Figure> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        await operation(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { name, ops: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) };
}

async function startServer() {
  const child = spawn(
    'redis-server',
    ['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
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

async function main() {
  const server = await startServer();
  const client = new Redis({ host: '127.0.0.1', port: PORT, enableOfflineQueue: false });
  const coldClient = new Redis({ host: '127.0.0.1', port: PORT, enableOfflineQueue: false });
  const store = new RedisStore({ client, prefix: PREFIX, ownerCacheSize: 200_000 });
  const coldStore = new RedisStore({ client: coldClient, prefix: PREFIX, ownerCacheSize: 0 });
  await store.health();
  const rawSha = (await client.script('LOAD', "return redis.call('GET', KEYS[1])")) as string;

  const ids: string[] = [];
  let loaded = 0;
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
  const loadGrowth: string[] = [];
  const load = async (target: number) => {
    const before = await usedMemory();
    const t0 = performance.now();
    const from = loaded;
    let next = loaded;
    await Promise.all(
      Array.from({ length: 256 }, async () => {
        for (let i = next++; i < target; i = next++) {
          // Two sessions per user on average, the way people use a laptop and a phone.
          const session = record(`u${i >> 1}`);
          await store.create({ session, maxSessions: 10, onLimit: 'evict-oldest', now: Date.now() });
          ids[i] = session.id;
        }
      }),
    );
    loaded = target;
    const grown = (await usedMemory()) - before;
    loadGrowth.push(
      `${Math.round(grown / (target - from))} B per session over the ${(target - from).toLocaleString('en')} loaded last`,
    );
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `loaded ${target - from} sessions in ${seconds.toFixed(1)} s (${Math.round((target - from) / seconds)}/s)`,
    );
  };

  const rotationPool: { id: string; current: string }[] = [];
  for (let i = 0; i < 20_000; i += 1) {
    const session = record(`r${i}`);
    await store.create({ session, maxSessions: 10, onLimit: 'evict-oldest', now: Date.now() });
    rotationPool.push({ id: session.id, current: session.refresh?.currentHash ?? '' });
  }

  const results: { size: number; figures: Figure[]; memory: string }[] = [];
  for (const size of SIZES) {
    await load(size);
    const pick = () => ids[Math.floor(Math.random() * size)] ?? '';
    // An instance serves a working set of sessions it has seen before; their owners are cached.
    const warm = ids.slice(0, Math.min(50_000, size));
    for (const id of warm) await store.get(id);
    const pickWarm = () => warm[Math.floor(Math.random() * warm.length)] ?? '';
    const figures: Figure[] = [];
    figures.push(await measure('raw ioredis GET', () => client.get(`${PREFIX}:o:{${pick()}}`)));
    figures.push(
      await measure('raw ioredis GET of a session record (same value size as validate)', () => {
        const index = Math.floor(Math.random() * warm.length);
        return client.get(`${PREFIX}:{u${index >> 1}}:s:${warm[index]}`);
      }),
    );
    figures.push(
      await measure('raw ioredis EVALSHA', () => client.evalsha(rawSha, 1, `${PREFIX}:o:{${pick()}}`)),
    );
    figures.push(
      await measure('floor: raw GET of the record + decode and core schema check', async () => {
        const index = Math.floor(Math.random() * warm.length);
        const id = warm[index] ?? '';
        const value = await client.get(`${PREFIX}:{u${index >> 1}}:s:${id}`);
        return value === null ? undefined : decodeRecord(id, `u${index >> 1}`, value);
      }),
    );
    // 50,000 sessions outgrow the decoded-record cache (10,000 by default): most of these reads decode in full.
    figures.push(await measure('validate: get (owner cached)', () => store.get(pickWarm())));
    const hot = warm.slice(0, 5000);
    for (const id of hot) await store.get(id);
    figures.push(
      await measure('validate: get (owner cached, unchanged record decoded before)', () =>
        store.get(hot[Math.floor(Math.random() * hot.length)] ?? ''),
      ),
    );
    figures.push(await measure('validate: get (owner not cached)', () => coldStore.get(pick())));
    figures.push(
      await measure('create with limit 5 (evict-oldest)', (i) =>
        store.create({
          session: record(`c${i % 5000}`),
          maxSessions: 5,
          onLimit: 'evict-oldest',
          now: Date.now(),
        }),
      ),
    );
    figures.push(
      await measure('rotate refresh', async (i) => {
        const entry = rotationPool[i % rotationPool.length];
        if (!entry) return;
        const successorHash = hashSecret(newSecret());
        const result = await store.rotateRefresh({
          sessionId: entry.id,
          presentedHash: entry.current,
          successorHash,
          sealedSuccessor: randomToken(60),
          now: Date.now(),
          graceMs: 10_000,
          idleExpiresAt: Date.now() + 2 * HOUR,
        });
        if (result.outcome !== 'rotated') throw new Error(`rotation answered ${result.outcome}`);
        entry.current = successorHash;
      }),
    );
    results.push({
      size,
      figures,
      memory: `${await memoryPerSession(client, ids, size)}; used_memory growth ${loadGrowth.at(-1)}`,
    });
  }

  for (const { size, figures, memory } of results) {
    const get = figures[0]?.ops ?? 1;
    const evalsha = figures[2]?.ops ?? 1;
    console.log(
      `\n${size.toLocaleString('en')} stored sessions — ${CONCURRENCY} concurrent callers, ${SECONDS} s each`,
    );
    console.log('| operation | ops/s | × raw GET | × raw EVALSHA | p50 ms | p99 ms |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const f of figures) {
      console.log(
        `| ${f.name} | ${Math.round(f.ops)} | ${(f.ops / get).toFixed(2)} | ${(f.ops / evalsha).toFixed(2)} | ${f.p50.toFixed(3)} | ${f.p99.toFixed(3)} |`,
      );
    }
    console.log(memory);
  }

  await store.close();
  await coldStore.close();
  client.disconnect();
  coldClient.disconnect();
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  await exited;
}

/** MEMORY USAGE of every key a session owns (its user's indexes shared between the user's sessions). */
async function memoryPerSession(client: Redis, ids: string[], size: number) {
  const sample = Math.min(size, 100_000);
  const pipeline = client.pipeline();
  const users = new Set<string>();
  for (let i = 0; i < sample; i += 1) {
    const userId = `u${i >> 1}`;
    pipeline.memory('USAGE', `${PREFIX}:{${userId}}:s:${ids[i]}`, 'SAMPLES', '0');
    pipeline.memory('USAGE', `${PREFIX}:o:{${ids[i]}}`, 'SAMPLES', '0');
    if (!users.has(userId)) {
      users.add(userId);
      pipeline.memory('USAGE', `${PREFIX}:{${userId}}:all`, 'SAMPLES', '0');
      pipeline.memory('USAGE', `${PREFIX}:{${userId}}:live`, 'SAMPLES', '0');
    }
  }
  const replies = (await pipeline.exec()) ?? [];
  const bytes = replies.reduce((sum, [, value]) => sum + Number(value ?? 0), 0);

  return `memory: MEMORY USAGE ${Math.round(bytes / sample)} B per session (all of its keys, over ${sample.toLocaleString('en')} sessions)`;
}

await main();
