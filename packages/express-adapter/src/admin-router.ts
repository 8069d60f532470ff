import type { ActivityEntry, ActivitySource, SessionManager, SessionView } from '@sessionkit/core';
import { parseInput, SessionNotFoundError } from '@sessionkit/core';
import type { Request, RequestHandler, Response, Router } from 'express';
import express from 'express';
import type {
  AdminSession,
  AuditVerification,
  DataSubjectErasure,
  DataSubjectExport,
} from './admin-schemas.js';
import {
  adminNameSchema,
  adminRevokeBodySchema,
  adminRevokeUserBodySchema,
  adminSessionIdSchema,
  adminSessionQuerySchema,
  adminStatisticsQuerySchema,
} from './admin-schemas.js';
import { asyncHandler } from './async-handler.js';
import { storeBackedSession } from './guards.js';
import { noStore } from './no-store.js';
import { requestContext } from './request-context.js';
import { stateOf } from './request-state.js';

/** The actions `adminRouter` reports; each is an `admin.*` action of @sessionkit/audit. */
export type AdminAction =
  | 'admin.sessions_listed'
  | 'admin.session_viewed'
  | 'admin.session_revoked'
  | 'admin.session_suspended'
  | 'admin.session_resumed'
  | 'admin.user_sessions_revoked'
  | 'admin.tenant_sessions_revoked'
  | 'admin.statistics_viewed'
  | 'admin.expired_sessions_cleaned'
  | 'admin.audit_chain_verified'
  | 'admin.user_data_exported'
  | 'admin.user_erased';

/** One admin action, who did it (the admin's own session) and to what. */
export interface AdminAuditEntry {
  action: AdminAction;
  outcome: 'success' | 'failure';
  admin: { userId: string; sessionId: string; tenantId?: string };
  target: { sessionId?: string; userId?: string; tenantId?: string };
  /** Sessions revoked or deleted, records shredded, sessions listed. */
  count?: number;
  /** The error code of a failed action. */
  reason?: string;
  requestId?: string;
  ip?: string;
  userAgent?: string;
}

export type AdminAuditRecorder = (entry: AdminAuditEntry) => void | Promise<void>;

/** What an audit trail holds about a user, for data-subject requests (e.g. @sessionkit/audit's). */
export interface DataSubjectRecords {
  /** Every audit record about the user, readable (PII decrypted while the user's key exists). */
  exportUser(userId: string): Promise<unknown[]>;
  /** Makes the user's personal details unreadable for good; returns how many records held some. */
  eraseUser(userId: string): Promise<number>;
}

export interface AdminRouterOptions {
  /** Runs before every route: the app's own rule for who is an admin, e.g. `requireRole('admin')`. */
  authorize: RequestHandler;
  /** Receives every admin action, success or failure; awaited, so a failing trail fails the request. */
  audit?: AdminAuditRecorder;
  /** The activity timeline of `GET /sessions/:id` and of exports. */
  activity?: ActivitySource;
  /** Serves `GET /audit/verify`, e.g. `() => ledger.verifyAll()` mapped to `AuditVerification`. */
  verifyAuditChain?: () => Promise<AuditVerification>;
  /** The audit side of `GET /users/:userId/export` and `POST /users/:userId/erase`. */
  dataSubjects?: DataSubjectRecords;
}

const ACTIVITY_PER_SESSION = 50;
const EXPORT_ACTIVITY_MAX = 10_000;

type Target = AdminAuditEntry['target'];
type Outcome = { body: unknown; count?: number };

function adminView(view: SessionView): AdminSession {
  const deviceType = view.device.fingerprint?.deviceType;
  return deviceType === undefined ? view : { ...view, deviceType };
}

/**
 * The operator's HTTP API (README "Admin API"). Mount after `sessionMiddleware`; every route runs `authorize`
 * first, answers `no-store`, and is reported to `audit` with the admin's identity, whether it succeeded or not.
 */
export function adminRouter(options: AdminRouterOptions): Router {
  const router = express.Router();
  router.use(options.authorize, (_req, res, next) => {
    noStore(res);
    next();
  });
  router.use(express.json({ limit: '4kb' }));

  /** A route whose every outcome is audited; `target` is known before the action runs (from the URL). */
  function route(
    action: AdminAction,
    run: (req: Request, manager: SessionManager, target: Target) => Promise<Outcome>,
  ) {
    return asyncHandler(async (req: Request, res: Response) => {
      const me = await storeBackedSession(req, res);
      const target: Target = {};
      const report = (outcome: AdminAuditEntry['outcome'], extra: Partial<AdminAuditEntry>) => {
        const context = requestContext(req);
        return options.audit?.({
          action,
          outcome,
          admin: {
            userId: me.userId,
            sessionId: me.sessionId,
            ...(me.tenantId === undefined ? {} : { tenantId: me.tenantId }),
          },
          target,
          ...(context.requestId === undefined ? {} : { requestId: context.requestId }),
          ...(context.ip === undefined ? {} : { ip: context.ip }),
          ...(context.userAgent === undefined ? {} : { userAgent: context.userAgent }),
          ...extra,
        });
      };
      let outcome: Outcome;
      try {
        outcome = await run(req, stateOf(req).manager, target);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        await report('failure', typeof code === 'string' ? { reason: code } : {});
        throw error;
      }
      await report('success', outcome.count === undefined ? {} : { count: outcome.count });
      res.json(outcome.body);
    });
  }

  const sessionParam = (req: Request, target: Target) => {
    const id = parseInput(adminSessionIdSchema, req.params.id, 'session id');
    target.sessionId = id;
    return id;
  };
  const nameParam = (req: Request, name: 'userId' | 'tenantId', target: Target) => {
    const value = parseInput(adminNameSchema, req.params[name], name);
    target[name] = value;
    return value;
  };

  router.get(
    '/sessions',
    route('admin.sessions_listed', async (req, manager, target) => {
      const query = parseInput(adminSessionQuerySchema, req.query, 'session query');
      if (query.userId !== undefined) target.userId = query.userId;
      if (query.tenantId !== undefined) target.tenantId = query.tenantId;
      const page = await manager.admin.list(query);
      const body = { ...page, sessions: page.sessions.map(adminView) };
      return { body, count: body.sessions.length };
    }),
  );

  router.get(
    '/sessions/:id',
    route('admin.session_viewed', async (req, manager, target) => {
      const id = sessionParam(req, target);
      const session = await manager.get(id);
      if (!session) throw new SessionNotFoundError();
      target.userId = session.userId;
      const children = (await manager.list(session.userId)).filter((child) => child.parentId === id);
      const activity: ActivityEntry[] = options.activity
        ? (
            await options.activity.listActivity(session.userId, {
              limit: ACTIVITY_PER_SESSION,
              sessionId: id,
            })
          ).entries
        : [];
      return { body: { session: adminView(session), children: children.map(adminView), activity } };
    }),
  );

  router.post(
    '/sessions/:id/revoke',
    route('admin.session_revoked', async (req, manager, target) => {
      const id = sessionParam(req, target);
      const body = parseInput(adminRevokeBodySchema, req.body, 'revoke request');
      const session = await manager.get(id);
      if (!session) throw new SessionNotFoundError();
      target.userId = session.userId;
      const revoked = await manager.revoke(id, {
        reason: body.reason ?? 'revoked.admin',
        by: 'admin',
        context: requestContext(req),
      });
      return { body: { revoked }, count: revoked };
    }),
  );

  for (const [path, action] of [
    ['suspend', 'admin.session_suspended'],
    ['resume', 'admin.session_resumed'],
  ] as const) {
    router.post(
      `/sessions/:id/${path}`,
      route(action, async (req, manager, target) => {
        const id = sessionParam(req, target);
        const context = { context: requestContext(req) };
        const session =
          path === 'suspend' ? await manager.suspend(id, context) : await manager.resume(id, context);
        target.userId = session.userId;
        return { body: { session: adminView(session) } };
      }),
    );
  }

  router.post(
    '/users/:userId/revoke',
    route('admin.user_sessions_revoked', async (req, manager, target) => {
      const userId = nameParam(req, 'userId', target);
      const body = parseInput(adminRevokeUserBodySchema, req.body, 'revoke request');
      if (body.tenantId !== undefined) target.tenantId = body.tenantId;
      const revoked = await manager.revokeAllForUser(userId, {
        reason: body.reason ?? 'revoked.admin',
        by: 'admin',
        context: requestContext(req),
        ...(body.tenantId === undefined ? {} : { tenantId: body.tenantId }),
      });
      return { body: { revoked }, count: revoked };
    }),
  );

  router.post(
    '/tenants/:tenantId/revoke',
    route('admin.tenant_sessions_revoked', async (req, manager, target) => {
      const tenantId = nameParam(req, 'tenantId', target);
      const body = parseInput(adminRevokeBodySchema, req.body, 'revoke request');
      const revoked = await manager.admin.revokeTenant(tenantId, {
        reason: body.reason ?? 'revoked.tenant',
        by: 'admin',
        context: requestContext(req),
      });
      return { body: { revoked }, count: revoked };
    }),
  );

  router.get(
    '/statistics',
    route('admin.statistics_viewed', async (req, manager, target) => {
      const query = parseInput(adminStatisticsQuerySchema, req.query, 'statistics query');
      if (query.tenantId !== undefined) target.tenantId = query.tenantId;
      return { body: await manager.admin.statistics(query) };
    }),
  );

  router.post(
    '/cleanup-expired',
    route('admin.expired_sessions_cleaned', async (_req, manager) => {
      const deleted = await manager.cleanup();
      return { body: { deleted }, count: deleted };
    }),
  );

  const verify = options.verifyAuditChain;
  if (verify) {
    router.get(
      '/audit/verify',
      route('admin.audit_chain_verified', async () => {
        const verdict = await verify();
        return { body: verdict, count: verdict.chains.length };
      }),
    );
  }

  router.get(
    '/users/:userId/export',
    route('admin.user_data_exported', async (req, manager, target) => {
      const userId = nameParam(req, 'userId', target);
      const sessions = (await manager.list(userId)).map(adminView);
      const body: DataSubjectExport = {
        userId,
        exportedAt: Date.now(),
        sessions,
        devices: sessions.map((session) => ({
          sessionId: session.id,
          createdAt: session.createdAt,
          lastSeenAt: session.lastSeenAt,
          device: session.device,
        })),
        activity: await allActivity(options.activity, userId),
        audit: (await options.dataSubjects?.exportUser(userId)) ?? [],
      };
      return { body };
    }),
  );

  router.post(
    '/users/:userId/erase',
    route('admin.user_erased', async (req, manager, target) => {
      const userId = nameParam(req, 'userId', target);
      const { revoked, deleted } = await manager.admin.eraseUser(userId, {
        by: 'admin',
        context: requestContext(req),
      });
      const auditRecordsShredded = (await options.dataSubjects?.eraseUser(userId)) ?? 0;
      const body: DataSubjectErasure = { userId, revoked, deleted, auditRecordsShredded };
      return { body, count: deleted };
    }),
  );

  return router;
}

async function allActivity(source: ActivitySource | undefined, userId: string): Promise<ActivityEntry[]> {
  if (!source) return [];
  const entries: ActivityEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await source.listActivity(userId, {
      limit: 100,
      ...(cursor === undefined ? {} : { cursor }),
    });
    entries.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor !== undefined && entries.length < EXPORT_ACTIVITY_MAX);
  return entries;
}
