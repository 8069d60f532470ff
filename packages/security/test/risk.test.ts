import { randomBytes } from 'node:crypto';
import type { RequestContext, SessionEvent } from '@sessionkit/core';
import { ManualClock, MemoryStore, SessionManager } from '@sessionkit/core';
import { freePort } from '@sessionkit/test-support';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { DegradedEvent, NetworkInfo } from '../src/index.js';
import {
  deviceFingerprint,
  emptyProfile,
  ipPrefix,
  learn,
  MemoryEventLog,
  MemoryProfileStore,
  RedisEventLog,
  RedisProfileStore,
  RiskEngine,
} from '../src/index.js';
import { redisFixture } from './redis-fixture.js';

const redis = redisFixture();
afterAll(() => redis.cleanup());

const MINUTE = 60_000;
const networkHashKey = randomBytes(32).toString('base64url');
const ipHashKey = randomBytes(32).toString('base64url');

const CHROME_WIN =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const FIREFOX_WIN = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

const laptop = {
  userAgent: CHROME_WIN,
  acceptLanguage: 'de-DE,de;q=0.9,en;q=0.8',
  timezone: 'Europe/Berlin',
  screen: '1920x1080x24',
  clientId: 'laptop-client-id-0001',
};

function context(ip: string, device: typeof laptop): RequestContext {
  return { ip, userAgent: device.userAgent, fingerprint: deviceFingerprint(device) };
}

const legit = context('203.0.113.10', laptop);
const hijacker = context('198.51.100.77', {
  userAgent: SAFARI_IPHONE,
  acceptLanguage: 'pt-BR',
  timezone: 'America/Sao_Paulo',
  screen: '390x844x32',
  clientId: 'attacker-phone-0042',
});

/** The app-supplied GeoIP/ASN lookup: here a fixed table of documentation ranges. */
const networks: Record<string, NetworkInfo> = {
  '203.0.113': { asn: 64500, country: 'DE', latitude: 52.52, longitude: 13.4 },
  '203.0.114': { asn: 64500, country: 'DE', latitude: 52.52, longitude: 13.4 },
  '192.0.2': { asn: 64501, country: 'DE', latitude: 48.14, longitude: 11.58 },
  '198.51.100': { asn: 64511, country: 'BR', latitude: -23.55, longitude: -46.63 },
};
const resolveNetwork = (ip: string) => networks[ip.split('.').slice(0, 3).join('.')];

function redisEngine(extra: { events?: RedisEventLog; onDegraded?: (e: DegradedEvent) => void } = {}) {
  return new RiskEngine({
    profiles: new RedisProfileStore({ redis: redis.connect(), prefix: redis.prefix }),
    networkHashKey,
    resolveNetwork,
    ...extra,
  });
}

function managerWith(engine: RiskEngine, clock: ManualClock) {
  return new SessionManager({
    store: new MemoryStore({ now: () => clock.now() }),
    clock,
    config: { ipHashKey, idleTimeoutMs: 4 * 60 * MINUTE },
    assessors: [engine],
  });
}

describe('RiskEngine plugged into core validation', () => {
  it('a hijacked token (same token, new device and network) is flagged and revoked on its next validation', async () => {
    const clock = new ManualClock();
    const events = new RedisEventLog({ redis: redis.connect(), prefix: redis.prefix });
    const engine = redisEngine({ events });
    const manager = managerWith(engine, clock);
    const seen: SessionEvent[] = [];
    manager.events.subscribe((event) => seen.push(event));

    const issued = await manager.create({ userId: 'alice', tenantId: 'acme', context: legit });
    await engine.trust('alice', legit, clock.now());
    expect((await manager.validate(issued.token, { tier: 'full', context: legit })).warnings).toEqual([]);

    clock.advance(10 * MINUTE);
    const attempt = manager.validate(issued.token, { tier: 'full', context: hijacker });
    await expect(attempt).rejects.toMatchObject({ code: 'context.rejected' });
    const reasons = await attempt.catch((error: { details: { reasons: string[] } }) => error.details.reasons);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'device.changed',
        'network.new',
        'asn.new',
        'country.new',
        'travel.impossible',
      ]),
    );
    expect(await manager.get(issued.session.id)).toMatchObject({
      state: 'revoked',
      revokeReason: 'context.rejected',
    });
    await expect(manager.validate(issued.token, { tier: 'full', context: legit })).rejects.toMatchObject({
      code: 'session.revoked',
    });
    expect(seen.map((event) => event.type)).toEqual(
      expect.arrayContaining(['session.context_changed', 'session.revoked']),
    );
    expect(seen.find((event) => event.type === 'session.context_changed')).toMatchObject({
      action: 'revoke',
    });

    for (const summary of [
      await events.summarizeUser('alice', { now: clock.now() }),
      await events.summarizeTenant('acme', { now: clock.now() }),
    ]) {
      expect(summary.riskySessions).toHaveLength(1);
      expect(summary.riskySessions[0]).toMatchObject({
        sessionId: issued.session.id,
        userId: 'alice',
        action: 'revoke',
      });
      expect(summary.riskySessions[0]?.score).toBeGreaterThanOrEqual(0.8);
    }
    // Stored and reported: only hashed prefixes and coarse network facts, never the raw addresses.
    const stored = await redis.connect().hget(`${redis.prefix}pf:{alice}`, 'p');
    expect(stored).not.toContain('203.0.113');
    expect(JSON.stringify(await events.summarizeUser('alice', { now: clock.now() }))).not.toContain(
      '198.51.100',
    );
  });

  it('milder changes map to allow, flag and step-up by score band', async () => {
    const clock = new ManualClock();
    const engine = new RiskEngine({ profiles: new MemoryProfileStore(), networkHashKey, resolveNetwork });
    const manager = managerWith(engine, clock);
    const issued = await manager.create({ userId: 'bob', aal: 2, context: legit });
    await engine.trust('bob', legit, clock.now());

    // Same ISP, another /24: network.new alone (0.25) stays below the flag band.
    const nextDoor = context('203.0.114.9', laptop);
    expect(
      (await manager.validate(issued.token, { tier: 'full', context: nextDoor })).warnings,
    ).not.toContain('network.new');
    // Two hours later, another ISP in the same country: network.new + asn.new → 0.475 → flag.
    clock.advance(120 * MINUTE);
    const session = (await manager.store.get(issued.session.id))!;
    const munich = await engine.evaluate(session, context('192.0.2.33', laptop), clock.now());
    expect(munich).toMatchObject({ action: 'flag', reasons: ['network.new', 'asn.new'], score: 0.475 });
    // Another browser on the known network: device.changed (0.6) → step-up; core demotes the session to AAL 1.
    const firefox = context('203.0.113.10', {
      ...laptop,
      userAgent: FIREFOX_WIN,
      clientId: 'firefox-profile-77',
    });
    const stepped = await manager.validate(issued.token, { tier: 'full', context: firefox });
    expect(stepped.warnings).toEqual(expect.arrayContaining(['device.changed', 'step-up.required']));
    expect((await manager.get(issued.session.id))?.aal).toBe(1);
  });

  it('two instances on two Redis connections reach the same decision', async () => {
    const clock = new ManualClock();
    const one = redisEngine();
    const two = redisEngine();
    const manager = managerWith(one, clock);
    const issued = await manager.create({ userId: 'carol', context: legit });
    const session = (await manager.store.get(issued.session.id))!;
    await one.trust('carol', legit, clock.now());
    clock.advance(5 * MINUTE);
    const [a, b] = await Promise.all([
      one.evaluate(session, hijacker, clock.now()),
      two.evaluate(session, hijacker, clock.now()),
    ]);
    expect(a).toEqual(b);
    expect(b.action).toBe('revoke');
    expect(await two.evaluate(session, legit, clock.now())).toMatchObject({
      action: 'allow',
      score: 0,
      signals: [],
    });
    // What one instance learns under contention, the other sees: compare-and-set loses nothing.
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 === 0 ? one : two).trust('carol', context(`10.${i}.0.1`, laptop), clock.now()),
      ),
    );
    const after = await new RedisProfileStore({ redis: redis.connect(), prefix: redis.prefix }).get('carol');
    expect(after?.profile.networks).toHaveLength(9);
  });

  it('a refresh-token reuse makes the user’s other sessions score token.reuse', async () => {
    const clock = new ManualClock();
    const events = new MemoryEventLog();
    const engine = new RiskEngine({ profiles: new MemoryProfileStore(), networkHashKey, events });
    const manager = managerWith(engine, clock);
    engine.observe(manager.events);
    const stolen = await manager.create({ userId: 'dave', context: legit });
    const other = await manager.create({ userId: 'dave', context: legit });
    await manager.refresh(stolen.refreshToken);
    clock.advance(manager.config.refresh.graceMs + 1);
    await expect(manager.refresh(stolen.refreshToken)).rejects.toMatchObject({
      code: 'token.reuse_detected',
    });
    await engine.flush();
    await expect(manager.validate(other.token, { tier: 'full', context: legit })).rejects.toMatchObject({
      code: 'context.rejected',
      details: { reasons: ['token.reuse'] },
    });
    const summary = await events.summarizeUser('dave', { now: clock.now() });
    expect(summary.recentEvents.map((event) => event.type)).toEqual(['risk', 'token.reuse']);
    // The user signs in again after the theft: that new session is not suspect.
    clock.advance(1000);
    const fresh = await manager.create({ userId: 'dave', context: legit });
    await expect(manager.validate(fresh.token, { tier: 'full', context: legit })).resolves.toMatchObject({
      userId: 'dave',
    });
  });

  it('scores an unusual hour and a burst of failures from the profile', async () => {
    const profiles = new MemoryProfileStore();
    const engine = new RiskEngine({ profiles, networkHashKey });
    const day = 24 * 60 * MINUTE;
    let profile = emptyProfile();
    for (let d = 0; d < 30; d += 1) {
      for (const hour of [9, 13, 17]) {
        profile = learn(profile, { now: Date.UTC(2026, 0, 1) + d * day + hour * 60 * MINUTE }) ?? profile;
      }
    }
    await profiles.put('erin', profile, 0);
    const clock = new ManualClock(Date.UTC(2026, 1, 5, 3, 30));
    const manager = managerWith(engine, clock);
    const issued = await manager.create({ userId: 'erin' });
    const session = (await manager.store.get(issued.session.id))!;
    expect(await engine.evaluate(session, {}, clock.now())).toMatchObject({
      reasons: ['hour.unusual'],
      action: 'allow',
    });
    for (let i = 0; i < 5; i += 1) await engine.recordFailure('erin', clock.now() - i * MINUTE);
    const later = await engine.evaluate(session, {}, clock.now());
    expect(later.reasons).toEqual(['hour.unusual', 'failures.burst']);
    expect(later).toMatchObject({ action: 'flag', score: 0.405 });
    expect(await engine.evaluate(session, {}, Date.UTC(2026, 1, 5, 13, 0))).toMatchObject({
      reasons: [],
    });
  });

  it('keeps judging the session’s own device when the profile store is down, and says so', async () => {
    const client = new Redis({ port: await freePort(), retryStrategy: () => 50 });
    client.on('error', () => {});
    const degraded: DegradedEvent[] = [];
    try {
      const engine = new RiskEngine({
        profiles: new RedisProfileStore({ redis: client, timeoutMs: 100 }),
        networkHashKey,
        onDegraded: (event) => degraded.push(event),
      });
      const clock = new ManualClock();
      const manager = managerWith(engine, clock);
      const issued = await manager.create({ userId: 'frank', context: legit });
      const session = (await manager.store.get(issued.session.id))!;
      const started = performance.now();
      const result = await engine.evaluate(session, hijacker, clock.now());
      // A 100 ms deadline; the bound only tells an answer from a hang, even on a loaded machine.
      expect(performance.now() - started).toBeLessThan(10_000);
      expect(result).toMatchObject({ reasons: ['device.changed'], action: 'step-up' });
      expect(result.device?.changed).toEqual(expect.arrayContaining(['os', 'deviceType', 'clientId']));
      expect(degraded[0]).toMatchObject({ component: 'profile', error: { code: 'store.unavailable' } });
    } finally {
      client.disconnect();
    }
  });

  it('rejects a short network key and a bad policy with input.invalid', () => {
    const profiles = new MemoryProfileStore();
    expect(() => new RiskEngine({ profiles, networkHashKey: 'short' })).toThrow(
      expect.objectContaining({ code: 'input.invalid' }),
    );
    expect(
      () => new RiskEngine({ profiles, networkHashKey, policy: { bands: { flag: 0.9, stepUp: 0.5 } } }),
    ).toThrow(expect.objectContaining({ code: 'input.invalid' }));
  });
});

describe('ipPrefix', () => {
  it('masks IPv4 to /24 and IPv6 to /48 by default', () => {
    expect(ipPrefix('203.0.113.77')).toBe('203.0.113.0/24');
    expect(ipPrefix('::ffff:203.0.113.77')).toBe('203.0.113.0/24');
    expect(ipPrefix('203.0.113.77', 16)).toBe('203.0.0.0/16');
    expect(ipPrefix('2001:db8:abcd:12::1')).toBe('2001:db8:abcd:0:0:0:0:0/48');
    expect(ipPrefix('2001:db8::1', 24, 64)).toBe('2001:db8:0:0:0:0:0:0/64');
    expect(ipPrefix('not-an-ip')).toBeUndefined();
  });
});
