/**
 * An Express 5 app whose users sign in at an OpenID provider (Keycloak, Authentik, Auth0, Entra...): code flow
 * with PKCE, the provider's tokens sealed inside the session, refreshed when due, and the provider's
 * back-channel logout ending the session here.
 *
 *   SESSIONKIT_SECRET=... VAULT_KEY=... OIDC_ISSUER=https://idp.example OIDC_CLIENT_ID=... OIDC_CLIENT_SECRET=...
 *   APP_ORIGIN=https://app.example node server.js
 */
import { randomUUID } from 'node:crypto';
import { MemoryStore, SessionManager } from '@sessionkit/core';
import {
  backChannelLogoutRouter,
  csrfProtection,
  endSession,
  establishSession,
  problemHandler,
  requireSession,
  sessionMiddleware,
  sessionOf,
} from '@sessionkit/express';
import {
  BackchannelLogoutReceiver,
  idTokenAssurance,
  OidcClient,
  type PendingAuthorization,
  sessionsByMetadata,
  UpstreamTokenVault,
  VaultKeyRing,
} from '@sessionkit/upstream';
import express from 'express';
import { z } from 'zod';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    APP_ORIGIN: z.url(), // where the browser reaches this app; the callback URL is registered at the provider
    OIDC_ISSUER: z.url(),
    OIDC_CLIENT_ID: z.string().min(1),
    OIDC_CLIENT_SECRET: z.string().min(1),
    SESSIONKIT_SECRET: z.string().min(32),
    VAULT_KEY: z.string().min(32), // VaultKeyRing.generateSecret(); keep old keys in the ring while records use them
  })
  .parse(process.env);

const manager = new SessionManager({
  store: new MemoryStore(),
  config: { secret: env.SESSIONKIT_SECRET },
});
await manager.start();
const client = await OidcClient.discover({
  issuer: env.OIDC_ISSUER,
  clientId: env.OIDC_CLIENT_ID,
  clientSecret: env.OIDC_CLIENT_SECRET,
  redirectUri: `${env.APP_ORIGIN}/auth/idp/callback`,
});
const keys = await VaultKeyRing.create({ keys: [{ id: '2026-01', secret: env.VAULT_KEY }] });
const vault = new UpstreamTokenVault({ manager, client, keys, log: (entry) => console.log('vault', entry) });
const receiver = BackchannelLogoutReceiver.forClient(client, {
  manager,
  sessionsForSid: sessionsByMetadata({ manager, key: 'idpSid' }),
});

// Sign-ins in progress, kept server-side for ten minutes under a random id in an HttpOnly cookie.
const pendingSignIns = new Map<string, PendingAuthorization>();
const PENDING_COOKIE = 'idp_pending';

const app = express();
// The provider POSTs here, server to server: mounted ahead of the browser's CSRF check.
app.use('/auth/idp/backchannel-logout', backChannelLogoutRouter({ receiver }));
app.use(sessionMiddleware({ manager }), express.json(), csrfProtection());

app.get('/auth/idp/login', (_req, res) => {
  const { url, pending } = client.authorizationRequest({ scope: 'openid email' });
  const id = randomUUID();
  pendingSignIns.set(id, pending);
  setTimeout(() => pendingSignIns.delete(id), 600_000).unref();
  res.cookie(PENDING_COOKIE, id, { httpOnly: true, secure: true, sameSite: 'lax', maxAge: 600_000 });
  res.redirect(url);
});
app.get('/auth/idp/callback', async (req, res) => {
  const id = /(?:^|;\s*)idp_pending=([\w-]+)/.exec(req.get('cookie') ?? '')?.[1] ?? '';
  const pending = pendingSignIns.get(id);
  pendingSignIns.delete(id);
  res.clearCookie(PENDING_COOKIE);
  if (!pending) {
    res.status(400).send('No sign-in in progress: start again.');
    return;
  }
  const callback = new URL(req.originalUrl, env.APP_ORIGIN);
  const { tokens, claims } = await client.handleCallback(callback.searchParams, pending);
  const { aal } = idTokenAssurance(claims); // 2 only when the provider asserts a second factor
  const { session } = await establishSession(req, res, {
    userId: claims.sub,
    aal,
    metadata: claims.sid ? { idpSid: claims.sid } : {},
  });
  await vault.save(session.id, tokens);
  res.redirect('/me');
});
app.get('/me', requireSession(), async (req, res) => {
  const { userId, sessionId } = sessionOf(req);
  // Refreshed at the provider first when close to expiry; use it to call APIs on the user's behalf.
  const accessToken = await vault.accessToken(sessionId);
  res.json({ userId, upstreamAccessToken: accessToken !== undefined });
});
app.post('/logout', async (req, res) => {
  await endSession(req, res);
  res.status(204).end();
});
app.use(problemHandler());

const server = app.listen(env.PORT, () => console.log(`listening on http://localhost:${env.PORT}`));
process.once('SIGTERM', () => {
  server.close(async () => {
    await manager.close();
  });
});
