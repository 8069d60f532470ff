import type { ActivitySource } from '@sessionkit/core';
import type { AdminAuditRecorder } from '@sessionkit/express';
import { adminRouter, requireAal, requireRole } from '@sessionkit/express';
import type { Request, RequestHandler, Response, Router } from 'express';
import express from 'express';
import type { AdminInsights } from './admin-insights.js';
import { adminRoles } from './admin-roles.js';
import type { UserDirectory } from './user-directory.js';

export interface AdminApiOptions {
  users: UserDirectory;
  adminEmails: readonly string[];
  insights: AdminInsights;
  /** Every admin action, with the admin's identity (@sessionkit/audit's `adminAuditRecorder`). */
  audit: AdminAuditRecorder;
  /** The activity timeline of one session, in `GET /sessions/:id`. */
  activity?: ActivitySource;
}

/**
 * `/api/admin`: `adminRouter` and the console's time series, for the admin role (ADMIN_EMAILS) at AAL 2 only,
 * since an operator can end anyone's sessions; a session that arrived by a transfer code (AAL 1) steps up first.
 */
export function adminApi(options: AdminApiOptions): Router {
  const role = requireRole('admin', { rolesOf: adminRoles(options.users, options.adminEmails) });
  const aal = requireAal(2);
  const authorize: RequestHandler = (req, res, next) => {
    role(req, res, (error?: unknown) => (error === undefined ? aal(req, res, next) : next(error)));
  };
  const router = express.Router();
  router.get('/insights', authorize, async (req: Request, res: Response) => {
    res.setHeader('cache-control', 'no-store');
    res.json(await options.insights.daily(req.query));
  });
  router.use(
    adminRouter({
      authorize,
      audit: options.audit,
      ...(options.activity === undefined ? {} : { activity: options.activity }),
    }),
  );
  return router;
}
