import { randomBytes } from 'node:crypto';
import type { RequestContext, SessionEvent } from '@sessionkit/core';
import { ManualClock, MemoryStore, SessionManager } from '@sessionkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { RiskPolicyInput } from '../src/index.js';
import {
  deviceFingerprint,
  fingerprintInputFromHeaders,
  MemoryProfileStore,
  parseRiskPolicy,
  RedisProfileStore,
  RiskEngine,
} from '../src/index.js';
import { redisFixture } from './redis-fixture.js';

const redis = redisFixture();
afterAll(() => redis.cleanup());

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const LANGUAGES = 'de-DE,de;q=0.9,en;q=0.8';

/** What a transport (the Express adapter) builds from a request's headers. */
function fromHeaders(ip: string, headers: Record<string, string>): RequestContext {
  const fingerprint = deviceFingerprint(fingerprintInputFromHeaders(headers));
  return {
    ip,
    requestId: randomBytes(4).toString('hex'),
    ...(headers['user-agent'] === undefined ? {} : { userAgent: headers['user-agent'] }),
    ...(Object.keys(fingerprint).length === 0 ? {} : { fingerprint }),
  };
}

const chrome = {
  'user-agent': CHROME_WINDOWS,
  'accept-language': LANGUAGES,
  'sec-ch-ua-mobile': '?0',
  'sec-ch-ua-platform': '"Windows"',
};

async function signedIn(policy: RiskPolicyInput = {}) {
  const clock = new ManualClock();
  const engine = new RiskEngine({
    profiles: new RedisProfileStore({ redis: redis.connect(), prefix: redis.prefix }),
    networkHashKey: randomBytes(32).toString('base64url'),
    policy,
  });
  const manager = new SessionManager({
    store: new MemoryStore({ now: () => clock.now() }),
    clock,
    config: { ipHashKey: randomBytes(32).toString('base64url') },
    assessors: [engine],
  });
  const events: SessionEvent[] = [];
  manager.events.subscribe((event) => events.push(event));
  const userId = `user-${randomBytes(4).toString('hex')}`;
  const legit = fromHeaders('203.0.113.10', chrome);
  const issued = await manager.create({ userId, aal: 2, context: legit });
  await engine.trust(userId, legit, clock.now());
  expect((await manager.validate(issued.token, { tier: 'full', context: legit })).warnings).toEqual([]);
  const session = async () => (await manager.store.get(issued.session.id))!;
  return { clock, engine, manager, events, issued, legit, session };
}

describe('a stolen cookie replayed from another device, over core validation', () => {
  it('with no User-Agent and no Accept-Language: device.missing, the verdict of a device change', async () => {
    const { manager, engine, issued, session, clock } = await signedIn();
    const stripped = fromHeaders('203.0.113.10', {});
    const anotherDevice = await engine.evaluate(
      await session(),
      fromHeaders('203.0.113.10', { 'user-agent': FIREFOX_LINUX }),
      clock.now(),
    );
    expect(await engine.evaluate(await session(), stripped, clock.now())).toMatchObject({
      action: anotherDevice.action,
      reasons: ['device.missing'],
    });
    const replay = await manager.validate(issued.token, { tier: 'full', context: stripped });
    expect(anotherDevice.action).toBe('step-up');
    expect(replay.warnings).toEqual(expect.arrayContaining(['device.missing', 'step-up.required']));
    expect(replay.aal).toBe(1);
  });

  it('with a User-Agent that names no browser or OS: device.unparseable, the same verdict', async () => {
    const { manager, issued } = await signedIn();
    for (const agent of ['x', 'curl/8.5.0', '-']) {
      const garbled = fromHeaders('203.0.113.10', { 'user-agent': agent, 'accept-language': LANGUAGES });
      const replay = await manager.validate(issued.token, { tier: 'full', context: garbled });
      expect(replay.warnings).toEqual(expect.arrayContaining(['device.unparseable', 'step-up.required']));
    }
  });

  it('another browser and OS with a copied Accept-Language is judged on parsed components', async () => {
    const { manager, engine, issued, session, clock } = await signedIn();
    const copied = fromHeaders('203.0.113.10', { 'user-agent': FIREFOX_LINUX, 'accept-language': LANGUAGES });
    const verdict = await engine.evaluate(await session(), copied, clock.now());
    expect(verdict).toMatchObject({ action: 'step-up', reasons: ['device.changed'] });
    expect(verdict.device?.changed).toEqual(expect.arrayContaining(['browser', 'os', 'engine']));
    expect(verdict.device?.missing).toEqual(expect.arrayContaining(['ch.platform', 'ch.mobile']));
    const replay = await manager.validate(issued.token, { tier: 'full', context: copied });
    expect(replay.warnings).toEqual(expect.arrayContaining(['device.changed', 'step-up.required']));
  });

  it('the legitimate browser after an update, and a server-side check, are the same device', async () => {
    const { manager, engine, issued, session, clock } = await signedIn();
    const updated = fromHeaders('203.0.113.10', {
      ...chrome,
      'user-agent': CHROME_WINDOWS.replace('Chrome/131', 'Chrome/132'),
    });
    expect(await engine.evaluate(await session(), updated, clock.now())).toMatchObject({
      action: 'allow',
      reasons: [],
    });
    // Core's own assessor compares the raw string and may flag it; no step-up either way.
    const result = await manager.validate(issued.token, { tier: 'full', context: updated });
    expect(result.warnings).not.toContain('step-up.required');
    expect(result.aal).toBe(2);
    // No context at all (token introspection by a resource server): no client to compare.
    expect((await manager.validate(issued.token, { tier: 'full' })).warnings).toEqual([]);
  });

  it('follows the policy: missing and unparseable weigh as device.changed unless set on their own', async () => {
    const { manager, issued, events } = await signedIn({ weights: { 'device.changed': 0.85 } });
    await expect(
      manager.validate(issued.token, { tier: 'full', context: fromHeaders('203.0.113.10', {}) }),
    ).rejects.toMatchObject({
      code: 'context.rejected',
      details: { reasons: expect.arrayContaining(['device.missing']) },
    });
    expect(events.find((event) => event.type === 'session.context_changed')).toMatchObject({
      action: 'revoke',
    });
    expect(parseRiskPolicy({}).weights).toMatchObject({
      'device.changed': 0.6,
      'device.missing': 0.6,
      'device.unparseable': 0.6,
    });
    expect(
      parseRiskPolicy({ weights: { 'device.changed': 0.5, 'device.unparseable': 0.9 } }).weights,
    ).toMatchObject({ 'device.missing': 0.5, 'device.unparseable': 0.9 });
    const lenient = new RiskEngine({
      profiles: new MemoryProfileStore(),
      networkHashKey: randomBytes(32).toString('base64url'),
      policy: { weights: { 'device.missing': 0 } },
    });
    expect(lenient.policy.weights['device.unparseable']).toBe(0.6);
  });
});
