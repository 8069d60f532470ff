import { randomBytes } from 'node:crypto';
import { ManualClock, SessionManager } from '@sessionkit/core';
import { RedisStore } from '@sessionkit/storage-redis';
import { afterAll, describe, expect, it } from 'vitest';
import { deviceFingerprint, RedisEventLog, RedisProfileStore, RiskEngine } from '../src/index.js';
import { redisFixture } from './redis-fixture.js';

const redis = redisFixture();
const stores: RedisStore[] = [];
const managers: SessionManager[] = [];
afterAll(async () => {
  for (const manager of managers) await manager.close();
  for (const store of stores) await store.close();
  await redis.cleanup();
});

const ipHashKey = randomBytes(32).toString('base64url');
const networkHashKey = randomBytes(32).toString('base64url');
const MINUTE = 60_000;

const legit = {
  ip: '203.0.113.10',
  fingerprint: deviceFingerprint({
    userAgent:
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    timezone: 'Europe/Berlin',
    clientId: 'laptop-client-id-0001',
  }),
};
const hijacker = {
  ip: '198.51.100.77',
  fingerprint: deviceFingerprint({
    userAgent:
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    timezone: 'America/Sao_Paulo',
    clientId: 'attacker-phone-0042',
  }),
};
const resolveNetwork = (ip: string) =>
  ip.startsWith('203.0.113.') ? { asn: 64500, country: 'DE' } : { asn: 64511, country: 'BR' };

/** One app instance: its own connections, engine and manager, sharing Redis with the others. */
async function instance(clock: ManualClock) {
  const store = new RedisStore({ client: redis.connect(), prefix: `${redis.prefix}store` });
  stores.push(store);
  const events = new RedisEventLog({ redis: redis.connect(), prefix: redis.prefix });
  const engine = new RiskEngine({
    profiles: new RedisProfileStore({ redis: redis.connect(), prefix: redis.prefix }),
    networkHashKey,
    resolveNetwork,
    events,
  });
  const manager = new SessionManager({ store, clock, config: { ipHashKey }, assessors: [engine] });
  await manager.start();
  managers.push(manager);
  return { manager, engine, events };
}

describe('hijack on two app instances sharing the real Redis store', () => {
  it('the stolen token presented to instance B is revoked there, and instance A refuses it too', async () => {
    const clock = new ManualClock(Date.now());
    const a = await instance(clock);
    const b = await instance(clock);

    const issued = await a.manager.create({ userId: 'alice', tenantId: 'acme', context: legit });
    await a.engine.trust('alice', legit, clock.now());
    expect((await b.manager.validate(issued.token, { tier: 'full', context: legit })).warnings).toEqual([]);

    clock.advance(10 * MINUTE);
    await expect(b.manager.validate(issued.token, { tier: 'full', context: hijacker })).rejects.toMatchObject(
      {
        code: 'context.rejected',
      },
    );
    expect(await a.manager.get(issued.session.id)).toMatchObject({
      state: 'revoked',
      revokeReason: 'context.rejected',
    });
    await expect(a.manager.validate(issued.token, { tier: 'full', context: legit })).rejects.toMatchObject({
      code: 'session.revoked',
    });
    const summary = await a.events.summarizeTenant('acme', { now: clock.now() });
    expect(summary.riskySessions).toEqual([
      expect.objectContaining({ sessionId: issued.session.id, action: 'revoke' }),
    ]);
    expect(summary.riskySessions[0]?.reasons).toEqual(
      expect.arrayContaining(['device.changed', 'network.new', 'asn.new', 'country.new']),
    );
  });
});
