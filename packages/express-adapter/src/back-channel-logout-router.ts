import type { Clock, SessionManager } from '@sessionkit/core';
import { SessionKitError, systemClock } from '@sessionkit/core';
import type { Router } from 'express';
import express from 'express';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { jwtVerify } from 'jose';
import { z } from 'zod';
import { asyncHandler } from './async-handler.js';
import { sendOAuthError } from './oauth-endpoint.js';
import type { ReplayCache } from './replay-cache.js';
import { MemoryReplayCache } from './replay-cache.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

const logoutClaimsSchema = z
  .looseObject({
    iss: z.string(),
    iat: z.number(),
    exp: z.number().optional(),
    jti: z.string().min(1).max(256),
    sub: z.string().min(1).max(256).optional(),
    sid: z.string().min(1).max(256).optional(),
    events: z.looseObject({ [BACKCHANNEL_LOGOUT_EVENT]: z.record(z.string(), z.unknown()) }),
    // §2.4: a logout token must never carry a nonce, so an ID token can never pass for one.
    nonce: z.never().optional(),
  })
  .refine((claims) => claims.sub !== undefined || claims.sid !== undefined, {
    message: 'a logout token names a sub or a sid',
  });

export type LogoutTokenClaims = z.infer<typeof logoutClaimsSchema>;

export interface BackChannelLogoutOptions {
  manager: SessionManager;
  /** The OpenID Provider's issuer identifier, compared exactly with `iss`. */
  issuer: string;
  /** Our client id at that provider: `aud` must contain it. */
  audience: string | readonly string[];
  /** The provider's keys: jose's `createRemoteJWKSet(new URL(jwksUri))`, `createLocalJWKSet(jwks)`, or any getter. */
  keys: JWTVerifyGetKey;
  /** Accepted signature algorithms; never `none` or an HMAC. Default RS256, PS256, ES256, EdDSA. */
  algorithms?: readonly string[];
  /** Oldest `iat` accepted, in seconds. Default 300. */
  maxAgeSeconds?: number;
  clockToleranceSeconds?: number;
  replayCache?: ReplayCache;
  /**
   * Maps the token to our session ids, e.g. through the provider `sid` kept in session metadata at login.
   * Without it, every session of the user named by `userIdOf` (default: `sub`) is revoked.
   */
  resolveSessions?: (claims: LogoutTokenClaims) => readonly string[] | Promise<readonly string[]>;
  userIdOf?: (claims: LogoutTokenClaims) => string | undefined;
  clock?: Clock;
}

const bodySchema = z.object({ logout_token: z.string().min(1).max(16_384) });

/**
 * OpenID Connect Back-Channel Logout 1.0 receiver at `POST /` (mount at the `backchannel_logout_uri`).
 * Validates the logout token as §2.6 prescribes (signature against the provider's keys, `iss`, `aud`,
 * `iat`, the logout event, `sub` or `sid`, no `nonce`, `jti` not seen before), revokes the matching
 * sessions, and answers 200, or 400 with an OAuth error body (§2.8).
 */
export function backChannelLogoutRouter(options: BackChannelLogoutOptions): Router {
  const clock = options.clock ?? systemClock;
  const replayCache = options.replayCache ?? new MemoryReplayCache({ now: () => clock.now() });
  const maxAgeSeconds = options.maxAgeSeconds ?? 300;
  const router = express.Router();
  router.post(
    '/',
    express.urlencoded({ extended: false, limit: '32kb' }),
    asyncHandler(async (req, res) => {
      res.setHeader('cache-control', 'no-store');
      const body = bodySchema.safeParse(req.body);
      if (!body.success) return sendOAuthError(res, 400, 'invalid_request', 'logout_token is required');
      const claims = await verifyLogoutToken(body.data.logout_token, options, clock, maxAgeSeconds);
      if (!claims) return sendOAuthError(res, 400, 'invalid_request', 'The logout token is not valid');
      const targets = await targetsOf(claims, options);
      if (!targets) {
        return sendOAuthError(
          res,
          400,
          'invalid_request',
          'The logout token names no session this client can find',
        );
      }
      const replayKey = `${claims.iss}\u0000${claims.jti}`;
      const keepUntil = Math.max(claims.exp ?? 0, claims.iat + maxAgeSeconds) * 1000 + 60_000;
      if (!(await replayCache.claim(replayKey, keepUntil))) {
        return sendOAuthError(res, 400, 'invalid_request', 'The logout token was already used');
      }
      try {
        await revokeTargets(options.manager, targets);
      } catch (error) {
        await replayCache.release(replayKey);
        if (error instanceof SessionKitError && error.code === 'store.unavailable') {
          return sendOAuthError(res, 400, 'temporarily_unavailable', 'Logout could not be completed; retry');
        }
        throw error;
      }
      res.status(200).end();
    }),
  );
  return router;
}

async function verifyLogoutToken(
  token: string,
  options: BackChannelLogoutOptions,
  clock: Clock,
  maxAgeSeconds: number,
): Promise<LogoutTokenClaims | undefined> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: typeof options.audience === 'string' ? options.audience : [...options.audience],
      algorithms: [...(options.algorithms ?? ['RS256', 'PS256', 'ES256', 'EdDSA'])],
      requiredClaims: ['iat', 'jti', 'events'],
      maxTokenAge: maxAgeSeconds,
      clockTolerance: options.clockToleranceSeconds ?? 30,
      currentDate: new Date(clock.now()),
    }));
  } catch {
    return undefined;
  }
  const claims = logoutClaimsSchema.safeParse(payload);
  return claims.success ? claims.data : undefined;
}

type Targets = { sessionIds: readonly string[] } | { userId: string };

async function targetsOf(
  claims: LogoutTokenClaims,
  options: BackChannelLogoutOptions,
): Promise<Targets | undefined> {
  if (options.resolveSessions) return { sessionIds: await options.resolveSessions(claims) };
  const userId = options.userIdOf ? options.userIdOf(claims) : claims.sub;
  return userId === undefined ? undefined : { userId };
}

async function revokeTargets(manager: SessionManager, targets: Targets): Promise<void> {
  const reason = 'oidc.backchannel_logout';
  if ('userId' in targets) {
    await manager.revokeAllForUser(targets.userId, { reason, by: 'system' });
    return;
  }
  for (const sessionId of targets.sessionIds) await manager.revoke(sessionId, { reason, by: 'system' });
}
