import { context } from '@opentelemetry/api';
import type {
  ActivitySource,
  Clock,
  DpopProofVerifier,
  RateLimiter,
  RequestActivityRecorder,
  SessionManager,
} from '@sessionkit/core';
import type { DeviceBoundSessions } from '@sessionkit/express';
import {
  basicClientAuthenticator,
  csrfProtection,
  introspectionRouter,
  jwksRouter,
  problemHandler,
  requestActivity,
  requireAal,
  requireFresh,
  requireSession,
  revocationRouter,
  selfServiceRouter,
  sessionBinding,
  sessionMiddleware,
  sessionOf,
  transferRouter,
} from '@sessionkit/express';
import type { ErrorRequestHandler, Express, RequestHandler, Router } from 'express';
import express from 'express';
import type { Logger } from 'pino';
import type { AdminApiOptions } from './admin-api.js';
import { adminApi } from './admin-api.js';
import { adminRoles } from './admin-roles.js';
import { AppProblem } from './app-problem.js';
import type { AuthAudit, LoginProtection } from './auth-router.js';
import { authRouter, currentSessionHandler } from './auth-router.js';
import type { DeviceCookies } from './device-cookie.js';
import { requestCategory } from './request-category.js';
import { transferQrHandler } from './transfer-qr.js';
import type { UserDirectory } from './user-directory.js';

/** NIST SP 800-63B AAL2: re-authentication within 15 minutes for sensitive actions. */
export const SENSITIVE_MAX_AUTH_AGE_MS = 15 * 60_000;

export interface OAuthClient {
  id: string;
  secret: string;
}

export interface AppDependencies {
  logger: Logger;
  /** The engine's clock: guards measure authentication freshness with it. */
  clock: Clock;
  manager: SessionManager;
  users: UserDirectory;
  protection: LoginProtection;
  /** Signed device cookies: a browser that signed in to an account before passes its account-wide lockout. */
  devices: DeviceCookies;
  audit: AuthAudit;
  activity?: ActivitySource;
  /** Where each (sampled) request of a session goes: the devices page shows the last one per session. */
  requests?: { recorder: RequestActivityRecorder; sampleRate: number };
  /** The operator's API and console (`/api/admin`, `/admin`). */
  admin?: AdminApiOptions;
  /** Counts cross-device code redemptions per client network. */
  transferLimiter: RateLimiter;
  /** Clients allowed to call RFC 7662 introspection and RFC 7009 revocation (HTTP Basic). */
  oauthClients: readonly OAuthClient[];
  cookieSecure: boolean;
  /** Express `trust proxy` (unset: the socket address is the client). */
  trustProxy?: string | number;
  publicDir: string;
  /**
   * Where the identity-provider sign-in routes go once the provider is up (they need the app's own URL
   * first): a router mounted now and filled later, so the app's routes can be listed like any others.
   */
  idpSignIn?: Router;
  /** `/healthz` and `/readyz` (`readiness.ts`): readiness goes 503 once SIGTERM arrived, so the load balancer drains. */
  health: RequestHandler;
  /** DPoP proofs: login and refresh bind to the proof's key, and bound sessions must prove it on every request. */
  dpop?: DpopProofVerifier;
  /** Device Bound Session Credentials for cookie sessions: registration and refresh under `/dbsc`. */
  dbsc?: DeviceBoundSessions;
  /** The origin clients address, when a proxy stands in front (DPoP `htu`). */
  publicOrigin?: string;
}

export function createApp(deps: AppDependencies): Express {
  const { logger, manager } = deps;
  const app = express();
  app.disable('x-powered-by');
  if (deps.trustProxy !== undefined) app.set('trust proxy', deps.trustProxy);
  app.use(securityHeaders);
  app.use(requestLog(logger));

  app.use(deps.health);

  app.get('/', (_req, res) => {
    res.sendFile('index.html', { root: deps.publicDir });
  });
  app.get('/admin', (_req, res) => {
    res.sendFile('admin.html', { root: deps.publicDir });
  });
  app.use('/assets', express.static(deps.publicDir, { index: false, fallthrough: false }));

  app.use(jwksRouter({ manager }));
  const authenticateClient = basicClientAuthenticator(deps.oauthClients);
  app.use('/oauth/introspect', introspectionRouter({ manager, authenticateClient }));
  app.use('/oauth/revoke', revocationRouter({ manager, authenticateClient }));

  app.use(express.json({ limit: '16kb' }));
  app.use(
    sessionMiddleware({
      manager,
      clock: deps.clock,
      cookie: { secure: deps.cookieSecure },
      context: { echoRequestId: true },
    }),
  );
  // Before CSRF protection: the browser itself calls these, and each call proves possession of the device key.
  if (deps.dbsc) app.use('/dbsc', deps.dbsc.router);
  app.use(csrfProtection());
  if (deps.requests) {
    app.use(
      requestActivity({
        recorder: deps.requests.recorder,
        sampleRate: deps.requests.sampleRate,
        categorize: requestCategory,
        onError: (error, req) =>
          logger.error({ err: error, requestId: req.sessionkit?.requestId }, 'request activity failed'),
      }),
    );
  }
  const binding =
    deps.dpop &&
    sessionBinding({ dpop: deps.dpop, dbsc: deps.dbsc, origin: deps.publicOrigin, policy: 'preferred' });
  if (binding) {
    app.use(binding());
    app.get('/api/me/sender-constrained', binding('required'), (req, res) => {
      res.json({ sessionId: sessionOf(req).sessionId, bound: true });
    });
  }

  app.use('/api/auth', authRouter(deps));
  const rolesOf = deps.admin && adminRoles(deps.admin.users, deps.admin.adminEmails);
  app.get(
    '/api/me/sessions/current',
    requireSession({ tier: 'full' }),
    currentSessionHandler(deps.users, rolesOf),
  );
  app.use('/api/me', selfServiceRouter(deps.activity === undefined ? {} : { activity: deps.activity }));
  app.post(
    '/api/me/sensitive',
    requireSession({ tier: 'full' }),
    requireAal(2),
    requireFresh(SENSITIVE_MAX_AUTH_AGE_MS),
    (_req, res) => {
      res.json({ ok: true, did: 'the sensitive thing' });
    },
  );

  if (deps.admin) app.use('/api/admin', adminApi(deps.admin));
  app.post('/api/transfer/qr', requireSession(), transferQrHandler);
  app.use('/api/transfer', transferRouter({ limiter: deps.transferLimiter }));

  if (deps.idpSignIn) app.use('/auth/idp', deps.idpSignIn);

  app.use((_req, _res, next) => next(new AppProblem(404, 'not_found', 'No such resource')));
  app.use(appProblemHandler);
  app.use(
    problemHandler({
      onServerError: (error, req) =>
        logger.error({ err: error, requestId: req.sessionkit?.requestId }, 'request failed'),
    }),
  );
  return app;
}

/** A restrictive policy: the page loads only its own script and stylesheet, and nothing may frame it. */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader(
    'content-security-policy',
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  );
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  next();
};

function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    // Bound to the request's context, so the line carries its trace and span ids (`traceFields`).
    res.on(
      'finish',
      context.bind(context.active(), () => {
        logger.info(
          {
            requestId: req.sessionkit?.requestId,
            method: req.method,
            path: req.path,
            status: res.statusCode,
            ms: Math.round((performance.now() - started) * 10) / 10,
          },
          'request',
        );
      }),
    );
    next();
  };
}

const appProblemHandler: ErrorRequestHandler = (error: unknown, req, res, next) => {
  if (!(error instanceof AppProblem) || res.headersSent) return next(error);
  res
    .status(error.status)
    .type('application/problem+json')
    .setHeader('cache-control', 'no-store')
    .send(
      JSON.stringify({
        type: `urn:sessionkit:problem:${error.code}`,
        title: error.message,
        status: error.status,
        code: error.code,
        requestId: req.sessionkit?.requestId,
      }),
    );
};
