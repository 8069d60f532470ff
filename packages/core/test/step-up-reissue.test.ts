import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { AccessTokenClaims } from '../src/access-token.js';
import { ACCESS_TOKEN_TYP } from '../src/access-token.js';
import { CredentialFloor, tokenAuthenticatedAt } from '../src/credential-floor.js';
import type { Harness } from './helpers.js';
import { codeOf, eventTypes, harness } from './helpers.js';

const MINUTE = 60_000;
/** What `requireAal(2)` and `requireFresh()` ask of a sensitive route. */
const SENSITIVE = { requiredAal: 2, maxAuthAgeMs: 15 * MINUTE } as const;

/** A second instance on the same store, feed, clock and signing keys. */
function secondInstance(first: Harness) {
  return harness({}, { store: first.store, clock: first.clock, accessTokens: first.manager.accessTokens });
}

describe('step-up: access tokens issued before it', () => {
  it('are refused at the fast and the full tier; the re-issued one passes both', async () => {
    const { manager, clock } = await harness({}, { withAccessTokens: true });
    const issued = await manager.create({ userId: 'alice' });
    await manager.validate(issued.accessToken, { tier: 'fast' });
    expect(manager.validateFromCache(issued.accessToken, { tier: 'fast' })).toBeDefined();
    clock.advance(MINUTE);
    const stepped = await manager.stepUp(issued.session.id, { aal: 2 });

    expect(manager.validateFromCache(issued.accessToken, { tier: 'fast' })).toBeUndefined();
    expect(await codeOf(manager.validate(issued.accessToken, { tier: 'fast' }))).toBe('token.invalid');
    expect(await codeOf(manager.validate(issued.accessToken, { tier: 'full' }))).toBe('token.invalid');
    expect(stepped.accessToken).toBeDefined();
    await expect(
      manager.validate(stepped.accessToken, { tier: 'fast', ...SENSITIVE }),
    ).resolves.toMatchObject({
      aal: 2,
      authenticatedAt: stepped.session.authenticatedAt,
    });
    await expect(
      manager.validate(stepped.accessToken, { tier: 'full', ...SENSITIVE }),
    ).resolves.toMatchObject({
      aal: 2,
    });
  });

  it('are refused even when the step-up falls in the millisecond they were issued in', async () => {
    const { manager } = await harness({}, { withAccessTokens: true });
    const issued = await manager.create({ userId: 'alice' });
    const stepped = await manager.stepUp(issued.session.id, { aal: 2 });
    expect(stepped.session.authenticatedAt).toBe(issued.session.authenticatedAt + 1);
    expect(await codeOf(manager.validate(issued.accessToken, { tier: 'fast' }))).toBe('token.invalid');
    expect(await codeOf(manager.validate(issued.accessToken, { tier: 'full' }))).toBe('token.invalid');
    await expect(manager.validate(stepped.accessToken, { tier: 'full' })).resolves.toBeDefined();
  });

  it('are refused by another instance: at the fast tier through the feed, at the full tier from the record', async () => {
    const a = await harness({}, { withAccessTokens: true });
    const b = await secondInstance(a);
    const issued = await a.manager.create({ userId: 'alice' });
    await b.manager.validate(issued.accessToken, { tier: 'fast' });
    expect(b.manager.validateFromCache(issued.accessToken, { tier: 'fast' })).toBeDefined();
    await a.manager.stepUp(issued.session.id, { aal: 2 });
    expect(b.manager.validateFromCache(issued.accessToken, { tier: 'fast' })).toBeUndefined();
    expect(await codeOf(b.manager.validate(issued.accessToken, { tier: 'fast' }))).toBe('token.invalid');
    expect(await codeOf(b.manager.validate(issued.accessToken, { tier: 'full' }))).toBe('token.invalid');
  });

  it('an instance that missed the feed refuses them at the full tier, and from then on at the fast tier', async () => {
    const a = await harness({}, { withAccessTokens: true });
    const b = await secondInstance(a);
    const issued = await a.manager.create({ userId: 'alice' });
    await b.manager.validate(issued.accessToken, { tier: 'fast' });
    await b.manager.close();
    await a.manager.stepUp(issued.session.id, { aal: 2 });
    // Without the feed the fast tier cannot know (the documented bound: the token's remaining lifetime)...
    expect(await codeOf(b.manager.validate(issued.accessToken, { tier: 'fast' }))).toBe('resolved');
    // ...the full tier reads the record, and what it learns there holds for the fast tier too.
    expect(await codeOf(b.manager.validate(issued.accessToken, { tier: 'full' }))).toBe('token.invalid');
    expect(await codeOf(b.manager.validate(issued.accessToken, { tier: 'fast' }))).toBe('token.invalid');
  });

  it('a token signed before sk_auth existed is judged at its auth_time precision', async () => {
    const { manager, clock } = await harness({}, { withAccessTokens: true });
    clock.set(Date.UTC(2026, 5, 1) + 123);
    const issued = await manager.create({ userId: 'alice' });
    const key = manager.accessTokens?.signingKey;
    if (!key) throw new Error('no signing key');
    const legacy = () =>
      new SignJWT({ sid: issued.session.id, aal: 1, auth_time: Math.floor(clock.now() / 1000) })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
        .setSubject('alice')
        .setIssuer('test')
        .setAudience('test')
        .setIssuedAt(Math.floor(clock.now() / 1000))
        .setExpirationTime(Math.floor(clock.now() / 1000) + 300)
        .setJti(`legacy-${clock.now()}`)
        .sign(key.privateKey);
    const current = await legacy();
    // Issued for the session's current authentication (…123 ms into the second): still accepted.
    await expect(manager.validate(current, { tier: 'full' })).resolves.toBeDefined();
    clock.advance(5000);
    await manager.stepUp(issued.session.id, { aal: 2 });
    expect(await codeOf(manager.validate(current, { tier: 'full' }))).toBe('token.invalid');
  });
});

describe('step-up: the refresh family', () => {
  it('returns a new refresh token that rotates normally, and the one from before is reuse', async () => {
    const { manager, clock, events } = await harness(
      { refresh: { graceMs: 10_000 } },
      { withAccessTokens: true },
    );
    const issued = await manager.create({ userId: 'alice' });
    const rotated = await manager.refresh(issued.refreshToken);
    clock.advance(1000);
    const stepped = await manager.stepUp(issued.session.id, { aal: 2 });
    expect(stepped.refreshToken).toMatch(/^rt_/);
    expect([issued.refreshToken, rotated.refreshToken]).not.toContain(stepped.refreshToken);

    const next = await manager.refresh(stepped.refreshToken);
    expect(next.session.aal).toBe(2);
    await expect(manager.validate(next.accessToken, { tier: 'full', ...SENSITIVE })).resolves.toBeDefined();
    expect(eventTypes(events)).not.toContain('token.reuse_detected');

    expect(await codeOf(manager.refresh(rotated.refreshToken))).toBe('token.reuse_detected');
    expect(await codeOf(manager.validate(next.accessToken, { tier: 'full' }))).toBe('session.revoked');
  });

  it('gives the token from before no grace recovery of the new one, even inside the grace window', async () => {
    const { manager } = await harness({ refresh: { graceMs: 60_000 } });
    const issued = await manager.create({ userId: 'alice' });
    const rotated = await manager.refresh(issued.refreshToken);
    await manager.stepUp(issued.session.id, { aal: 2 });
    // The token rotated away just before the step-up would be inside its grace window, had there been none.
    expect(await codeOf(manager.refresh(issued.refreshToken))).toBe('token.reuse_detected');
    expect(await codeOf(manager.refresh(rotated.refreshToken))).toBe('session.revoked');
  });

  it('issues no refresh token for a session that has none', async () => {
    const { manager } = await harness({ refresh: { enabled: false } });
    const issued = await manager.create({ userId: 'alice' });
    const stepped = await manager.stepUp(issued.session.id, { aal: 2 });
    expect(stepped.refreshToken).toBeUndefined();
  });
});

describe('step-up after a thief demoted the session (the security issue, point 1)', () => {
  it("leaves the thief's access and refresh tokens short of requireAal(2) and requireFresh()", async () => {
    const { manager, clock } = await harness(
      { contextChange: { device: 'step-up' } },
      { withAccessTokens: true },
    );
    const user = { userAgent: 'Firefox' };
    const thief = { userAgent: 'curl' };
    const login = await manager.create({ userId: 'alice', aal: 2, context: user });
    // The thief holds the refresh token; by the time it is used, the authentication is stale.
    clock.advance(16 * MINUTE);
    const stolen = await manager.refresh(login.refreshToken, { context: thief });
    // Its access token, used from another device, demotes the session; the user steps up again.
    const demoted = await manager.validate(stolen.accessToken, { tier: 'full', context: thief });
    expect(demoted.aal).toBe(1);
    clock.advance(MINUTE);
    const stepped = await manager.stepUp(login.session.id, { aal: 2, context: user });

    for (const tier of ['fast', 'full'] as const) {
      const attempt = manager.validate(stolen.accessToken, { tier, context: thief, ...SENSITIVE });
      expect(await codeOf(attempt)).toBe('token.invalid');
    }
    // The user's new credentials pass the sensitive checks...
    await expect(
      manager.validate(stepped.accessToken, { tier: 'full', context: user, ...SENSITIVE }),
    ).resolves.toMatchObject({ aal: 2 });
    const renewed = await manager.refresh(stepped.refreshToken, { context: user });
    await expect(
      manager.validate(renewed.accessToken, { tier: 'full', context: user, ...SENSITIVE }),
    ).resolves.toMatchObject({ aal: 2 });
    // ...and the thief's refresh token yields nothing: it is reuse, which ends the session.
    const thiefRefresh = manager.refresh(stolen.refreshToken, { context: thief });
    expect(await codeOf(thiefRefresh)).toBe('token.reuse_detected');
    expect(await codeOf(manager.validate(renewed.accessToken, { tier: 'full' }))).toBe('session.revoked');
  });
});

describe('CredentialFloor', () => {
  const claims = (authenticatedAt: number | undefined, authTime = 1000): AccessTokenClaims => ({
    sub: 'alice',
    sid: 'A'.repeat(22),
    aal: 1,
    authTime,
    ...(authenticatedAt === undefined ? {} : { authenticatedAt }),
    iat: 0,
    exp: 1,
    jti: 'j',
  });

  it('never lowers a floor, and forgets it once the tokens below it have expired', () => {
    const floor = new CredentialFloor(10, 1000);
    floor.raise('A'.repeat(22), 5000, 0);
    floor.raise('A'.repeat(22), 4000, 0);
    expect(floor.admits(claims(4999), 10)).toBe(false);
    expect(floor.admits(claims(5000), 10)).toBe(true);
    expect(floor.admits(claims(4999), 1000)).toBe(true);
  });

  it('reads a token without sk_auth as the last millisecond of its auth_time', () => {
    expect(tokenAuthenticatedAt(claims(undefined, 1_700_000_000))).toBe(1_700_000_000_999);
    expect(tokenAuthenticatedAt(claims(1_700_000_000_123, 1_700_000_000))).toBe(1_700_000_000_123);
  });
});
