import { Auditor, Keyring, loggerSink, requestActivityRecorder } from '@sessionkit/audit';
import { migrateAuditSchema, SqlActivitySource, SqlAuditLedger } from '@sessionkit/audit/sql';
import type { ActivitySource, RequestActivityRecorder, SessionEvents } from '@sessionkit/core';
import type { Request } from 'express';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AuthAudit } from './auth-router.js';

export const AUDIT_SCHEMA = 'audit';

export interface AuditParts {
  auditor: Auditor;
  activity: ActivitySource;
  hooks: AuthAudit;
  /** Each request of a session, as `session.request` records in its timeline. */
  requests: RequestActivityRecorder;
}

/** The SQL ledger (tamper-evident chain, activity timeline) plus JSON lines on stdout beside the app's logs. */
export async function setUpAudit(options: {
  db: Kysely<unknown>;
  events: SessionEvents;
  integrityKey: string;
  ipKey: string;
  logger: Logger;
}): Promise<AuditParts> {
  const { db, logger } = options;
  await migrateAuditSchema(db, { schema: AUDIT_SCHEMA });
  const keys = new Keyring({ currentKeyId: 'k1', keys: { k1: options.integrityKey } });
  const auditor = new Auditor({
    ledger: new SqlAuditLedger(db, { schema: AUDIT_SCHEMA, keys }),
    sinks: [loggerSink({ stream: process.stdout })],
    ip: { keys: { currentKeyId: 'k1', keys: { k1: options.ipKey } }, keepPrefix: true },
    onDrop: (notice) => logger.error({ notice }, 'audit is dropping records'),
  });
  auditor.attach(options.events);
  const context = (req: Request) => ({
    ...(req.ip === undefined ? {} : { ip: req.ip }),
    ...(req.get('user-agent') === undefined ? {} : { userAgent: req.get('user-agent')?.slice(0, 1024) }),
    ...(req.sessionkit?.requestId ? { requestId: req.sessionkit.requestId } : {}),
  });
  const hooks: AuthAudit = {
    loginSucceeded: (req, details) =>
      auditor.record('auth.login_succeeded', {
        ...context(req),
        userId: details.userId,
        sessionId: details.sessionId,
        details: { method: details.mfa ? 'password+totp' : 'password' },
      }),
    loginFailed: (req, details) =>
      auditor.record('auth.login_failed', {
        ...context(req),
        ...(details.userId === undefined ? {} : { userId: details.userId }),
        reason: details.reason,
      }),
    mfaFailed: (req, details) =>
      auditor.record('auth.mfa_failed', {
        ...context(req),
        userId: details.userId,
        ...(details.sessionId === undefined ? {} : { sessionId: details.sessionId }),
      }),
    loggedOut: (req, details) =>
      auditor.record('auth.logout', {
        ...context(req),
        userId: details.userId,
        sessionId: details.sessionId,
      }),
  };
  return {
    auditor,
    activity: new SqlActivitySource(db, { schema: AUDIT_SCHEMA }),
    hooks,
    requests: requestActivityRecorder(auditor, {
      onInvalid: (error) => logger.error({ err: error }, 'request activity not recorded'),
    }),
  };
}
