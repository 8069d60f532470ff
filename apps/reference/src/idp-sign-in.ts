import type { SessionManager } from '@sessionkit/core';
import { InvalidTokenError } from '@sessionkit/core';
import type { OidcClient, PendingAuthorization, VaultKeyRing } from '@sessionkit/core/upstream';
import { BackchannelLogoutReceiver, UpstreamTokenVault } from '@sessionkit/core/upstream';
import { backChannelLogoutRouter, establishSession, requestContext } from '@sessionkit/express';
import type { Request, Response, Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { networkOf } from './auth-router.js';
import { describeDevice } from './device-description.js';
import type { UserDirectory } from './user-directory.js';

const PENDING_COOKIE = 'sk_idp_pending';
const PENDING_TTL_MS = 10 * 60_000;
const SEAL_CONTEXT = 'reference/idp-pending';

const pendingSchema = z.object({
  state: z.string().min(1).max(256),
  nonce: z.string().min(1).max(256),
  codeVerifier: z.string().min(1).max(256),
  redirectUri: z.string().url().max(2048),
  expiresAt: z.number().int(),
});

export interface IdpSignInOptions {
  manager: SessionManager;
  users: UserDirectory;
  client: OidcClient;
  keys: VaultKeyRing;
  cookieSecure: boolean;
}

/**
 * "Sign in with the demo IdP" at `/auth/idp`: `GET /login` sends the browser to the provider (code + PKCE),
 * `GET /callback` turns its answer into a SessionKit session whose upstream tokens are sealed in the vault, and
 * `POST /backchannel-logout` ends the sessions of a provider session that logged out. The pending authorization
 * (state, nonce, PKCE verifier) travels in a short-lived AES-GCM-sealed cookie, so any instance can take the
 * callback.
 */
export function idpSignInRouter(options: IdpSignInOptions): Router {
  const { manager, users, client, keys } = options;
  const vault = new UpstreamTokenVault({ manager, client, keys });
  const userIdForSubject = (sub: string) => users.userIdForSubject(client.issuer, sub);
  const receiver = BackchannelLogoutReceiver.forClient(client, {
    manager,
    userIdForSubject,
    // The sessions opened under the provider session `sid`: found among the user's sessions by metadata.
    sessionsForSid: async (claims) => {
      const userId = claims.sub === undefined ? undefined : await userIdForSubject(claims.sub);
      if (userId === undefined) return [];
      const sessions = await manager.list(userId);
      return sessions
        .filter((session) => session.state === 'active' && session.metadata.idpSid === claims.sid)
        .map((session) => session.id);
    },
  });

  const router = express.Router();
  router.get('/', (_req, res) => {
    res.json({ enabled: true, issuer: client.issuer });
  });

  router.get('/login', async (_req: Request, res: Response) => {
    const { url, pending } = client.authorizationRequest({ scope: 'openid email profile' });
    const sealed = await keys.seal(
      JSON.stringify({ ...pending, expiresAt: Date.now() + PENDING_TTL_MS }),
      SEAL_CONTEXT,
    );
    res.cookie(PENDING_COOKIE, sealed, {
      httpOnly: true,
      secure: options.cookieSecure,
      // Lax: the provider's redirect back is a top-level GET navigation, which Lax cookies accompany.
      sameSite: 'lax',
      path: '/auth/idp',
      maxAge: PENDING_TTL_MS,
    });
    res.redirect(303, url);
  });

  router.get('/callback', async (req: Request, res: Response) => {
    const pending = await openPending(keys, req.get('cookie'));
    res.clearCookie(PENDING_COOKIE, { path: '/auth/idp' });
    const params = new URL(req.originalUrl, 'http://callback.invalid').searchParams;
    const { tokens, claims } = await client.handleCallback(params, pending);
    const email =
      typeof claims.email === 'string' && claims.email_verified !== false ? claims.email : undefined;
    // A provider account with the email of a local user signs in as that user; others get a namespaced id.
    const local = email === undefined ? undefined : await users.findByEmail(email);
    const userId = local?.id ?? `idp:${claims.sub}`;
    await users.linkSubject(client.issuer, claims.sub, userId);
    const device = describeDevice(requestContext(req).userAgent);
    const issued = await establishSession(req, res, {
      userId,
      aal: 1,
      deviceLabel: device,
      metadata: {
        device,
        network: networkOf(req.ip),
        via: 'demo-idp',
        ...(typeof claims.sid === 'string' ? { idpSid: claims.sid } : {}),
      },
    });
    await vault.save(issued.session.id, tokens);
    res.redirect(303, '/');
  });

  router.use('/backchannel-logout', backChannelLogoutRouter({ receiver }));
  return router;
}

async function openPending(
  keys: VaultKeyRing,
  cookieHeader: string | undefined,
): Promise<PendingAuthorization> {
  const raw = cookieHeader
    ?.split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${PENDING_COOKIE}=`))
    ?.slice(PENDING_COOKIE.length + 1);
  if (!raw) throw new InvalidTokenError('No sign-in is pending in this browser');
  let value: unknown;
  try {
    value = JSON.parse((await keys.open(decodeURIComponent(raw), SEAL_CONTEXT)).plaintext);
  } catch {
    throw new InvalidTokenError('The pending sign-in is invalid');
  }
  const pending = pendingSchema.safeParse(value);
  if (!pending.success || pending.data.expiresAt < Date.now()) {
    throw new InvalidTokenError('The pending sign-in has expired; start again');
  }
  const { expiresAt: _expiresAt, ...authorization } = pending.data;
  return authorization;
}
