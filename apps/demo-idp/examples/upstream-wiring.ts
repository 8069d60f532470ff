/**
 * The upstream module of @sessionkit/core wired end to end against the demo IdP:
 * sign in (code + PKCE), seal the provider's tokens into the session, use and refresh them, receive a
 * back-channel logout. Run: pnpm --filter @sessionkit/demo-idp example
 */
import { MemoryStore, SessionManager } from '@sessionkit/core';
import {
  BackchannelLogoutReceiver,
  OidcClient,
  sessionsByMetadata,
  UpstreamTokenVault,
  VaultKeyRing,
} from '@sessionkit/upstream';
import { startDemoIdp } from '../src/index.js';

const client_ = { clientId: 'example-app', clientSecret: 'example-app-secret-0123456789' };
const redirectUri = 'http://127.0.0.1:3999/auth/idp/callback';
const idp = await startDemoIdp({
  port: 0,
  clients: [{ ...client_, redirectUris: [redirectUri] }],
  accounts: [{ id: 'alice', password: 'demo-idp-password', email: 'alice@example.com' }],
});

// --- wiring: once per process --------------------------------------------------------------------------
const manager = new SessionManager({ store: new MemoryStore() });
const client = await OidcClient.discover({ issuer: idp.issuer, ...client_, redirectUri });
const keys = await VaultKeyRing.create({
  // In production: keys from your secret store, newest first; keep old ones until no record uses them.
  keys: [{ id: '2026-01', secret: process.env.VAULT_KEY ?? VaultKeyRing.generateSecret() }],
});
const vault = new UpstreamTokenVault({ manager, client, keys, log: (entry) => console.log('vault:', entry) });
const logoutReceiver = BackchannelLogoutReceiver.forClient(client, {
  manager,
  sessionsForSid: sessionsByMetadata({ manager, key: 'idpSid' }),
});

// --- GET /auth/idp/login: keep `pending` server-side (e.g. a short-lived signed cookie), redirect ----------
const { url, pending } = client.authorizationRequest({ scope: 'openid email' });

// (a person signs in at the IdP here; this script fills in the form itself)
const callback = await scriptedSignIn(url, 'alice', 'demo-idp-password');

// --- GET /auth/idp/callback ------------------------------------------------------------------------------
const { tokens, claims } = await client.handleCallback(callback.searchParams, pending);
const issued = await manager.create({
  userId: claims.sub,
  metadata: claims.sid ? { idpSid: claims.sid } : {},
});
await vault.save(issued.session.id, tokens);
const view = await manager.get(issued.session.id);
console.log('metadata in the session view (the sealed sk.upstream never shows):', view?.metadata);

// --- anywhere the app calls an API on the user's behalf ----------------------------------------------------
const accessToken = await vault.accessToken(issued.session.id);
console.log('upstream access token active:', (await client.introspect(accessToken ?? '')).active);
const refreshed = await vault.refresh(issued.session.id);
console.log('refreshed; new token differs:', refreshed?.accessToken !== accessToken);

// --- POST /auth/idp/backchannel-logout: body in, answer out --------------------------------------------------
const answer = await logoutReceiver.handleRequest('logout_token=not-a-jwt');
console.log('a forged logout token is answered', answer.status, answer.body);

await idp.stop();

/** A scripted browser: keeps cookies, follows redirects, submits the IdP's login form. */
async function scriptedSignIn(start: string, username: string, password: string): Promise<URL> {
  const cookies = new Map<string, string>();
  const go = async (target: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...cookies].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return response;
  };
  let next = new URL(start);
  for (let hop = 0; hop < 12 && !next.href.startsWith(redirectUri); hop += 1) {
    let response = await go(next.href);
    if (response.status === 200) {
      response = await go(`${next.href}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, password }),
      });
    }
    next = new URL(response.headers.get('location') ?? '', next);
  }
  return next;
}
