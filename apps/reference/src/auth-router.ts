import type { DpopProofVerifier, RequestContext, SessionManager } from '@sessionkit/core';
import { parseInput } from '@sessionkit/core';
import type { DeviceBoundSessions, RolesResolver } from '@sessionkit/express';
import {
  endSession,
  establishSession,
  requestContext,
  requireSession,
  sessionOf,
  stepUpSession,
  verifyDpopProof,
} from '@sessionkit/express';
import { ipPrefix } from '@sessionkit/security';
import type { Request, Response, Router } from 'express';
import express from 'express';
import { z } from 'zod';
import { AppProblem } from './app-problem.js';
import type { DeviceCookies } from './device-cookie.js';
import { describeDevice } from './device-description.js';
import type { UserDirectory } from './user-directory.js';

/** Brute-force protection around password and OTP checks; throws `rate.limited` when the caller must wait. */
export interface LoginProtection {
  check(attempt: LoginAttemptInfo): Promise<void>;
  failed(attempt: LoginAttemptInfo): Promise<void>;
  succeeded(attempt: LoginAttemptInfo): Promise<LoginSuccess>;
  /** Throws `rate.limited` when this client refreshes too often (fails closed when the limiter cannot answer). */
  checkRefresh(ip: string): Promise<void>;
}

export interface LoginAttemptInfo {
  account: string;
  ip: string;
  userId?: string;
  /** On success: what the risk profile learns as a trusted device and network. */
  context?: RequestContext;
  /** The device cookie the browser presented: proof it signed in to this account before. */
  deviceCookie?: string;
}

export interface LoginSuccess {
  /** Set on the browser after a password login, so it counts as a known device for this account. */
  deviceCookie: string;
}

/** Security-relevant outcomes the session engine does not see itself (it never sees a wrong password). */
export interface AuthAudit {
  loginSucceeded(req: Request, details: { userId: string; sessionId: string; mfa: boolean }): void;
  loginFailed(req: Request, details: { account: string; reason: string; userId?: string }): void;
  mfaFailed(req: Request, details: { userId: string; sessionId?: string }): void;
  loggedOut(req: Request, details: { userId: string; sessionId: string }): void;
}

const loginBody = z.object({
  email: z.string().trim().toLowerCase().email().max(254),
  password: z.string().min(1).max(1024),
  otp: z.string().max(16).optional(),
  /** `bearer` (API clients): no cookie, the tokens in the answer. A browser's cookie login never sees a token. */
  transport: z.enum(['cookie', 'bearer']).default('cookie'),
});
const refreshBody = z.object({ refreshToken: z.string().min(1).max(256) });
const stepUpBody = z.object({ otp: z.string().min(1).max(16) });

export interface AuthRouterOptions {
  manager: SessionManager;
  users: UserDirectory;
  protection: LoginProtection;
  audit: AuthAudit;
  devices: DeviceCookies;
  cookieSecure: boolean;
  /** With it, a login or refresh carrying a DPoP proof binds the session (or the access token) to its key. */
  dpop?: DpopProofVerifier;
  /** With it, a browser that signs in with a cookie is asked to bind the session to a device key. */
  dbsc?: DeviceBoundSessions;
  publicOrigin?: string;
}

/** `POST /login`, `/refresh`, `/step-up`, `/logout`, exactly as DESIGN.md section 6 names them. */
export function authRouter(options: AuthRouterOptions): Router {
  const { manager, users, protection, audit, devices, cookieSecure } = options;
  const router = express.Router();
  const dpopProof = (req: Request, res: Response) =>
    options.dpop && verifyDpopProof(req, res, options.dpop, { origin: options.publicOrigin });

  router.post('/login', async (req: Request, res: Response) => {
    const body = parseInput(loginBody, req.body, 'login request');
    // Before the password is looked at: a client sent back for a nonce retries without a failed attempt counted.
    const proof = await dpopProof(req, res);
    const deviceCookie = devices.read(req, cookieSecure);
    const attempt: LoginAttemptInfo = {
      account: body.email,
      ip: req.ip ?? 'unknown',
      ...(deviceCookie === undefined ? {} : { deviceCookie }),
    };
    await protection.check(attempt);
    const user = await users.verifyPassword(body.email, body.password);
    if (!user) {
      await protection.failed(attempt);
      audit.loginFailed(req, { account: body.email, reason: 'bad_credentials' });
      throw new AppProblem(401, 'auth.invalid_credentials', 'Wrong email or password');
    }
    const known = { ...attempt, userId: user.id };
    if (user.mfaEnrolled) {
      if (body.otp === undefined || body.otp === '') {
        throw new AppProblem(401, 'otp.required', 'This account needs the code from its authenticator app');
      }
      if (!(await users.verifyTotp(user.id, body.otp))) {
        await protection.failed(known);
        audit.mfaFailed(req, { userId: user.id });
        throw new AppProblem(401, 'otp.invalid', 'That code is wrong or was already used');
      }
    }
    const success = await protection.succeeded({ ...known, context: requestContext(req) });
    devices.set(res, success.deviceCookie, cookieSecure);
    const device = describeDevice(requestContext(req).userAgent);
    const create = {
      userId: user.id,
      aal: user.mfaEnrolled ? (2 as const) : (1 as const),
      deviceLabel: device,
      metadata: { device, network: networkOf(req.ip) },
      ...(proof ? { dpopJkt: proof.jkt } : {}),
    };
    // A DPoP client gets a bound session and no cookie: a cookie would carry it without the key.
    if (proof || body.transport === 'bearer') {
      const issued = await establishSession(req, res, create, { transport: 'bearer' });
      audit.loginSucceeded(req, { userId: user.id, sessionId: issued.session.id, mfa: user.mfaEnrolled });
      res.json({
        session: issued.session,
        token: issued.token,
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        expiresAt: issued.expiresAt,
      });
      return;
    }
    const established = await establishSession(req, res, create);
    options.dbsc?.offerRegistration(res, established.session.id);
    audit.loginSucceeded(req, { userId: user.id, sessionId: established.session.id, mfa: user.mfaEnrolled });
    res.json({ ...established, csrfToken: req.sessionkit?.csrfToken });
  });

  router.post('/refresh', async (req: Request, res: Response) => {
    await protection.checkRefresh(req.ip ?? 'unknown');
    const body = parseInput(refreshBody, req.body, 'refresh request');
    const proof = await dpopProof(req, res);
    const refreshed = await manager.refresh(body.refreshToken, {
      context: requestContext(req),
      ...(proof ? { dpopJkt: proof.jkt } : {}),
    });
    res.json({ accessToken: refreshed.accessToken, refreshToken: refreshed.refreshToken });
  });

  router.post('/step-up', requireSession({ tier: 'full' }), async (req: Request, res: Response) => {
    const me = sessionOf(req);
    const body = parseInput(stepUpBody, req.body, 'step-up request');
    const attempt: LoginAttemptInfo = { account: me.userId, ip: req.ip ?? 'unknown', userId: me.userId };
    await protection.check(attempt);
    if (!(await users.verifyTotp(me.userId, body.otp))) {
      await protection.failed(attempt);
      audit.mfaFailed(req, { userId: me.userId, sessionId: me.sessionId });
      throw new AppProblem(401, 'otp.invalid', 'That code is wrong or was already used');
    }
    await protection.succeeded(attempt);
    // Every credential is re-issued: a bearer client gets the new ones (those it held no longer work), a cookie
    // session its new cookie and CSRF token.
    res.json({ ...(await stepUpSession(req, res, { aal: 2 })), csrfToken: req.sessionkit?.csrfToken });
  });

  router.post('/logout', async (req: Request, res: Response) => {
    const me = req.sessionkit?.session;
    if (await endSession(req, res, { dbsc: options.dbsc })) {
      if (me) audit.loggedOut(req, { userId: me.userId, sessionId: me.sessionId });
    }
    res.status(204).end();
  });

  return router;
}

/** A coarse network label for "your devices": the /24 (IPv4) or /48 (IPv6), never the address itself. */
export function networkOf(ip: string | undefined): string {
  return (ip === undefined ? undefined : ipPrefix(ip)) ?? 'unknown network';
}

/** The session of the request, as `GET /api/me/sessions/current` answers it, with what the page needs. */
export function currentSessionHandler(users: UserDirectory, rolesOf?: RolesResolver) {
  return async (req: Request, res: Response) => {
    const me = sessionOf(req);
    const view = me.session;
    const user = await users.findById(me.userId);
    const roles = rolesOf ? await rolesOf(me, req) : [];
    res.json({
      session: view ? { ...view, current: true } : undefined,
      user: user
        ? { displayName: user.displayName, email: user.email, mfaEnrolled: user.mfaEnrolled, roles }
        : undefined,
      csrfToken: req.sessionkit?.csrfToken,
    });
  };
}
