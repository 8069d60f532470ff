import type { Clock, SessionManager } from '@sessionkit/core';
import { looksLikeJwt, systemClock } from '@sessionkit/core';
import type { Router } from 'express';
import type { ClientAuthenticator } from './oauth-endpoint.js';
import { tokenEndpoint } from './oauth-endpoint.js';
import { sessionOfRefreshToken, sessionOfToken } from './token-check.js';

export interface IntrospectionRouterOptions {
  manager: SessionManager;
  /** Required: RFC 7662 §4 warns that an open endpoint lets anyone scan for live tokens. */
  authenticateClient: ClientAuthenticator;
  clock?: Clock;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * RFC 7662 token introspection at `POST /` (mount at e.g. `/oauth/introspect`): `token` as a form field or
 * JSON. Session and access tokens are checked against the store (so a revoked session reads inactive at
 * once); refresh tokens are looked at without being rotated. Anything that is not a live token of ours
 * answers `{"active": false}`; only a store that cannot answer is an error (503), never "inactive".
 */
export function introspectionRouter(options: IntrospectionRouterOptions): Router {
  const clock = options.clock ?? systemClock;
  return tokenEndpoint(options.authenticateClient, async (token, res) => {
    res.json(await introspect(options.manager, token, clock.now()));
  });
}

async function introspect(
  manager: SessionManager,
  token: string,
  now: number,
): Promise<Record<string, unknown>> {
  if (token.startsWith('rt_')) {
    const record = await sessionOfRefreshToken(manager, token, now);
    if (!record) return { active: false };
    return {
      active: true,
      token_type: 'refresh_token',
      sub: record.userId,
      sid: record.id,
      exp: seconds(record.absoluteExpiresAt),
      tid: record.tenantId,
    };
  }
  const session = await sessionOfToken(manager, token, 'full');
  if (!session) return { active: false };
  return {
    active: true,
    token_type: looksLikeJwt(token) ? 'access_token' : 'session_token',
    sub: session.userId,
    sid: session.sessionId,
    aal: session.aal,
    auth_time: seconds(session.authenticatedAt),
    exp: seconds(session.expiresAt),
    tid: session.tenantId,
  };
}
