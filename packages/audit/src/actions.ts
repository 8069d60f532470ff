import { z } from 'zod';
import { jsonValueSchema } from './json-value.js';

export const auditCategories = ['session', 'token', 'auth', 'security', 'admin', 'account', 'audit'] as const;
export type AuditCategory = (typeof auditCategories)[number];
export const auditSeverities = ['info', 'warning', 'critical'] as const;
export type AuditSeverity = (typeof auditSeverities)[number];
export const auditOutcomes = ['success', 'failure'] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

const shortText = z.string().max(200);
const reasons = z.array(shortText).max(20);
const aal = z.number().int().min(1).max(3);
const count = z.number().int().nonnegative();
const epochMs = z.number().int().nonnegative();
const sessionId = z.string().min(1).max(64);

/** Typed fields of one action; any further member must be JSON and goes through redaction like the rest. */
function details<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.object(shape).catchall(jsonValueSchema);
}

function action<Shape extends z.ZodRawShape>(
  category: AuditCategory,
  severity: AuditSeverity,
  outcome: AuditOutcome,
  shape: Shape,
) {
  return { category, severity, outcome, details: details(shape) };
}

/**
 * The taxonomy. Names are stable: stored records, dashboards and alerts key on them, so a name is never
 * reused for another meaning; new actions are added, old ones kept.
 */
export const auditActions = {
  'session.created': action('session', 'info', 'success', {
    aal,
    absoluteExpiresAt: epochMs.optional(),
    parentId: sessionId.optional(),
  }),
  'session.validated_with_warning': action('session', 'warning', 'success', { reasons }),
  'session.refreshed': action('session', 'info', 'success', { generation: count }),
  'session.stepped_up': action('session', 'info', 'success', { fromAal: aal, toAal: aal }),
  'session.revoked_by_user': action('session', 'info', 'success', {}),
  'session.revoked_by_admin': action('session', 'warning', 'success', {}),
  'session.revoked_by_policy': action('session', 'warning', 'success', {}),
  'session.revoked_by_system': action('session', 'info', 'success', {}),
  'session.expired': action('session', 'info', 'success', { timeout: z.enum(['idle', 'absolute']) }),
  'session.evicted': action('session', 'warning', 'success', {}),
  'session.suspended': action('session', 'warning', 'success', {}),
  'session.resumed': action('session', 'info', 'success', {}),
  'session.transfer_code_issued': action('session', 'info', 'success', {
    mode: z.enum(['takeover', 'fork']),
  }),
  'session.transferred': action('session', 'info', 'success', {
    fromSessionId: sessionId,
    mode: z.enum(['takeover', 'fork']),
  }),
  'session.request': action('session', 'info', 'success', {
    route: shortText,
    method: z.string().regex(/^[A-Z]{1,16}$/),
    status: z.number().int().min(100).max(599),
    durationMs: z.number().nonnegative(),
    category: z.string().min(1).max(64),
  }),
  'session.context_changed': action('session', 'warning', 'success', {
    decision: z.enum(['allow', 'flag', 'step-up', 'revoke']),
    reasons,
  }),
  'token.reuse_detected': action('token', 'critical', 'failure', { familyId: z.string().min(1).max(64) }),
  'token.rejected': action('token', 'warning', 'failure', { cause: shortText }),
  'auth.login_succeeded': action('auth', 'info', 'success', { method: shortText.optional() }),
  'auth.login_failed': action('auth', 'warning', 'failure', {
    method: shortText.optional(),
    failures: count.optional(),
  }),
  'auth.logout': action('auth', 'info', 'success', {}),
  'auth.mfa_succeeded': action('auth', 'info', 'success', { factor: shortText.optional() }),
  'auth.mfa_failed': action('auth', 'warning', 'failure', {
    factor: shortText.optional(),
    failures: count.optional(),
  }),
  'auth.step_up_failed': action('auth', 'warning', 'failure', { requiredAal: aal.optional() }),
  'security.rate_limited': action('security', 'warning', 'failure', {
    limiter: shortText,
    retryAfterMs: count,
    limit: count.optional(),
  }),
  'security.locked_out': action('security', 'critical', 'failure', {
    until: epochMs,
    failures: count.optional(),
  }),
  'security.unlocked': action('security', 'info', 'success', {}),
  'security.invalid_token_burst': action('security', 'critical', 'failure', {
    count,
    windowMs: count,
  }),
  'security.risk_flagged': action('security', 'warning', 'failure', {
    score: z.number().min(0).max(100),
    reasons,
  }),
  'admin.user_sessions_revoked': action('admin', 'warning', 'success', { count: count.optional() }),
  'admin.all_sessions_revoked': action('admin', 'critical', 'success', { count }),
  'admin.user_disabled': action('admin', 'warning', 'success', {}),
  // What @sessionkit/express's adminRouter reports (its `AdminAction`), each with the admin as actor.
  'admin.sessions_listed': action('admin', 'info', 'success', { count: count.optional() }),
  'admin.session_viewed': action('admin', 'info', 'success', {}),
  'admin.session_revoked': action('admin', 'warning', 'success', { count: count.optional() }),
  'admin.session_suspended': action('admin', 'warning', 'success', {}),
  'admin.session_resumed': action('admin', 'info', 'success', {}),
  'admin.tenant_sessions_revoked': action('admin', 'critical', 'success', { count: count.optional() }),
  'admin.statistics_viewed': action('admin', 'info', 'success', {}),
  'admin.expired_sessions_cleaned': action('admin', 'info', 'success', { count: count.optional() }),
  'admin.audit_chain_verified': action('admin', 'info', 'success', { count: count.optional() }),
  'admin.user_data_exported': action('admin', 'warning', 'success', {}),
  'admin.user_erased': action('admin', 'critical', 'success', { count: count.optional() }),
  'account.password_changed': action('account', 'info', 'success', {
    otherSessionsRevoked: count.optional(),
  }),
  'account.mfa_enrolled': action('account', 'info', 'success', { factor: shortText }),
  'account.mfa_removed': action('account', 'warning', 'success', { factor: shortText }),
  'audit.records_dropped': action('audit', 'critical', 'failure', {
    stage: shortText,
    count: count,
    since: epochMs,
    until: epochMs,
  }),
  'audit.retention_applied': action('audit', 'info', 'success', {
    deleted: count,
    olderThanMs: count,
  }),
} as const;

export type AuditAction = keyof typeof auditActions;
export const auditActionNames = Object.keys(auditActions) as [AuditAction, ...AuditAction[]];
export const auditActionSchema = z.enum(auditActionNames);

export type AuditDetailsInput<A extends AuditAction> = z.input<(typeof auditActions)[A]['details']>;

/** Actions that end a session: a session with one of them is no longer open in the activity statistics. */
export const sessionEndingActions: readonly AuditAction[] = [
  'session.revoked_by_user',
  'session.revoked_by_admin',
  'session.revoked_by_policy',
  'session.revoked_by_system',
  'session.expired',
  'session.evicted',
];
