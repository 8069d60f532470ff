import type { Clock, SessionManager } from '@sessionkit/core';
import { InvalidTokenError, parseInput, SessionKitError, systemClock } from '@sessionkit/core';
import { ExpiringCache, isInUse } from '@sessionkit/core/store';
import type { JWTPayload, JWTVerifyGetKey, ProtectedHeaderParameters } from 'jose';
import { jwtVerify } from 'jose';
import { z } from 'zod';
import type { OidcClient } from './oidc-client.js';
import { mapJoseError } from './oidc-client.js';
import { UpstreamUnavailableError } from './upstream-errors.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
export const UPSTREAM_LOGOUT_REASON = 'upstream.logout';

const receiverOptionsSchema = z.object({
  issuer: z.string().min(1),
  /** Our client id at the provider: the logout token's `aud`. */
  audience: z.string().min(1),
  algorithms: z.array(z.string().min(1)).min(1).default(['RS256', 'PS256', 'ES256', 'EdDSA']),
  /** Oldest `iat` accepted; also how long a `jti` is remembered, since older tokens fail anyway. */
  maxAgeMs: z.number().int().positive().max(3_600_000).default(120_000),
  clockToleranceMs: z.number().int().nonnegative().max(300_000).default(30_000),
  replayCacheEntries: z.number().int().positive().max(1_000_000).default(10_000),
});
export type BackchannelLogoutConfig = z.input<typeof receiverOptionsSchema>;

const logoutClaimsSchema = z
  .object({
    iss: z.string(),
    aud: z.union([z.string(), z.array(z.string())]),
    iat: z.number(),
    exp: z.number().optional(),
    jti: z.string().min(1).max(256),
    sub: z.string().min(1).max(256).optional(),
    sid: z.string().min(1).max(256).optional(),
    events: z.record(z.string(), z.unknown()),
  })
  .loose();
export type LogoutTokenClaims = z.infer<typeof logoutClaimsSchema>;

export interface BackchannelLogoutOptions extends BackchannelLogoutConfig {
  /** The provider's keys (`OidcClient.jwks` or jose `createRemoteJWKSet`). */
  jwks: JWTVerifyGetKey;
  manager: SessionManager;
  /** The sessions the app opened under the provider session `sid` (see `sessionsByMetadata`). */
  sessionsForSid: (claims: LogoutTokenClaims & { sid: string }) => Promise<string[]> | string[];
  /** Maps the provider's `sub` to our user id for sub-only tokens; identity by default. */
  userIdForSubject?: (
    sub: string,
    claims: LogoutTokenClaims,
  ) => Promise<string | undefined> | string | undefined;
  clock?: Clock;
}

export interface LogoutOutcome {
  revoked: number;
  by: 'sid' | 'sub';
}

export interface BackchannelHttpResponse {
  status: 200 | 400 | 503;
  headers: Record<string, string>;
  body: string;
}

/**
 * OpenID Connect Back-Channel Logout 1.0, receiving side, framework-agnostic: `verifyLogoutToken` does the
 * checks of section 2.6 and `handleRequest` turns a POSTed form into the response of section 2.8.
 * Replayed `jti`s are caught per process; across instances a replay can only repeat an idempotent revocation.
 */
export class BackchannelLogoutReceiver {
  readonly #config: z.output<typeof receiverOptionsSchema>;
  readonly #jwks: JWTVerifyGetKey;
  readonly #manager: SessionManager;
  readonly #sessionsForSid: BackchannelLogoutOptions['sessionsForSid'];
  readonly #userIdForSubject: NonNullable<BackchannelLogoutOptions['userIdForSubject']>;
  readonly #clock: Clock;
  readonly #seen: ExpiringCache<true>;

  constructor(options: BackchannelLogoutOptions) {
    const { jwks, manager, sessionsForSid, userIdForSubject, clock, ...config } = options;
    this.#config = parseInput(receiverOptionsSchema, config, 'back-channel logout options');
    this.#jwks = jwks;
    this.#manager = manager;
    this.#sessionsForSid = sessionsForSid;
    this.#userIdForSubject = userIdForSubject ?? ((sub) => sub);
    this.#clock = clock ?? systemClock;
    this.#seen = new ExpiringCache(this.#config.replayCacheEntries);
  }

  static forClient(
    client: OidcClient,
    options: Omit<BackchannelLogoutOptions, 'issuer' | 'audience' | 'jwks'>,
  ): BackchannelLogoutReceiver {
    return new BackchannelLogoutReceiver({
      ...options,
      issuer: client.issuer,
      audience: client.clientId,
      jwks: client.jwks,
    });
  }

  /** Throws `token.invalid` (or `token.expired`) unless the token is a fresh, unreplayed logout token for us. */
  async verifyLogoutToken(token: unknown): Promise<LogoutTokenClaims> {
    if (typeof token !== 'string' || token.length === 0 || token.length > 16_384) {
      throw new InvalidTokenError('Logout token is missing or malformed');
    }
    const now = this.#clock.now();
    let payload: JWTPayload;
    let header: ProtectedHeaderParameters;
    try {
      ({ payload, protectedHeader: header } = await jwtVerify(token, this.#jwks, {
        issuer: this.#config.issuer,
        audience: this.#config.audience,
        algorithms: this.#config.algorithms,
        currentDate: new Date(now),
        clockTolerance: this.#config.clockToleranceMs / 1000,
        maxTokenAge: this.#config.maxAgeMs / 1000,
        requiredClaims: ['iat', 'jti'],
      }));
    } catch (error) {
      throw mapJoseError(error, 'Logout token');
    }
    // Explicit typing is only RECOMMENDED by the spec, but a token typed as something else is not ours.
    if (header.typ !== undefined && header.typ.toLowerCase() !== 'logout+jwt') {
      throw new InvalidTokenError('Logout token has the wrong type');
    }
    const parsed = logoutClaimsSchema.safeParse(payload);
    if (!parsed.success) throw new InvalidTokenError('Logout token claims are malformed');
    const claims = parsed.data;
    const event = claims.events[BACKCHANNEL_LOGOUT_EVENT];
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new InvalidTokenError('Logout token lacks the back-channel logout event');
    }
    if ('nonce' in claims) throw new InvalidTokenError('Logout token must not carry a nonce');
    if (claims.sub === undefined && claims.sid === undefined) {
      throw new InvalidTokenError('Logout token names neither sub nor sid');
    }
    if (claims.iat * 1000 > now + this.#config.clockToleranceMs) {
      throw new InvalidTokenError('Logout token was issued in the future');
    }
    const replayKey = replayKeyOf(claims);
    if (this.#seen.get(replayKey, now)) throw new InvalidTokenError('Logout token was already used');
    this.#seen.set(
      replayKey,
      true,
      claims.iat * 1000 + this.#config.maxAgeMs + this.#config.clockToleranceMs,
    );
    return claims;
  }

  /** Verifies the token and revokes what it names: the sessions of `sid` if present, else all of `sub`'s. */
  async logout(token: unknown): Promise<LogoutOutcome> {
    const claims = await this.verifyLogoutToken(token);
    try {
      return await this.#revokeNamed(claims);
    } catch (error) {
      // Nothing was done: the provider's retry of this very token must not be refused as a replay.
      this.#seen.delete(replayKeyOf(claims));
      throw error;
    }
  }

  async #revokeNamed(claims: LogoutTokenClaims): Promise<LogoutOutcome> {
    const revoke = { reason: UPSTREAM_LOGOUT_REASON, by: 'policy' as const };
    if (claims.sid !== undefined) {
      let revoked = 0;
      for (const sessionId of await this.#sessionsForSid({ ...claims, sid: claims.sid })) {
        revoked += await this.#manager.revoke(sessionId, revoke);
      }
      return { revoked, by: 'sid' };
    }
    const userId = await this.#userIdForSubject(claims.sub!, claims);
    if (userId === undefined) return { revoked: 0, by: 'sub' };
    return { revoked: await this.#manager.revokeAllForUser(userId, revoke), by: 'sub' };
  }

  /**
   * The HTTP endpoint without the framework: pass the raw `application/x-www-form-urlencoded` body (or an
   * already parsed one). Answers 200, 400 `invalid_request` (section 2.8), or 503 when the provider's keys
   * or our store are unreachable, so the failure is not mistaken for a bad token.
   */
  async handleRequest(
    body: string | URLSearchParams | Record<string, unknown>,
  ): Promise<BackchannelHttpResponse> {
    const form = typeof body === 'string' ? new URLSearchParams(body) : body;
    const token = form instanceof URLSearchParams ? form.get('logout_token') : form.logout_token;
    try {
      await this.logout(token);
      return { status: 200, headers: { 'cache-control': 'no-store' }, body: '' };
    } catch (error) {
      if (
        error instanceof UpstreamUnavailableError ||
        (error instanceof SessionKitError && error.code === 'store.unavailable')
      ) {
        return problem(503, 'temporarily_unavailable');
      }
      if (error instanceof SessionKitError) return problem(400, 'invalid_request');
      throw error;
    }
  }
}

function problem(status: 400 | 503, error: string): BackchannelHttpResponse {
  return {
    status,
    headers: { 'cache-control': 'no-store', 'content-type': 'application/json' },
    body: JSON.stringify({ error }),
  };
}

/**
 * A `sessionsForSid` for apps that record the provider's `sid` in each session's metadata (e.g. `idpSid`):
 * it looks among the sessions (active or suspended) of the token's user, since the store has no index by
 * metadata. That user comes from `sub`, or, for a token that carries only `sid` (the specification allows
 * it), from `userIdForSid`: the app's own record of who signed in under that provider session. Without
 * `userIdForSid`, a sid-only token revokes nothing.
 */
export function sessionsByMetadata(options: {
  manager: SessionManager;
  key: string;
  userIdForSubject?: (sub: string) => Promise<string | undefined> | string | undefined;
  userIdForSid?: (sid: string) => Promise<string | undefined> | string | undefined;
}): BackchannelLogoutOptions['sessionsForSid'] {
  const { manager, key, userIdForSubject, userIdForSid } = options;
  return async (claims) => {
    let userId: string | undefined;
    if (claims.sub !== undefined) userId = userIdForSubject ? await userIdForSubject(claims.sub) : claims.sub;
    else if (userIdForSid) userId = await userIdForSid(claims.sid);
    if (userId === undefined) return [];
    const sessions = await manager.list(userId);
    return sessions
      .filter((session) => isInUse(session.state))
      .filter((session) => session.metadata[key] === claims.sid)
      .map((session) => session.id);
  };
}

function replayKeyOf(claims: LogoutTokenClaims): string {
  return `${claims.iss}\u0000${claims.jti}`;
}
