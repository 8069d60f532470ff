import type { SessionEvent } from '@sessionkit/core';
import type { AuditAction } from './actions.js';
import type { AuditActor } from './audit-record.js';
import type { RawEntry } from './raw-entry.js';

const REVOKED_ACTION = {
  user: 'session.revoked_by_user',
  admin: 'session.revoked_by_admin',
  policy: 'session.revoked_by_policy',
  system: 'session.revoked_by_system',
} as const satisfies Record<string, AuditAction>;

const SYSTEM: AuditActor = { type: 'system' };
const POLICY: AuditActor = { type: 'policy' };
const ANONYMOUS: AuditActor = { type: 'anonymous' };

/** Maps one engine event to its audit action. Cheap: it runs inside the engine's synchronous emit. */
export function entryFromEvent(event: SessionEvent): RawEntry {
  const context = {
    at: event.at,
    ...(event.context.ipHash === undefined ? {} : { engineIpHash: event.context.ipHash }),
    ...(event.context.userAgent === undefined ? {} : { userAgent: event.context.userAgent }),
    ...(event.context.requestId === undefined ? {} : { requestId: event.context.requestId }),
  };
  if (event.type === 'token.rejected') {
    return {
      ...context,
      action: 'token.rejected',
      actor: ANONYMOUS,
      ...(event.sessionId === undefined ? {} : { sessionId: event.sessionId }),
      reason: event.reason,
      details: { cause: event.reason },
    };
  }
  const session = event.session;
  const subject = {
    ...context,
    userId: session.userId,
    sessionId: session.id,
    ...(session.tenantId === undefined ? {} : { tenantId: session.tenantId }),
    ...(event.context.userAgent === undefined && session.device.userAgent !== undefined
      ? { userAgent: session.device.userAgent }
      : {}),
    ...(session.device.label === undefined ? {} : { deviceLabel: session.device.label }),
  };
  const user: AuditActor = { type: 'user', id: session.userId };
  switch (event.type) {
    case 'session.created':
      return {
        ...subject,
        action: 'session.created',
        actor: user,
        details: {
          aal: session.aal,
          absoluteExpiresAt: session.absoluteExpiresAt,
          ...(session.parentId === undefined ? {} : { parentId: session.parentId }),
        },
      };
    case 'session.validated_with_warning':
      return { ...subject, action: event.type, actor: user, details: { reasons: event.reasons } };
    case 'session.refreshed':
      return { ...subject, action: event.type, actor: user, details: { generation: event.generation } };
    case 'session.stepped_up':
      return {
        ...subject,
        action: event.type,
        actor: user,
        details: { fromAal: event.fromAal, toAal: event.toAal },
      };
    case 'session.revoked': {
      const actor: AuditActor =
        event.by === 'user' ? user : { type: event.by === 'admin' ? 'admin' : event.by };
      return { ...subject, action: REVOKED_ACTION[event.by], actor, reason: event.reason, details: {} };
    }
    case 'session.expired':
      return {
        ...subject,
        action: 'session.expired',
        actor: SYSTEM,
        reason: `timeout.${event.reason}`,
        details: { timeout: event.reason },
      };
    case 'session.evicted':
      return { ...subject, action: 'session.evicted', actor: POLICY, reason: event.reason, details: {} };
    case 'session.suspended':
    case 'session.resumed':
      return { ...subject, action: event.type, actor: SYSTEM, details: {} };
    case 'session.transferred':
      return {
        ...subject,
        action: 'session.transferred',
        actor: user,
        details: { fromSessionId: event.fromSessionId, mode: event.mode },
      };
    case 'token.reuse_detected':
      return {
        ...subject,
        action: 'token.reuse_detected',
        actor: ANONYMOUS,
        details: { familyId: event.familyId },
      };
    case 'session.context_changed':
      return {
        ...subject,
        action: 'session.context_changed',
        actor: POLICY,
        outcome: event.action === 'revoke' ? 'failure' : 'success',
        details: { decision: event.action, reasons: event.reasons },
      };
  }
}
