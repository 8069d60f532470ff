import type { Clock, SessionManager } from '@sessionkit/core';
import { looksLikeJwt, systemClock } from '@sessionkit/core';
import type { Router } from 'express';
import type { ClientAuthenticator } from './oauth-endpoint.js';
import { tokenEndpoint } from './oauth-endpoint.js';
import { sessionOfRefreshToken, sessionOfToken } from './token-check.js';

export interface RevocationRouterOptions {
  manager: SessionManager;
  authenticateClient: ClientAuthenticator;
  clock?: Clock;
}

/**
 * RFC 7009 token revocation at `POST /` (mount at e.g. `/oauth/revoke`). A token proves itself before
 * anything is revoked: session and access tokens by validation, refresh tokens by their current hash.
 * Revoking any of them ends the session (an access token cannot be revoked alone: it is stateless, and its
 * session's revocation reaches it through the denylist). Unknown, invalid and already-revoked tokens answer
 * 200 too (§2.2); only a store that cannot answer is 503 (§2.2.1).
 */
export function revocationRouter(options: RevocationRouterOptions): Router {
  const clock = options.clock ?? systemClock;
  return tokenEndpoint(options.authenticateClient, async (token, res) => {
    const sessionId = await provenSessionId(options.manager, token, clock.now());
    if (sessionId !== undefined) {
      await options.manager.revoke(sessionId, { reason: 'oauth.revoked', by: 'user' });
    }
    res.status(200).end();
  });
}

async function provenSessionId(
  manager: SessionManager,
  token: string,
  now: number,
): Promise<string | undefined> {
  if (token.startsWith('rt_')) return (await sessionOfRefreshToken(manager, token, now))?.id;
  // An access token is proven by its signature alone; a session token needs the store.
  return (await sessionOfToken(manager, token, looksLikeJwt(token) ? 'fast' : 'full'))?.sessionId;
}
