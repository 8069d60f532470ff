import type { Auditor } from './auditor.js';

/** The admin action @sessionkit/express's `adminRouter` reports (its `AdminAuditEntry`), restated structurally. */
export interface AdminActionEntry {
  action:
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
  outcome: 'success' | 'failure';
  admin: { userId: string; sessionId: string; tenantId?: string };
  target: { sessionId?: string; userId?: string; tenantId?: string };
  count?: number;
  reason?: string;
  requestId?: string;
  ip?: string;
  userAgent?: string;
}

/**
 * `adminRouter({ audit: adminAuditRecorder(auditor) })`: each admin action becomes a record with the admin as
 * actor, the target as its subject (user, session, tenant) and the admin's own session in `details`.
 */
export function adminAuditRecorder(auditor: Auditor): (entry: AdminActionEntry) => void {
  return (entry) => {
    auditor.record(entry.action, {
      outcome: entry.outcome,
      actor: { type: 'admin', id: entry.admin.userId },
      userId: entry.target.userId,
      sessionId: entry.target.sessionId,
      tenantId: entry.target.tenantId,
      requestId: entry.requestId,
      reason: entry.reason,
      ip: entry.ip,
      userAgent: entry.userAgent,
      details: {
        adminSessionId: entry.admin.sessionId,
        ...(entry.admin.tenantId === undefined ? {} : { adminTenantId: entry.admin.tenantId }),
        ...(entry.count === undefined ? {} : { count: entry.count }),
      },
    });
  };
}
