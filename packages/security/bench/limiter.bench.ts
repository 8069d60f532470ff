/**
 * Limiter throughput and latency on the real Redis at 127.0.0.1:6379, same rule for everyone:
 *   sessionkit   RedisRateLimiter.consume (GCRA, one EVALSHA, own deadline watch, result object)
 *   sessionkit, client commandTimeout 250: the same on a client that also arms ioredis' per-command timer
 *   raw EVALSHA  the very same script sent with redis.evalsha: the floor our wrapper adds to
 *   rlf          rate-limiter-flexible RateLimiterRedis.consume (fixed window, one EVALSHA)
 * Each contender gets its own connection and CONCURRENCY callers in a loop for ROUND_MS; rounds are
 * interleaved (order rotated) and medians are reported. Run: pnpm --filter @sessionkit/security bench
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RedisRateLimiter } from '../src/index.js';
import { gcraLua } from '../src/redis-rate-limiter.js';

const CONCURRENCY = 32;
const ROUND_MS = 300;
const ROUNDS = 9;
const KEYS = 10_000;
const rule = { name: 'bench', scope: 'user', limit: 1_000_000, windowMs: 60_000, blockMs: 0 } as const;
const prefix = `sk-bench:${randomBytes(4).toString('hex')}:`;

type Check = (key: string) => Promise<unknown>;

/** As the README recommends: the client's own commandTimeout bounds every call. */
function connect(commandTimeout: number | undefined = 250): Redis {
  const client = new Redis({
    host: '127.0.0.1',
    port: 6379,
    ...(commandTimeout === undefined ? {} : { commandTimeout }),
  });
  client.on('error', () => {});
  return client;
}

async function contenders(): Promise<[string, Check][]> {
  const ours = new RedisRateLimiter({ redis: connect(), rule, prefix });
  const alsoClientTimeout = new RedisRateLimiter({ redis: connect(250), rule, prefix: `${prefix}t:` });
  const raw = connect();
  const sha = (await raw.script('LOAD', gcraLua(rule))) as string;
  const rlf = new RateLimiterRedis({
    storeClient: connect(),
    points: rule.limit,
    duration: rule.windowMs / 1000,
    keyPrefix: `${prefix}rlf`,
  });
  return [
    ['sessionkit RedisRateLimiter', (key) => ours.consume(key)],
    ['sessionkit, client commandTimeout 250', (key) => alsoClientTimeout.consume(key)],
    [
      'raw EVALSHA (same script)',
      (key) => {
        return raw.evalsha(sha, 1, `${prefix}raw:${key}`, Date.now());
      },
    ],
    ['rate-limiter-flexible', (key) => rlf.consume(key)],
  ];
}

interface Round {
  opsPerSec: number;
  p50: number;
  p99: number;
  /** Client CPU per check: steadier than wall-clock throughput on a machine shared with other work. */
  cpuUs: number;
}

async function round(check: Check): Promise<Round> {
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  let next = 0;
  const deadline = performance.now() + ROUND_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const key = `u:${next++ % KEYS}`;
        const t = performance.now();
        await check(key);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    opsPerSec: (latencies.length / elapsed) * 1000,
    p50: at(0.5),
    p99: at(0.99),
    cpuUs: (used.user + used.system) / latencies.length,
  };
}

async function cleanup(): Promise<void> {
  const admin = connect();
  let cursor = '0';
  do {
    const [nextCursor, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 5000);
    cursor = nextCursor;
    if (keys.length > 0) await admin.del(...keys);
  } while (cursor !== '0');
  admin.disconnect();
}

async function main(): Promise<void> {
  const all = await contenders();
  for (const [, check] of all) await Promise.all(Array.from({ length: 2000 }, (_, i) => check(`warm:${i}`)));
  const results = new Map<string, Round[]>();
  for (let r = 0; r < ROUNDS; r += 1) {
    // Rotate the order so no contender always runs first after another's burst.
    const order = [...all.slice(r % all.length), ...all.slice(0, r % all.length)];
    for (const [name, check] of order) results.set(name, [...(results.get(name) ?? []), await round(check)]);
  }
  const median = (name: string, field: keyof Round) => {
    const values = (results.get(name) ?? []).map((result) => result[field]).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)] ?? 0;
  };
  const baseline = median('rate-limiter-flexible', 'opsPerSec');
  const baselineCpu = median('rate-limiter-flexible', 'cpuUs');
  console.log(
    `limiter checks on Redis 127.0.0.1:6379 — ${CONCURRENCY} concurrent callers, ${ROUNDS} × ${ROUND_MS} ms rounds (median), ${KEYS} keys`,
  );
  console.table(
    all.map(([name]) => ({
      contender: name,
      'checks/s': Math.round(median(name, 'opsPerSec')),
      'p50 ms': Number(median(name, 'p50').toFixed(3)),
      'p99 ms': Number(median(name, 'p99').toFixed(3)),
      'client CPU µs/check': Number(median(name, 'cpuUs').toFixed(1)),
      'checks/s x rlf': Number((median(name, 'opsPerSec') / baseline).toFixed(2)),
      'CPU/check x rlf': Number((median(name, 'cpuUs') / baselineCpu).toFixed(2)),
    })),
  );
  await cleanup();
  process.exit(0);
}

await main();
