/**
 * Validation throughput of the fast tier (JWT access tokens) against raw `jose.jwtVerify` on the same key,
 * and of the full tier on the in-memory store, all in one run. Baseline and candidate run in alternating short
 * rounds and the median of the per-round ratios is reported, so load from other processes on a shared machine
 * hits both sides alike. Run with `pnpm --filter @sessionkit/core bench`.
 */
import { jwtVerify } from 'jose';
import { AccessTokenKeyRing } from '../src/access-token.js';
import { systemClock } from '../src/clock.js';
import { MemoryStore } from '../src/memory-store.js';
import { SessionManager } from '../src/session-manager.js';

const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 250);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

type Operation = () => Promise<unknown>;

async function round(operation: Operation): Promise<number> {
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ROUND_MS) {
    await operation();
    count += 1;
  }
  return (count * 1000) / (performance.now() - start);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Alternates baseline and candidate rounds; returns median ops/s of each and the median ratio. */
async function compare(baseline: Operation, candidate: Operation) {
  for (let i = 0; i < 200; i += 1) {
    await baseline();
    await candidate();
  }
  const base: number[] = [];
  const cand: number[] = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    base.push(await round(baseline));
    cand.push(await round(candidate));
  }
  return {
    base: median(base),
    cand: median(cand),
    ratio: median(cand.map((value, i) => value / (base[i] ?? 1))),
  };
}

const rows: string[] = [];
const fmt = (value: number) => Math.round(value).toLocaleString('en-US');

for (const alg of ['EdDSA', 'ES256'] as const) {
  const keys = await AccessTokenKeyRing.generate(
    { issuer: 'bench', audience: 'bench', ttlMs: 3_600_000, clock: systemClock },
    alg,
  );
  const store = new MemoryStore();
  const manager = new SessionManager({ store, accessTokens: keys });
  const issued = await manager.create({ userId: 'bench' });
  const publicKey = keys.signingKey.publicKey;
  const tokens: string[] = [];
  for (let i = 0; i < 60_000; i += 1) {
    const signed = await keys.sign({
      userId: `u${i}`,
      sessionId: issued.session.id,
      aal: 1,
      authenticatedAt: Date.now(),
    });
    tokens.push(signed.token);
  }
  let rawIndex = 0;
  const raw: Operation = () => {
    rawIndex = (rawIndex + 1) % tokens.length;
    return jwtVerify(tokens[rawIndex] ?? '', publicKey, {
      algorithms: [alg],
      issuer: 'bench',
      audience: 'bench',
    });
  };
  let firstIndex = 0;
  const firstSeen: Operation = () => {
    const token = tokens[firstIndex];
    firstIndex += 1;
    if (token === undefined) throw new Error('bench ran out of first-seen tokens');
    return manager.validate(token, { tier: 'fast' });
  };
  const repeated: Operation = () => manager.validate(issued.accessToken, { tier: 'fast' });
  const first = await compare(raw, firstSeen);
  const again = await compare(raw, repeated);
  rows.push(`| ${alg} | raw jose.jwtVerify | ${fmt(first.base)} | 1.00 | |`);
  rows.push(
    `| ${alg} | fast tier, first-seen token | ${fmt(first.cand)} | ${first.ratio.toFixed(2)} | >= 0.9 |`,
  );
  rows.push(
    `| ${alg} | fast tier, repeated token | ${fmt(again.cand)} | ${again.ratio.toFixed(1)} | >= 20 |`,
  );
  await store.close();
}

const store = new MemoryStore();
const full = new SessionManager({ store, config: { maxSessionsPerUser: 10_000 } });
const cached = new SessionManager({
  store,
  config: { maxSessionsPerUser: 10_000, validationCache: { enabled: true } },
});
const opaque: string[] = [];
for (let i = 0; i < 10_000; i += 1) opaque.push((await full.create({ userId: `u${i % 100}` })).token);
const cycle = (tokens: readonly string[]) => {
  let index = 0;
  return () => {
    index = (index + 1) % tokens.length;
    return tokens[index] ?? '';
  };
};
const nextFull = cycle(opaque);
const nextCached = cycle(opaque);
const opaqueRun = await compare(
  () => full.validate(nextFull(), { tier: 'full' }),
  () => cached.validate(nextCached(), { tier: 'fast' }),
);
rows.push(`| opaque | full tier, in-memory store | ${fmt(opaqueRun.base)} | 1.00 | |`);
rows.push(
  `| opaque | fast tier, local cache (1 s) | ${fmt(opaqueRun.cand)} | ${opaqueRun.ratio.toFixed(2)} | |`,
);
await store.close();

console.log(`validate throughput, ${ROUNDS} alternating rounds of ${ROUND_MS} ms, medians\n`);
console.log('| token | operation | ops/s | ratio to baseline | target |\n| --- | --- | ---: | ---: | --- |');
for (const row of rows) console.log(row);
