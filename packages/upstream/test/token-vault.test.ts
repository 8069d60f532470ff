import { ManualClock, MemoryStore } from '@sessionkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamTokenVault, VaultKeyRing } from '../src/index.js';
import { UPSTREAM_LEASE_KEY, UPSTREAM_TOKENS_KEY } from '../src/token-vault.js';
import { KEY_A, KEY_B, signIn, startApp } from './fixture.js';
import { codeOf } from './helpers.js';
import { LoopbackProvider } from './loopback-provider.js';

const MINUTE = 60_000;
let idp: LoopbackProvider;

beforeAll(async () => {
  idp = await LoopbackProvider.start({ accessTokenTtlSeconds: 600 });
});
afterAll(async () => {
  await idp.stop();
});

describe('upstream token vault against a real OpenID provider', () => {
  it('signs in with code + PKCE, seals the tokens at rest and hands them back', async () => {
    const app = await startApp(idp);
    const { sessionId, tokens, claims } = await signIn(app, idp, 'alice');
    expect(claims.sub).toBe('alice');
    expect(tokens.refreshToken).toEqual(expect.any(String));
    const stored = await app.store.get(sessionId);
    const envelope = stored?.metadata[UPSTREAM_TOKENS_KEY];
    expect(envelope).toMatch(/^key-a\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    const raw = JSON.stringify(stored);
    for (const secret of [tokens.accessToken, tokens.refreshToken!, tokens.idToken!]) {
      expect(raw).not.toContain(secret);
    }
    expect(await app.vault.read(sessionId)).toEqual(tokens);
    expect(await app.vault.accessToken(sessionId)).toBe(tokens.accessToken);
    expect((await app.client.introspect(tokens.accessToken)).active).toBe(true);
  });

  it('refreshes proactively before expiry, stores the rotated refresh token, and the old one is dead', async () => {
    const clock = new ManualClock(Date.now());
    const app = await startApp(idp, { clock });
    const { sessionId, tokens } = await signIn(app, idp, 'bob');
    const before = idp.refreshGrants;
    clock.advance(4 * MINUTE);
    expect(await app.vault.accessToken(sessionId)).toBe(tokens.accessToken);
    expect(idp.refreshGrants).toBe(before);
    clock.advance(2 * MINUTE); // 4 minutes left: inside the default 5-minute window
    const fresh = (await app.vault.tokens(sessionId))!;
    expect(idp.refreshGrants).toBe(before + 1);
    expect(fresh.accessToken).not.toBe(tokens.accessToken);
    expect(fresh.refreshToken).not.toBe(tokens.refreshToken);
    expect(fresh.idToken).toEqual(expect.any(String));
    expect(fresh.expiresAt).toBe(clock.now() + 600_000);
    expect(await app.vault.read(sessionId)).toEqual(fresh);
    expect((await app.client.introspect(tokens.refreshToken!, 'refresh_token')).active).toBe(false);
    expect((await app.client.introspect(fresh.refreshToken!, 'refresh_token')).active).toBe(true);
    expect((await app.store.get(sessionId))?.metadata[UPSTREAM_LEASE_KEY]).toBeUndefined();
  });

  it('caps the refresh window at half the lifetime of short-lived tokens', async () => {
    const clock = new ManualClock(Date.now());
    const shortLived = await LoopbackProvider.start({ accessTokenTtlSeconds: 240 });
    try {
      const app = await startApp(shortLived, { clock });
      const { sessionId, tokens } = await signIn(app, shortLived, 'kate');
      expect(tokens.expiresAt - tokens.issuedAt!).toBe(240_000);
      clock.advance(119_000);
      expect(await app.vault.accessToken(sessionId)).toBe(tokens.accessToken);
      clock.advance(2000);
      expect(await app.vault.accessToken(sessionId)).not.toBe(tokens.accessToken);
      expect(shortLived.refreshGrants).toBe(1);
    } finally {
      await shortLived.stop();
    }
  });

  it('refreshes an access token that really expired at the provider (5 s lifetime, system clock)', async () => {
    // Long enough that sign-in and the first read finish before the refresh window, even on a loaded machine.
    const shortLived = await LoopbackProvider.start({ accessTokenTtlSeconds: 5 });
    try {
      const app = await startApp(shortLived, { vault: { refreshBeforeMs: 500 } });
      const { sessionId, tokens } = await signIn(app, shortLived, 'carol');
      expect(await app.vault.accessToken(sessionId)).toBe(tokens.accessToken);
      await expect
        .poll(async () => (await app.client.introspect(tokens.accessToken)).active, { interval: 250 })
        .toBe(false);
      // The vault counts the lifetime from when it received the token, a moment after the provider issued it.
      await expect.poll(() => app.vault.accessToken(sessionId)).not.toBe(tokens.accessToken);
      const fresh = await app.vault.accessToken(sessionId);
      expect((await app.client.introspect(fresh!)).active).toBe(true);
      expect(shortLived.refreshGrants).toBe(1);
    } finally {
      await shortLived.stop();
    }
  });

  it('lets exactly one of several instances sharing a store refresh; the others get its result', async () => {
    const clock = new ManualClock(Date.now());
    const store = new MemoryStore({ now: () => clock.now() });
    const first = await startApp(idp, { clock, store, vault: { pollIntervalMs: 5 } });
    const others = await Promise.all(
      [1, 2, 3, 4].map(() => startApp(idp, { clock, store, vault: { pollIntervalMs: 5 } })),
    );
    const { sessionId, tokens } = await signIn(first, idp, 'dave');
    clock.advance(11 * MINUTE); // expired: nobody may fall back on the old token
    const before = idp.refreshGrants;
    const results = await Promise.all([first, ...others].map((app) => app.vault.accessToken(sessionId)));
    expect(idp.refreshGrants).toBe(before + 1);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).not.toBe(tokens.accessToken);
    const waited = [first, ...others]
      .flatMap((app) => app.logs)
      .filter((e) => e.event === 'upstream.refresh_waiting');
    expect(waited.length).toBeGreaterThan(0);
    expect((await first.client.introspect(results[0]!)).active).toBe(true);
  });

  it('shares one refresh among concurrent callers of the same instance', async () => {
    const app = await startApp(idp);
    const { sessionId } = await signIn(app, idp, 'erin');
    const before = idp.refreshGrants;
    const results = await Promise.all([1, 2, 3].map(() => app.vault.refresh(sessionId)));
    expect(idp.refreshGrants).toBe(before + 1);
    expect(new Set(results.map((tokens) => tokens?.accessToken)).size).toBe(1);
  });

  it('ends the session with upstream.revoked when the provider answers invalid_grant, without retrying', async () => {
    const sleeps: number[] = [];
    const app = await startApp(idp, {
      vault: { sleep: async (ms) => void sleeps.push(ms) },
    });
    const { sessionId, tokens } = await signIn(app, idp, 'frank');
    await app.client.revoke(tokens.refreshToken!, 'refresh_token');
    expect(await codeOf(app.vault.refresh(sessionId))).toBe('session.revoked');
    expect(sleeps).toEqual([]);
    const record = await app.store.get(sessionId);
    expect(record?.state).toBe('revoked');
    expect(record?.revokeReason).toBe('upstream.revoked');
    expect(app.events.at(-1)).toMatchObject({
      type: 'session.revoked',
      reason: 'upstream.revoked',
      by: 'policy',
    });
    expect(await codeOf(app.vault.tokens(sessionId))).toBe('session.revoked');
    expect(app.logs.map((entry) => entry.event)).toEqual(['upstream.refresh_failed', 'upstream.revoked']);
  });

  it('rotates vault keys: old envelopes still open, the next write re-encrypts with the current key', async () => {
    const app = await startApp(idp);
    const { sessionId, tokens } = await signIn(app, idp, 'grace');
    expect(await app.vault.keyIdOf(sessionId)).toBe('key-a');
    const rotated = new UpstreamTokenVault({
      manager: app.manager,
      client: app.client,
      keys: await VaultKeyRing.create({ keys: [KEY_B, KEY_A] }),
    });
    expect(await rotated.read(sessionId)).toEqual(tokens);
    expect(await rotated.keyIdOf(sessionId)).toBe('key-a');
    await rotated.refresh(sessionId);
    expect(await rotated.keyIdOf(sessionId)).toBe('key-b');
    const retired = new UpstreamTokenVault({
      manager: app.manager,
      client: app.client,
      keys: await VaultKeyRing.create({ keys: [KEY_B] }),
    });
    expect((await retired.read(sessionId))?.refreshToken).toEqual(expect.any(String));
    expect(await codeOf(app.vault.read(sessionId))).toBe('store.corrupt');
  });

  it('never lets a token reach events, views or logs', async () => {
    const app = await startApp(idp);
    const { sessionId, tokens } = await signIn(app, idp, 'heidi');
    const fresh = (await app.vault.refresh(sessionId))!;
    await app.client.revoke(fresh.refreshToken!, 'refresh_token');
    await codeOf(app.vault.refresh(sessionId));
    const view = await app.manager.get(sessionId);
    expect(view?.id).toBe(sessionId);
    const visible = JSON.stringify({ events: app.events, logs: app.logs, view });
    expect(app.events.length).toBeGreaterThanOrEqual(2);
    expect(app.logs.length).toBeGreaterThanOrEqual(2);
    expect(visible).not.toContain('sk.upstream');
    for (const secret of [
      tokens.accessToken,
      tokens.refreshToken!,
      tokens.idToken!,
      fresh.accessToken,
      fresh.refreshToken!,
    ]) {
      expect(visible).not.toContain(secret);
    }
    // Logs name sessions only by a salted hash.
    expect(JSON.stringify(app.logs)).not.toContain(sessionId);
  });
});
