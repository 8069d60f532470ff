import type { SessionManager } from '@sessionkit/core';
import { InvalidTokenError, parseInput } from '@sessionkit/core';
import { backChannelLogoutRouter, establishSession, requestContext } from '@sessionkit/express';
import type {
  IdTokenAssurance,
  IdTokenAssuranceOptions,
  OidcClient,
  PendingAuthorization,
  UpstreamTokens,
  VaultKeyRing,
} from '@sessionkit/upstream';
import {
  BackchannelLogoutReceiver,
  idTokenAssurance,
  sessionsByMetadata,
  UpstreamTokenVault,
} from '@sessionkit/upstream';
import type { Request, Response, Router } from 'express';
import express from 'express';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AppDatabase } from './app-database.js';
import { AppProblem } from './app-problem.js';
import type { AuthAudit, LoginAttemptInfo, LoginProtection } from './auth-router.js';
import { networkOf } from './auth-router.js';
import { describeDevice } from './device-description.js';
import { PENDING_MFA_TTL_MS, PendingMfaSignIns } from './idp-pending-mfa.js';
import { ProviderSessionIndex } from './idp-session-index.js';
import type { UserDirectory } from './user-directory.js';

const PENDING_COOKIE = 'sk_idp_pending';
const PENDING_TTL_MS = 10 * 60_000;
const SEAL_CONTEXT = 'reference/idp-pending';
/** The browser's handle on a provider sign-in that still owes the account's TOTP. */
const MFA_COOKIE = 'sk_idp_mfa';
const COOKIE_PATH = '/auth/idp';

const pendingSchema = z.object({
  state: z.string().min(1).max(256),
  nonce: z.string().min(1).max(256),
  codeVerifier: z.string().min(1).max(256),
  redirectUri: z.string().url().max(2048),
  expiresAt: z.number().int(),
});
const totpBody = z.object({ otp: z.string().min(1).max(16) });

export interface IdpSignInOptions {
  manager: SessionManager;
  users: UserDirectory;
  client: OidcClient;
  keys: VaultKeyRing;
  /** The app's tables: pending second-factor sign-ins and the provider-session index live there. */
  sql: Kysely<AppDatabase>;
  protection: LoginProtection;
  audit: AuthAudit;
  /** Which `amr`/`acr` values of this provider count as a second factor. */
  assurance?: IdTokenAssuranceOptions;
  now: () => number;
  cookieSecure: boolean;
}

interface SignIn {
  userId: string;
  subject: string;
  sid?: string | undefined;
  tokens: UpstreamTokens;
  aal: 1 | 2;
  /** When the person authenticated, if earlier than now: the provider's `auth_time`. */
  authenticatedAt?: number | undefined;
}

/**
 * "Sign in with the demo IdP" at `/auth/idp`: `GET /login` sends the browser to the provider (code + PKCE),
 * `GET /callback` turns its answer into a SessionKit session whose upstream tokens are sealed in the vault, and
 * `POST /backchannel-logout` ends the sessions of a provider session that logged out. The pending authorization
 * (state, nonce, PKCE verifier) travels in a short-lived AES-GCM-sealed cookie, so any instance can take the
 * callback. A local account with a second factor gets a session from the provider alone only when the provider
 * asserts one (`amr`/`acr`); otherwise the callback leaves the browser at a "TOTP required" step
 * (`POST /totp`), and the session starts only after a valid code.
 */
export function idpSignInRouter(options: IdpSignInOptions): Router {
  const { manager, users, client, keys, protection, audit } = options;
  const vault = new UpstreamTokenVault({ manager, client, keys });
  const pendingMfa = new PendingMfaSignIns(options.sql, keys, options.now);
  const providerSessions = new ProviderSessionIndex(options.sql, {
    issuer: client.issuer,
    retentionMs: manager.config.absoluteLifetimeMs,
    now: options.now,
  });
  const receiver = BackchannelLogoutReceiver.forClient(client, {
    manager,
    userIdForSubject: (sub) => users.userIdForSubject(client.issuer, sub),
    sessionsForSid: sessionsByMetadata({
      manager,
      key: 'idpSid',
      userIdForSubject: (sub) => users.userIdForSubject(client.issuer, sub),
      userIdForSid: (sid) => providerSessions.userIdFor(sid),
    }),
  });
  const cookieOptions = { httpOnly: true, secure: options.cookieSecure, path: COOKIE_PATH };

  /** The local user a provider identity is: by email only when the provider verified it. */
  const localUserFor = async ({ email, emailVerified }: IdTokenAssurance, subject: string) => {
    const local = email === undefined ? undefined : await users.findByEmail(email);
    if (local && !emailVerified) {
      throw new AppProblem(
        403,
        'idp.email_unverified',
        'The identity provider has not verified this email address, so it cannot sign in to the account that uses it',
      );
    }
    return local ?? { id: `idp:${subject}`, mfaEnrolled: false };
  };

  const startSession = async (req: Request, res: Response, signIn: SignIn) => {
    await users.linkSubject(client.issuer, signIn.subject, signIn.userId);
    if (signIn.sid !== undefined) await providerSessions.record(signIn.sid, signIn.userId);
    const device = describeDevice(requestContext(req).userAgent);
    const issued = await establishSession(req, res, {
      userId: signIn.userId,
      aal: signIn.aal,
      ...(signIn.authenticatedAt === undefined ? {} : { authenticatedAt: signIn.authenticatedAt }),
      deviceLabel: device,
      metadata: {
        device,
        network: networkOf(req.ip),
        via: 'demo-idp',
        ...(signIn.sid === undefined ? {} : { idpSid: signIn.sid }),
      },
    });
    await vault.save(issued.session.id, signIn.tokens);
    audit.loginSucceeded(req, {
      userId: signIn.userId,
      sessionId: issued.session.id,
      mfa: signIn.aal === 2,
    });
    return issued;
  };

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
    // Lax: the provider's redirect back is a top-level GET navigation, which Lax cookies accompany.
    res.cookie(PENDING_COOKIE, sealed, { ...cookieOptions, sameSite: 'lax', maxAge: PENDING_TTL_MS });
    res.redirect(303, url);
  });

  router.get('/callback', async (req: Request, res: Response) => {
    const pending = await openPending(keys, cookieValue(req, PENDING_COOKIE));
    res.clearCookie(PENDING_COOKIE, { path: COOKIE_PATH });
    const params = new URL(req.originalUrl, 'http://callback.invalid').searchParams;
    const { tokens, claims } = await client.handleCallback(params, pending);
    const assurance = idTokenAssurance(claims, options.assurance);
    const user = await localUserFor(assurance, claims.sub);
    const sid = typeof claims.sid === 'string' ? claims.sid : undefined;
    if (user.mfaEnrolled && assurance.aal < 2) {
      const handle = await pendingMfa.begin({
        userId: user.id,
        subject: claims.sub,
        ...(sid === undefined ? {} : { sid }),
        tokens,
      });
      // Strict: only the app's own page posts the code; the cookie never accompanies another site's request.
      res.cookie(MFA_COOKIE, handle, { ...cookieOptions, sameSite: 'strict', maxAge: PENDING_MFA_TTL_MS });
      res.redirect(303, '/?idp=totp');
      return;
    }
    await startSession(req, res, {
      userId: user.id,
      subject: claims.sub,
      sid,
      tokens,
      aal: assurance.aal,
      // Never later than now: a provider clock ahead of ours must not make the session fresher than it is.
      authenticatedAt: Math.min(options.now(), assurance.authenticatedAt ?? Number.POSITIVE_INFINITY),
    });
    res.redirect(303, '/');
  });

  router.post('/totp', async (req: Request, res: Response) => {
    const handle = cookieValue(req, MFA_COOKIE);
    const pending = await pendingMfa.find(handle);
    if (handle === undefined || pending === undefined) throw noPendingSignIn();
    const body = parseInput(totpBody, req.body, 'one-time code');
    const attempt: LoginAttemptInfo = {
      account: pending.userId,
      ip: req.ip ?? 'unknown',
      userId: pending.userId,
    };
    await protection.check(attempt);
    if (!(await users.verifyTotp(pending.userId, body.otp))) {
      await protection.failed(attempt);
      audit.mfaFailed(req, { userId: pending.userId });
      throw new AppProblem(401, 'otp.invalid', 'That code is wrong or was already used');
    }
    const taken = await pendingMfa.take(handle);
    if (taken === undefined) throw noPendingSignIn();
    res.clearCookie(MFA_COOKIE, { path: COOKIE_PATH });
    await protection.succeeded({ ...attempt, context: requestContext(req) });
    const issued = await startSession(req, res, { ...taken, aal: 2 });
    res.json({ session: issued.session, csrfToken: req.sessionkit?.csrfToken });
  });

  router.use('/backchannel-logout', backChannelLogoutRouter({ receiver }));
  return router;
}

function noPendingSignIn(): AppProblem {
  return new AppProblem(
    401,
    'idp.no_pending_sign_in',
    'No sign-in is waiting for a code in this browser, or it has expired; sign in with the provider again',
  );
}

function cookieValue(req: Request, name: string): string | undefined {
  const raw = req
    .get('cookie')
    ?.split(';')
    .map((part) => part.trim())
    .find((part) => part.startsWith(`${name}=`))
    ?.slice(name.length + 1);
  if (!raw) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

async function openPending(keys: VaultKeyRing, raw: string | undefined): Promise<PendingAuthorization> {
  if (!raw) throw new InvalidTokenError('No sign-in is pending in this browser');
  let value: unknown;
  try {
    value = JSON.parse((await keys.open(raw, SEAL_CONTEXT)).plaintext);
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
