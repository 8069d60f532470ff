import type { Clock, DpopReplayCache } from '@sessionkit/core';
import { InvalidInputError, parseInput, sha256, systemClock } from '@sessionkit/core';
import { stringifySetCookie } from 'cookie';
import type { Request, Response, Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { AuthenticationRequiredError } from './adapter-errors.js';
import { asyncHandler } from './async-handler.js';
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
}

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
  });
  const setBoundCookie = (res: Response, sessionId: string) => {
    const value = tokens.boundCookie(sessionId, settings.boundCookieMaxAgeMs);
    const line = stringifySetCookie(cookieName, value, {
      httpOnly: true,
      secure: settings.secure,
      sameSite: 'lax',
      path: '/',
      maxAge: Math.floor(settings.boundCookieMaxAgeMs / 1000),
    });
    const existing = res.getHeader('set-cookie');
    const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
    res.setHeader('set-cookie', [...list, line]);
  };
  const challengeAgain = (res: Response, sessionId: string) => {
    res.setHeader('secure-session-challenge', `"${tokens.challenge(sessionId)}";id="${sessionId}"`);
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
      noStore(res);
      const session = req.sessionkit?.session;
      if (!session || req.sessionkit?.transport !== 'cookie') throw new AuthenticationRequiredError();
      const proof = req.get('secure-session-response');
      if (proof === undefined) throw new InvalidInputError('Secure-Session-Response header is required');
      const check = await verifyRegistrationProof(proof);
      if (!check.ok) return refuse(req, session.sessionId, check.reason);
      if (!tokens.isChallengeFor(session.sessionId, check.challenge)) {
        return refuse(req, session.sessionId, 'unknown or stale challenge');
      }
      if (!(await claimOnce(check.challenge, check.key.jkt)))
        return refuse(req, session.sessionId, 'replayed');
      await stateOf(req).manager.bindDevice(session.sessionId, check.key);
      setBoundCookie(res, session.sessionId);
      res.json(instructions(req, session.sessionId));
    }),
  );

  router.post(
    '/refresh',
    asyncHandler(async (req, res) => {
      noStore(res);
      const sessionId = req.get('sec-secure-session-id');
      const manager = stateOf(req).manager;
      const key = sessionId === undefined ? undefined : await manager.deviceKeyOf(sessionId);
      if (sessionId === undefined || key === undefined) throw new AuthenticationRequiredError();
      const proof = req.get('secure-session-response');
      if (proof === undefined) return challengeAgain(res, sessionId);
      const check = await verifyRefreshProof(proof, key);
      if (!check.ok) return refuse(req, sessionId, check.reason);
      // A stale or already used challenge is no theft sign by itself (races, retries): ask again.
      if (
        !tokens.isChallengeFor(sessionId, check.challenge) ||
        !(await claimOnce(check.challenge, key.jkt))
      ) {
        return challengeAgain(res, sessionId);
      }
      setBoundCookie(res, sessionId);
      res.setHeader('secure-session-challenge', `"${tokens.challenge(sessionId)}";id="${sessionId}"`);
      res.json(instructions(req, sessionId));
    }),
  );

  return {
    router,
    offerRegistration(res, sessionId) {
      const challenge = tokens.challenge(sessionId);
      res.setHeader(
        'secure-session-registration',
        `(ES256 RS256);path="${settings.basePath}/register";challenge="${challenge}"`,
      );
    },
    accepts(req, sessionId) {
      const header = req.headers.cookie;
      if (header === undefined) return false;
      const match = header.split(/; */).find((part) => part.startsWith(`${cookieName}=`));
      return tokens.isBoundCookieFor(sessionId, match?.slice(cookieName.length + 1));
    },
  };
}
