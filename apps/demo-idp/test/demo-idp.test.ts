import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemoryStore, SessionKitError, SessionManager } from '@sessionkit/core';
import { BackchannelLogoutReceiver, OidcClient, sessionsByMetadata } from '@sessionkit/upstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoIdp } from '../src/index.js';
import { configFromEnv, DEMO_IDP_MFA_ACR, startDemoIdp } from '../src/index.js';

const CLIENT = { clientId: 'demo-app', clientSecret: 'demo-app-secret-0123456789' };
const REDIRECT = 'http://127.0.0.1:3999/auth/idp/callback';
const HOME = 'http://127.0.0.1:3999/';

/** A browser in miniature: cookies and hand-followed redirects. */
class Browser {
  readonly cookies = new Map<string, string>();
  async go(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  }
  /** Follows redirects until a page answers, or a redirect leaves for `stopAt`. */
  async follow(url: string, stopAt: string): Promise<{ url: URL; page?: string }> {
    let next = new URL(url);
    for (let hop = 0; hop < 10; hop += 1) {
      if (next.href.startsWith(stopAt)) return { url: next };
      const response = await this.go(next.href);
      const location = response.headers.get('location');
      if (location === null) return { url: next, page: await response.text() };
      next = new URL(location, next);
    }
    throw new Error('too many redirects');
  }
}

describe('demo IdP', () => {
  let idp: DemoIdp;
  let client: OidcClient;
  let manager: SessionManager;
  let receiver: BackchannelLogoutReceiver;
  let stopReceiver: () => void;

  beforeAll(async () => {
    manager = new SessionManager({ store: new MemoryStore(), config: { ipHashKey: 'k'.repeat(32) } });
    const rp = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        receiver.handleRequest(body).then((answer) => {
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
        });
      });
    });
    await new Promise<void>((resolve) => rp.listen(0, '127.0.0.1', resolve));
    stopReceiver = () => rp.close();
    idp = await startDemoIdp({
      port: 0,
      clients: [
        {
          ...CLIENT,
          redirectUris: [REDIRECT],
          postLogoutRedirectUris: [HOME],
          backchannelLogoutUri: `http://127.0.0.1:${(rp.address() as AddressInfo).port}/logout`,
        },
      ],
      accounts: [
        { id: 'alice', password: 'pw-alice', email: 'alice@example.com' },
        { id: 'bob', password: 'pw-bob', email: 'bob@example.com', emailVerified: true, amr: ['pwd', 'otp'] },
        { id: 'carol', password: 'pw-carol', email: 'carol@example.com', emailVerified: false },
        { id: 'dave', password: 'pw-dave', acr: DEMO_IDP_MFA_ACR },
      ],
    });
    client = await OidcClient.discover({ issuer: idp.issuer, ...CLIENT, redirectUri: REDIRECT });
    receiver = BackchannelLogoutReceiver.forClient(client, {
      manager,
      sessionsForSid: sessionsByMetadata({ manager, key: 'idpSid' }),
    });
  });
  afterAll(async () => {
    await idp.stop();
    stopReceiver();
  });

  async function signIn(browser: Browser, password: string, username = 'alice') {
    const { url, pending } = client.authorizationRequest({ scope: 'openid email' });
    const form = await browser.follow(url, REDIRECT);
    expect(form.page).toContain('<form method="post"');
    const answer = await browser.go(new URL('login', `${form.url.href}/`).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }),
    });
    if (answer.status === 401) return { rejected: await answer.text() };
    const callback = await browser.follow(answer.headers.get('location') ?? '', REDIRECT);
    return { result: await client.handleCallback(callback.url.searchParams, pending) };
  }

  async function signedIn(browser: Browser) {
    const { result } = await signIn(browser, 'pw-alice');
    if (!result) throw new Error('sign-in was rejected');
    return result;
  }

  it('signs a user in through its login form, issues rotating refresh tokens, introspects', async () => {
    const browser = new Browser();
    expect((await signIn(browser, 'wrong')).rejected).toContain('wrong password');
    const result = await signedIn(browser);
    expect(result.claims).toMatchObject({
      sub: 'alice',
      email: 'alice@example.com',
      sid: expect.any(String),
    });
    const refreshed = await client.refresh(result.tokens.refreshToken!);
    expect(refreshed.refreshToken).not.toBe(result.tokens.refreshToken);
    expect((await client.introspect(refreshed.accessToken)).active).toBe(true);
    expect((await client.introspect(result.tokens.refreshToken!, 'refresh_token')).active).toBe(false);
  });

  it("puts each account's email_verified, amr and acr in its ID token, and leaves out what is unset", async () => {
    const claimsOf = async (username: string) => {
      const { result } = await signIn(new Browser(), `pw-${username}`, username);
      if (!result) throw new Error(`${username} was rejected`);
      return result.claims;
    };
    const alice = await claimsOf('alice');
    expect(alice).toMatchObject({ email: 'alice@example.com' });
    expect(alice).not.toHaveProperty('email_verified');
    expect(alice).not.toHaveProperty('amr');
    expect(await claimsOf('bob')).toMatchObject({ email_verified: true, amr: ['pwd', 'otp'] });
    expect(await claimsOf('carol')).toMatchObject({ email: 'carol@example.com', email_verified: false });
    expect(await claimsOf('dave')).toMatchObject({ sub: 'dave', acr: DEMO_IDP_MFA_ACR });
  });

  it('signs a logout token that names only sid, which a receiver accepts', async () => {
    const session = await manager.create({ userId: 'alice', metadata: { idpSid: 'sid-only-1' } });
    const token = await idp.logoutToken({ clientId: CLIENT.clientId, sid: 'sid-only-1' });
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    expect(header).toMatchObject({ typ: 'logout+jwt', alg: 'RS256' });
    expect(payload).toMatchObject({ iss: idp.issuer, aud: CLIENT.clientId, sid: 'sid-only-1' });
    expect(payload).not.toHaveProperty('sub');
    const claims = await receiver.verifyLogoutToken(token);
    expect(claims.sid).toBe('sid-only-1');
    const withSub = await idp.logoutToken({ clientId: CLIENT.clientId, sid: 'sid-only-1', sub: 'alice' });
    expect(await receiver.logout(withSub)).toEqual({ revoked: 1, by: 'sid' });
    expect((await manager.get(session.session.id))?.state).toBe('revoked');
  });

  it('sends a back-channel logout to the app when the user signs out at the IdP', async () => {
    const browser = new Browser();
    const result = await signedIn(browser);
    const session = await manager.create({ userId: 'alice', metadata: { idpSid: result.claims.sid! } });
    const logout = client.endSessionUrl({ idTokenHint: result.tokens.idToken, postLogoutRedirectUri: HOME })!;
    const page = await (await browser.go(logout)).text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
    const confirm = await browser.go(`${idp.issuer}/session/end/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }),
    });
    expect(confirm.headers.get('location')).toBe(HOME);
    expect((await manager.get(session.session.id))?.state).toBe('revoked');
  });

  it('builds the reference app client from the environment and rejects a bad config with input.invalid', async () => {
    const config = configFromEnv({ DEMO_IDP_PORT: '4999' });
    expect(config.port).toBe(4999);
    expect(config.clients[0]?.redirectUris).toEqual([
      'http://127.0.0.1:3000/auth/idp/callback',
      'http://localhost:3000/auth/idp/callback',
    ]);
    const error = await startDemoIdp({ port: 0, clients: [], accounts: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionKitError);
    expect((error as SessionKitError).code).toBe('input.invalid');
  });
});
