import type { Clock, DpopReplayCache } from '@sessionkit/core';
import { InvalidInputError, parseInput, sha256, systemClock } from '@sessionkit/core';
import { stringifySetCookie } from 'cookie';
import type { Request, Response, Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { AuthenticationRequiredError } from './adapter-errors.js';
import { asyncHandler } from './async-handler.js';
import type { SkipReason } from './dbsc-headers.js';
import { secureSessionId, secureSessionResponse, serializeSfString, skippedReason } from './dbsc-headers.js';
import { DbscTokens, verifyRefreshProof, verifyRegistrationProof } from './dbsc-proof.js';
import { noStore } from './no-store.js';
import { requestContext } from './request-context.js';
import { stateOf } from './request-state.js';

const optionsSchema = z.object({
  /** At least 32 characters, shared by every instance: it keys challenges and bound-cookie values. */
  secret: z.string().min(32),
  /** The path the router is mounted at, e.g. `/dbsc`: registration is `<basePath>/register`. */
  basePath: z.string().regex(/^\/[A-Za-z0-9/_-]*$/),
  /** Secure cookie with the `__Host-` prefix. Default true. */
  secure: z.boolean().default(true),
  /** Life of the bound cookie: how long a stolen copy of it works. Default 10 minutes. */
  boundCookieMaxAgeMs: z
    .number()
    .int()
    .min(30_000)
    .default(10 * 60_000),
  /**
   * Hosts outside the session's origin whose pages may trigger a refresh (the draft's
   * `allowed_refresh_initiators`): `*`, `*.example.com` or `example.com`. Default none.
   */
  allowedRefreshInitiators: z
    .array(z.string().regex(/^(?:\*|(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*)$/))
    .max(32)
    .default([]),
});

export interface DeviceBoundSessionsOptions extends z.input<typeof optionsSchema> {
  /** Remembers used challenges, so a signed proof counts once (the DPoP replay caches serve). */
  replayCache: DpopReplayCache;
  clock?: Clock;
}

export interface DeviceBoundSessions {
  /** `POST /register` and `POST /refresh`; mount at `basePath`, before CSRF protection and the binding guard. */
  router: Router;
  /** After a cookie login: asks a DBSC browser to register a key for `sessionId`. Others ignore the header. */
  offerRegistration(res: Response, sessionId: string): void;
  /** True when the request carries a current bound cookie for `sessionId`. */
  accepts(req: Request, sessionId: string): boolean;
  /** The reason a `Secure-Session-Skipped` header gives for `sessionId` (the browser skipped a refresh). */
  skippedRefresh(req: Request, sessionId: string): SkipReason | undefined;
  /** Expires the bound cookie: on logout, beside the session cookie (`endSession(req, res, { dbsc })`). */
  clearBoundCookie(res: Response): void;
}

/** Termination (the draft's `continue: false`): the browser drops its DBSC session and stops refreshing. */
const TERMINATE = { continue: false } as const;

/**
 * Device Bound Session Credentials (W3C webappsec-dbsc draft as of 2026-02-17, commit d346811): the browser
 * registers a key, the server answers with a short-lived bound cookie, and renews it only on a proof signed by
 * that key over a fresh challenge. A session registered this way refuses cookie requests without a current
 * bound cookie (through `sessionBinding({ dbsc })`); a browser without DBSC never registers and keeps working.
 */
export function deviceBoundSessions(options: DeviceBoundSessionsOptions): DeviceBoundSessions {
  const settings = parseInput(optionsSchema, options, 'device bound session options');
  const clock = options.clock ?? systemClock;
  const tokens = new DbscTokens(settings.secret, clock);
  const cookieName = settings.secure ? '__Host-sk_bound' : 'sk_bound';
  const cookieAttributes = `Path=/; ${settings.secure ? 'Secure; ' : ''}HttpOnly; SameSite=Lax`;
  const router = express.Router();

  const instructions = (req: Request, sessionId: string) => ({
    session_identifier: sessionId,
    refresh_url: `${settings.basePath}/refresh`,
    scope: { origin: `${req.protocol}://${req.get('host')}`, include_site: false, scope_specification: [] },
    credentials: [{ type: 'cookie', name: cookieName, attributes: cookieAttributes }],
    allowed_refresh_initiators: settings.allowedRefreshInitiators,
  });
  const challengeHeader = (sessionId: string) =>
    `${serializeSfString(tokens.challenge(sessionId))};id=${serializeSfString(sessionId)}`;
  /**
   * Both endpoints answer only the browser's own DBSC fetches: never with CORS credentials (a cross-site
   * page could time them to learn login state) and never framed.
   */
  const guard = (res: Response) => {
    noStore(res);
    res.removeHeader('access-control-allow-origin');
    res.removeHeader('access-control-allow-credentials');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('cross-origin-resource-policy', 'same-origin');
  };
  const setBoundCookie = (res: Response, sessionId: string | undefined) => {
    const value = sessionId === undefined ? '' : tokens.boundCookie(sessionId, settings.boundCookieMaxAgeMs);
    const line = stringifySetCookie(cookieName, value, {
      httpOnly: true,
      secure: settings.secure,
      sameSite: 'lax',
      path: '/',
      maxAge: sessionId === undefined ? 0 : Math.floor(settings.boundCookieMaxAgeMs / 1000),
    });
    const existing = res.getHeader('set-cookie');
    const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    res.setHeader('set-cookie', [...list, line]);
  };
  const challengeAgain = (res: Response, sessionId: string) => {
    res.setHeader('secure-session-challenge', challengeHeader(sessionId));
    res.status(403).end();
  };
  /** A refused proof ends the browser's DBSC session (4xx), and is audited like any binding refusal. */
  const refuse = (req: Request, sessionId: string, reason: string): never => {
    stateOf(req).manager.bindingRejected('binding.required', { sessionId, context: requestContext(req) });
    throw new InvalidInputError(`Device-bound session proof refused: ${reason}`);
  };
  const claimOnce = (challenge: string, jkt: string) =>
    options.replayCache.claimOnce(sha256(`dbsc.${jkt}.${challenge}`), clock.now() + 11 * 60_000, clock.now());

  router.post(
    '/register',
    asyncHandler(async (req, res) => {
      guard(res);
      const session = req.sessionkit?.session;
      if (!session || req.sessionkit?.transport !== 'cookie') throw new AuthenticationRequiredError();
      const proof = secureSessionResponse(req.get('secure-session-response'));
      if (proof === undefined) throw new InvalidInputError('A Secure-Session-Response header is required');
      const check = await verifyRegistrationProof(proof);
      if (!check.ok) return refuse(req, session.sessionId, check.reason);
      if (!tokens.isChallengeFor(session.sessionId, check.challenge)) {
        return refuse(req, session.sessionId, 'unknown or stale challenge');
      }
      // The draft has the browser copy the offer's `authorization` into the proof (and, optionally, into an
      // Authorization header): it must be the one offered to this session, and the header must agree.
      if (
        check.authorization === undefined ||
        !tokens.isAuthorizationFor(session.sessionId, check.authorization)
      ) {
        return refuse(req, session.sessionId, 'authorization claim missing or not for this session');
      }
      const header = req.get('authorization');
      if (header !== undefined && header !== check.authorization) {
        return refuse(req, session.sessionId, 'Authorization header differs from the proof');
      }
      if (!(await claimOnce(check.challenge, check.key.jkt)))
        return refuse(req, session.sessionId, 'replayed');
      await stateOf(req).manager.bindDevice(session.sessionId, check.key);
      setBoundCookie(res, session.sessionId);
      res.setHeader('secure-session-challenge', challengeHeader(session.sessionId));
      res.json(instructions(req, session.sessionId));
    }),
  );

  router.post(
    '/refresh',
    asyncHandler(async (req, res) => {
      guard(res);
      // A Sec- header no page script can set: its presence is the draft's sign of the browser's own refresh.
      const sessionId = secureSessionId(req.get('sec-secure-session-id'));
      if (sessionId === undefined) throw new InvalidInputError('A Sec-Secure-Session-Id header is required');
      const key = await stateOf(req).manager.deviceKeyOf(sessionId);
      if (key === undefined) {
        // Revoked, expired, or never bound: tell the browser to drop the DBSC session rather than retry.
        setBoundCookie(res, undefined);
        res.json(TERMINATE);
        return;
      }
      const proof = req.get('secure-session-response');
      if (proof === undefined) return challengeAgain(res, sessionId);
      const parsed = secureSessionResponse(proof);
      if (parsed === undefined) return refuse(req, sessionId, 'not a JWS');
      const check = await verifyRefreshProof(parsed, key);
      if (!check.ok) return refuse(req, sessionId, check.reason);
      // A stale or already used challenge is no theft sign by itself (races, retries): ask again.
      if (
        !tokens.isChallengeFor(sessionId, check.challenge) ||
        !(await claimOnce(check.challenge, key.jkt))
      ) {
        return challengeAgain(res, sessionId);
      }
      setBoundCookie(res, sessionId);
      res.setHeader('secure-session-challenge', challengeHeader(sessionId));
      res.json(instructions(req, sessionId));
    }),
  );

  return {
    router,
    offerRegistration(res, sessionId) {
      const path = serializeSfString(`${settings.basePath}/register`);
      const challenge = serializeSfString(tokens.challenge(sessionId));
      const authorization = serializeSfString(tokens.authorization(sessionId));
      res.setHeader(
        'secure-session-registration',
        `(ES256 RS256);path=${path};challenge=${challenge};authorization=${authorization}`,
      );
    },
    accepts(req, sessionId) {
      const header = req.headers.cookie;
      if (header === undefined) return false;
      const match = header.split(/; */).find((part) => part.startsWith(`${cookieName}=`));
      return tokens.isBoundCookieFor(sessionId, match?.slice(cookieName.length + 1));
    },
    skippedRefresh(req, sessionId) {
      return skippedReason(req.get('secure-session-skipped'), sessionId);
    },
    clearBoundCookie(res) {
      setBoundCookie(res, undefined);
    },
  };
}
