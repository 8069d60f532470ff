import { requireAal, requireRole } from '@sessionkit/express';
import type { Request, RequestHandler, Response, Router } from 'express';
import express from 'express';
import type { AdminInsights } from './admin-insights.js';
import { adminRoles } from './admin-roles.js';
import type { UserDirectory } from './user-directory.js';

export interface AdminApiOptions {
  users: UserDirectory;
  adminEmails: readonly string[];
  insights: AdminInsights;
}

/**
 * `/api/admin`: the admin role (ADMIN_EMAILS) at AAL 2, since an operator can end anyone's sessions; a session
 * that arrived by a transfer code (AAL 1) steps up first. The console's time series are here.
 */
export function adminApi(options: AdminApiOptions): Router {
  const router = express.Router();
  const authorize: RequestHandler[] = [
    requireRole('admin', { rolesOf: adminRoles(options.users, options.adminEmails) }),
    requireAal(2),
  ];
  router.get('/insights', ...authorize, async (req: Request, res: Response) => {
    res.setHeader('cache-control', 'no-store');
    res.json(await options.insights.daily(req.query));
  });
  return router;
}
