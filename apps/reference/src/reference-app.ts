import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { adminAuditRecorder, auditHealthCheck } from '@sessionkit/audit';
import type { Clock } from '@sessionkit/core';
import { randomToken, SessionManager, sessionStoreCheck, systemClock } from '@sessionkit/core';
import type { DemoIdp } from '@sessionkit/demo-idp';
import { configFromEnv, DEMO_IDP_MFA_ACR, startDemoIdp } from '@sessionkit/demo-idp';
import { identityProviderCheck, OidcClient, VaultKeyRing } from '@sessionkit/upstream';
import express from 'express';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { AdminInsights } from './admin-insights.js';
import type { OAuthClient } from './app.js';
import { createApp } from './app.js';
import type { AppDatabase } from './app-database.js';
import { sharedSecret } from './app-database.js';
import { AUDIT_SCHEMA, setUpAudit } from './audit-setup.js';
import { setUpBinding } from './binding-setup.js';
import type { AppConfig } from './config.js';
import { idpSignInRouter } from './idp-sign-in.js';
import { openInfrastructure, tablesOf } from './infrastructure.js';
import { resolveKeyEncryptionKeys } from './key-encryption-key.js';
import { reportLiveSessions } from './live-session-gauge.js';
import { SecurityLoginProtection } from './login-protection.js';
import { appReadiness, databaseCheck, rateLimitStoreCheck } from './readiness.js';
import { openSecrets } from './secrets-setup.js';
import { setUpSecurity } from './security-setup.js';
import type { SigningKeySchedule } from './signing-key-schedule.js';
import { traceFields } from './trace-fields.js';
import { DEMO_USERS, UserDirectory } from './user-directory.js';

/** A scrape every few seconds then costs the store one count per 15 s; the gauge is that much behind at most. */
const LIVE_SESSIONS_MAX_AGE_MS = 15_000;

export interface RunningApp {
  url: string;
  /** The demo identity provider's issuer, when DEMO_IDP is on. */
  idpIssuer?: string;
  /** The demo identity provider itself, when DEMO_IDP is on. */
  idp?: DemoIdp;
  /** The introspection/revocation client: the start-up banner shows a generated secret to the operator. */
  oauthClient: OAuthClient;
  server: Server;
  manager: SessionManager;
  users: UserDirectory;
  /** The shared access-token key schedule; `sync()` runs what the periodic timer runs. */
  signingKeys: SigningKeySchedule;
  /** The embedded demo's key-encryption key, on the start that generated it: for the console banner. */
  generatedKek?: { file: string; key: string };
  logger: Logger;
  /** Drains in-flight requests, then closes the engine, audit and every backend. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Starts the reference app: every SessionKit package composed with the policies the issue names (5 sessions
 * per user, evict oldest; 30 min idle; 12 h absolute; step-up within 15 min for sensitive actions).
 */
export async function startReferenceApp(config: AppConfig, clock: Clock = systemClock): Promise<RunningApp> {
  const logger = pino({ level: config.LOG_LEVEL, base: { app: 'sessionkit-reference' }, mixin: traceFields });
  const keks = resolveKeyEncryptionKeys(config);
  const infra = await openInfrastructure(config, logger);
  const sql = tablesOf<AppDatabase>(infra.sql);
  const { vault, signingKeys } = await openSecrets({ keks, config, sql, clock, logger, infra });
  const secret = (name: string) => sharedSecret(sql, vault, name, () => randomToken(32));
  const ipHashKey = config.IP_HASH_KEY ?? (await secret('ip-hash-key'));
  const oauthClient: OAuthClient = {
    id: config.INTROSPECTION_CLIENT_ID,
    secret: config.INTROSPECTION_CLIENT_SECRET ?? (await secret('introspection-client-secret')),
  };

  const security = await setUpSecurity(
    infra,
    { networkHashKey: await secret('network-hash-key'), deviceCookieKey: await secret('device-cookie-key') },
    { config, clock, logger },
  );
  const manager = new SessionManager({
    store: infra.sessionStore,
    clock,
    accessTokens: signingKeys.ring,
    assessors: [security.risk],
    config: {
      maxSessionsPerUser: 5,
      onLimit: 'evict-oldest',
      idleTimeoutMs: 30 * 60_000,
      absoluteLifetimeMs: 12 * 3_600_000,
      freshnessMaxAgeMs: 15 * 60_000,
      // From the shared table, so every instance on this database recognises the others' old refresh tokens.
      secret: await secret('server-secret'),
      ipHashKey,
    },
  });
  // Refresh-token reuse seen by the engine feeds the risk engine's `token.reuse` signal.
  security.risk.observe(manager.events);
  await manager.start();
  // This app creates sessions without a tenant: they all go on the series without one.
  const stopLiveSessions = reportLiveSessions(infra.sessionStore, {
    tenants: [],
    maxAgeMs: LIVE_SESSIONS_MAX_AGE_MS,
    now: () => clock.now(),
    logger,
  });

  const users = new UserDirectory(sql, vault, () => clock.now());
  await users.seed();
  const audit = await setUpAudit({
    db: infra.sql,
    events: manager.events,
    integrityKey: await secret('audit-integrity-key'),
    ipKey: await secret('audit-ip-key'),
    logger,
  });

  let shuttingDown = false;
  const readiness = appReadiness({
    checks: [
      sessionStoreCheck(infra.sessionStore),
      databaseCheck(infra.sql),
      auditHealthCheck(audit.auditor),
      ...(infra.redis ? [rateLimitStoreCheck(infra.redis)] : []),
    ],
    draining: () => shuttingDown,
    logger,
  });
  const idpSignIn = express.Router();
  const protection = new SecurityLoginProtection({ manager, clock, ...security });
  const app = createApp({
    idpSignIn,
    logger,
    clock,
    manager,
    users,
    protection,
    devices: security.devices,
    transferLimiter: security.transferLimiter,
    audit: audit.hooks,
    activity: audit.activity,
    requests: { recorder: audit.requests, sampleRate: config.ACTIVITY_SAMPLE_RATE },
    admin: {
      users,
      adminEmails: config.ADMIN_EMAILS,
      insights: new AdminInsights(infra.sql, { schema: AUDIT_SCHEMA, now: () => clock.now() }),
      audit: adminAuditRecorder(audit.auditor),
      activity: audit.activity,
    },
    oauthClients: [oauthClient],
    cookieSecure: config.COOKIE_SECURE,
    ...(config.TRUST_PROXY === undefined ? {} : { trustProxy: config.TRUST_PROXY }),
    publicDir: fileURLToPath(new URL('../public', import.meta.url)),
    health: readiness.handler,
    ...setUpBinding(infra, clock, {
      dpopNonce: await secret('dpop-nonce-secret'),
      dbsc: await secret('dbsc-secret'),
      cookieSecure: config.COOKIE_SECURE,
    }),
    ...(config.PUBLIC_ORIGIN === undefined ? {} : { publicOrigin: config.PUBLIC_ORIGIN }),
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(config.PORT, config.HOST, () => resolve(listening));
    listening.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST}:${port}`;
  logger.info({ url, backends: infra.describe }, 'reference app listening');
  // The id only: a secret never goes to the log stream.
  logger.info(
    {
      clientId: oauthClient.id,
      secretSource: config.INTROSPECTION_CLIENT_SECRET ? 'environment' : 'generated',
    },
    'introspection client',
  );

  let idp: DemoIdp | undefined;
  if (config.DEMO_IDP) {
    // The provider registers this app's redirect and logout URIs, so it starts once the app knows its URL.
    const idpConfig = configFromEnv({
      DEMO_IDP_APP_ORIGIN: url,
      DEMO_IDP_PORT: String(config.DEMO_IDP_PORT),
    });
    const [demo] = idpConfig.clients;
    if (!demo) throw new Error('demo IdP configuration has no client');
    idp = await startDemoIdp(idpConfig);
    const client = await OidcClient.discover({
      issuer: idp.issuer,
      clientId: demo.clientId,
      clientSecret: demo.clientSecret,
      redirectUri: `${url}/auth/idp/callback`,
    });
    const keys = await VaultKeyRing.create({
      keys: [{ id: 'k1', secret: await secret('upstream-vault-key') }],
    });
    idpSignIn.use(
      idpSignInRouter({
        manager,
        users,
        client,
        keys,
        sql,
        protection,
        audit: audit.hooks,
        assurance: { aal2Acr: [DEMO_IDP_MFA_ACR] },
        now: () => clock.now(),
        cookieSecure: config.COOKIE_SECURE,
      }),
    );
    readiness.add(identityProviderCheck(client));
    logger.info({ issuer: idp.issuer }, 'demo identity provider started');
  }

  let closing: Promise<void> | undefined;
  const shutdown = () => {
    closing ??= (async () => {
      shuttingDown = true;
      // Stop accepting, let in-flight requests finish; idle keep-alive sockets close now, busy ones after.
      const drained = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = setTimeout(() => server.closeAllConnections(), 10_000);
      await drained;
      clearTimeout(deadline);
      await idp?.stop();
      signingKeys.stop();
      stopLiveSessions();
      await manager.close();
      await audit.auditor.close();
      await infra.close();
      logger.info('reference app stopped');
    })();
    return closing;
  };
  return {
    url,
    server,
    manager,
    users,
    signingKeys,
    logger,
    shutdown,
    ...(keks.generatedIn === undefined
      ? {}
      : { generatedKek: { file: keks.generatedIn, key: keks.current.key.toString('base64url') } }),
    oauthClient,
    ...(idp === undefined ? {} : { idpIssuer: idp.issuer, idp }),
  };
}

export { DEMO_USERS };
