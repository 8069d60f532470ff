import { SessionKitError } from '@sessionkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullJitterDelay } from '../src/backoff.js';
import { OidcClient, UpstreamRejectedError, UpstreamTokenVault, VaultKeyRing } from '../src/index.js';
import { KEY_A, signIn, startApp } from './fixture.js';
import { CLIENT_ID, CLIENT_SECRET, LoopbackProvider, REDIRECT_URI } from './loopback-provider.js';
import { UserAgent } from './user-agent.js';

let idp: LoopbackProvider;

beforeAll(async () => {
  idp = await LoopbackProvider.start();
});
afterAll(async () => {
  await idp.stop();
});

async function failure(promise: Promise<unknown>): Promise<SessionKitError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SessionKitError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('OpenID client against the real provider', () => {
  it('refuses discovery when the issuer differs, and wrong client credentials without retrying', async () => {
    expect((await failure(OidcClient.discover({ issuer: `${idp.issuer}/other`, clientId: 'x' }))).code).toBe(
      'token.invalid',
    );
    expect((await failure(OidcClient.discover({ issuer: 'not a url', clientId: 'x' }))).code).toBe(
      'input.invalid',
    );
    const wrong = await OidcClient.discover({
      issuer: idp.issuer,
      clientId: CLIENT_ID,
      clientSecret: 'wrong',
    });
    const error = await failure(wrong.refresh('whatever'));
    expect(error).toBeInstanceOf(UpstreamRejectedError);
    expect((error as UpstreamRejectedError).oauthError).toBe('invalid_client');
  });

  it('checks state, iss and the error parameter of the callback', async () => {
    const app = await startApp(idp);
    const { url, pending } = app.client.authorizationRequest();
    const callback = await new UserAgent().follow(url, REDIRECT_URI);
    expect(callback.searchParams.get('iss')).toBe(idp.issuer);
    const tampered = new URLSearchParams(callback.searchParams);
    tampered.set('state', 'forged');
    expect((await failure(app.client.handleCallback(tampered, pending))).code).toBe('token.invalid');
    tampered.set('state', pending.state);
    tampered.set('iss', 'https://evil.example');
    expect((await failure(app.client.handleCallback(tampered, pending))).code).toBe('token.invalid');
    const denied = new URLSearchParams({ state: pending.state, error: 'access_denied' });
    expect(
      ((await failure(app.client.handleCallback(denied, pending))) as UpstreamRejectedError).oauthError,
    ).toBe('access_denied');
    const noCode = new URLSearchParams({ state: pending.state });
    expect((await failure(app.client.handleCallback(noCode, pending))).code).toBe('token.invalid');
    // The real code, but with a different PKCE verifier: the provider refuses it.
    const wrongVerifier = { ...pending, codeVerifier: 'x'.repeat(43) };
    const refused = await failure(app.client.handleCallback(callback.searchParams, wrongVerifier));
    expect((refused as UpstreamRejectedError).oauthError).toBe('invalid_grant');
  });

  it('verifies ID tokens: nonce, audience, signature', async () => {
    const app = await startApp(idp);
    const { tokens } = await signIn(app, idp, 'amy');
    const idToken = tokens.idToken!;
    expect((await app.client.verifyIdToken(idToken)).sub).toBe('amy');
    expect((await failure(app.client.verifyIdToken(idToken, 'other-nonce'))).code).toBe('token.invalid');
    const otherAudience = await OidcClient.discover({ issuer: idp.issuer, clientId: 'someone-else' });
    expect((await failure(otherAudience.verifyIdToken(idToken))).code).toBe('token.invalid');
    const [header, payload, signature] = idToken.split('.') as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'root' }),
    ).toString('base64url');
    expect((await failure(app.client.verifyIdToken(`${header}.${forged}.${signature}`))).code).toBe(
      'token.invalid',
    );
    expect(app.client.endSessionUrl({ state: 's' })).toContain('/session/end?client_id=');
  });

  it('classifies a provider that does not answer as unavailable', async () => {
    const client = await OidcClient.discover({
      issuer: idp.issuer,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    });
    await idp.stop();
    try {
      const errors = await Promise.all([
        failure(client.refresh('x')),
        failure(client.introspect('x')),
        failure(client.revoke('x')),
        failure(OidcClient.discover({ issuer: idp.issuer, clientId: CLIENT_ID })),
      ]);
      expect(errors.map((error) => [error.code, error.details.upstream])).toEqual(
        Array(4).fill(['upstream.unavailable', true]),
      );
    } finally {
      await idp.restart();
    }
  });

  it('validates vault options and bounds full-jitter delays', async () => {
    const app = await startApp(idp);
    const keys = await VaultKeyRing.create({ keys: [KEY_A] });
    expect(
      () =>
        new UpstreamTokenVault({
          manager: app.manager,
          client: app.client,
          keys,
          leaseMs: 100,
          retry: { maxDelayMs: 1000 },
        }),
    ).toThrow(expect.objectContaining({ code: 'input.invalid' }));
    const options = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(
      [0, 1, 2, 3, 4, 10].map((retry) => fullJitterDelay(retry, { ...options, random: () => 0.999 })),
    ).toEqual([99, 199, 399, 799, 999, 999]);
    expect(fullJitterDelay(3, { ...options, random: () => 0 })).toBe(0);
  });
});
