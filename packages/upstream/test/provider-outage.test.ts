import type { SessionKitError } from '@sessionkit/core';
import { ManualClock } from '@sessionkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamIntrospection, UpstreamUnavailableError } from '../src/index.js';
import { UPSTREAM_LEASE_KEY } from '../src/token-vault.js';
import { signIn, startApp } from './fixture.js';
import { LoopbackProvider } from './loopback-provider.js';

const MINUTE = 60_000;
let idp: LoopbackProvider;

beforeAll(async () => {
  idp = await LoopbackProvider.start({ accessTokenTtlSeconds: 600 });
});
afterAll(async () => {
  await idp.stop();
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('when the provider is down', () => {
  it('backs off with full jitter, degrades to the still-valid token, fails when it expired, recovers after restart', async () => {
    const clock = new ManualClock(Date.now());
    const sleeps: number[] = [];
    const app = await startApp(idp, {
      clock,
      vault: {
        retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
        random: () => 0.5,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    });
    const { sessionId, tokens } = await signIn(app, idp, 'ivan');
    await idp.stop();
    try {
      clock.advance(6 * MINUTE);
      // Due for refresh but still valid: the caller keeps working on the current token.
      expect(await app.vault.accessToken(sessionId)).toBe(tokens.accessToken);
      expect(sleeps).toEqual([50, 100, 200]);
      expect(app.logs.filter((entry) => entry.event === 'upstream.refresh_retry')).toHaveLength(3);
      expect((await app.store.get(sessionId))?.metadata[UPSTREAM_LEASE_KEY]).toBeUndefined();

      clock.advance(5 * MINUTE);
      const error = await failure(app.vault.accessToken(sessionId));
      expect(error).toBeInstanceOf(UpstreamUnavailableError);
      expect((error as SessionKitError).code).toBe('upstream.unavailable');
      expect((error as SessionKitError).details.upstream).toBe(true);
      // An outage is never a reason to end the session.
      expect((await app.store.get(sessionId))?.state).toBe('active');
    } finally {
      await idp.restart();
    }
    const before = idp.refreshGrants;
    const fresh = await app.vault.accessToken(sessionId);
    expect(fresh).not.toBe(tokens.accessToken);
    expect(idp.refreshGrants).toBe(before + 1);
    expect((await app.client.introspect(fresh!)).active).toBe(true);
  });

  it('retries 5xx answers and succeeds once the provider answers again', async () => {
    const sleeps: number[] = [];
    const app = await startApp(idp, {
      vault: { retry: { baseDelayMs: 10, maxDelayMs: 100 }, sleep: async (ms) => void sleeps.push(ms) },
    });
    const { sessionId, tokens } = await signIn(app, idp, 'judy');
    idp.failTokenRequests(2, 503);
    const fresh = await app.vault.refresh(sessionId);
    expect(fresh?.accessToken).not.toBe(tokens.accessToken);
    expect(sleeps).toHaveLength(2);
    expect(sleeps.every((ms, index) => ms >= 0 && ms < 10 * 2 ** index)).toBe(true);
    expect(app.logs.map((entry) => [entry.event, entry.code])).toEqual([
      ['upstream.refresh_retry', 'upstream.unavailable'],
      ['upstream.refresh_retry', 'upstream.unavailable'],
      ['upstream.refreshed', undefined],
    ]);
  });

  it('treats 429 as an outage and gives up after the configured attempts on a forced refresh', async () => {
    const app = await startApp(idp, {
      vault: { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 10 }, sleep: async () => {} },
    });
    const { sessionId } = await signIn(app, idp, 'kim');
    idp.failTokenRequests(2, 429);
    expect(await failure(app.vault.refresh(sessionId))).toBeInstanceOf(UpstreamUnavailableError);
    expect((await app.store.get(sessionId))?.state).toBe('active');
  });
});

describe('introspection with a bounded cache and a degradation policy', () => {
  it('caches positive and negative answers briefly', async () => {
    const clock = new ManualClock(Date.now());
    const app = await startApp(idp, { clock });
    const { tokens } = await signIn(app, idp, 'liam');
    const introspection = new UpstreamIntrospection({
      client: app.client,
      clock,
      positiveTtlMs: 30_000,
      negativeTtlMs: 10_000,
    });
    const asked = () => idp.hits.get('/token/introspection') ?? 0;
    const start = asked();
    expect(await introspection.introspect(tokens.accessToken)).toMatchObject({
      active: true,
      source: 'provider',
    });
    expect((await introspection.introspect(tokens.accessToken)).response.sub).toBe('liam');
    expect((await introspection.introspect(tokens.accessToken)).source).toBe('cache');
    expect(asked()).toBe(start + 1);
    expect(await introspection.introspect('not-a-token')).toMatchObject({
      active: false,
      source: 'provider',
    });
    expect(await introspection.introspect('not-a-token')).toMatchObject({ active: false, source: 'cache' });
    expect(asked()).toBe(start + 2);
    clock.advance(31_000);
    expect((await introspection.introspect(tokens.accessToken)).source).toBe('provider');
    expect((await introspection.introspect('not-a-token')).source).toBe('provider');
    introspection.forget(tokens.accessToken);
    expect((await introspection.introspect(tokens.accessToken)).source).toBe('provider');
    expect(asked()).toBe(start + 5);
  });

  it('keeps a known-good token until the bound when the provider is down, then fails closed; fail-closed fails at once', async () => {
    const clock = new ManualClock(Date.now());
    const app = await startApp(idp, { clock });
    const { tokens } = await signIn(app, idp, 'mia');
    const keep = new UpstreamIntrospection({
      client: app.client,
      clock,
      positiveTtlMs: 10_000,
      whenUnavailable: { mode: 'keep-until', maxStaleMs: 60_000 },
    });
    const closed = new UpstreamIntrospection({ client: app.client, clock, positiveTtlMs: 10_000 });
    await keep.introspect(tokens.accessToken);
    await closed.introspect(tokens.accessToken);
    await idp.stop();
    try {
      clock.advance(20_000);
      expect(await keep.introspect(tokens.accessToken)).toMatchObject({ active: true, source: 'stale' });
      expect(await failure(closed.introspect(tokens.accessToken))).toBeInstanceOf(UpstreamUnavailableError);
      expect(await failure(keep.introspect('never-seen'))).toBeInstanceOf(UpstreamUnavailableError);
      clock.advance(41_000);
      expect(await failure(keep.introspect(tokens.accessToken))).toBeInstanceOf(UpstreamUnavailableError);
    } finally {
      await idp.restart();
    }
    expect(await keep.introspect(tokens.accessToken)).toMatchObject({ active: true, source: 'provider' });
  });
});
