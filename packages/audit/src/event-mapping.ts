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

type SessionBoundEvent = Exclude<SessionEvent, { type: 'token.rejected' }>;

/**
 * The entry for an event about a session. One object literal with every field, absent ones undefined: this
 * runs inside the engine's synchronous emit, where conditional spreads would cost more than all the rest.
 */
function aboutSession(
  event: SessionBoundEvent,
  action: AuditAction,
  actor: AuditActor,
  details: RawEntry['details'],
  reason?: string,
  outcome?: RawEntry['outcome'],
): RawEntry {
  const { session, context } = event;
  return {
    action,
    at: event.at,
    outcome,
    actor,
    userId: session.userId,
    sessionId: session.id,
    tenantId: session.tenantId,
    requestId: context.requestId,
    reason,
    engineIpHash: context.ipHash,
    userAgent: context.userAgent ?? session.device.userAgent,
    deviceLabel: session.device.label,
    details,
  };
}

/** Maps one engine event to its audit action. */
export function entryFromEvent(event: SessionEvent): RawEntry {
  if (event.type === 'token.rejected') {
    return {
      action: 'token.rejected',
      at: event.at,
      actor: ANONYMOUS,
      sessionId: event.sessionId,
      requestId: event.context.requestId,
      reason: event.reason,
      engineIpHash: event.context.ipHash,
      userAgent: event.context.userAgent,
      details: { cause: event.reason },
    };
  }
  const session = event.session;
  const user: AuditActor = { type: 'user', id: session.userId };
  switch (event.type) {
    case 'session.created':
      return aboutSession(
        event,
        'session.created',
        user,
        session.parentId === undefined
          ? { aal: session.aal, absoluteExpiresAt: session.absoluteExpiresAt }
          : { aal: session.aal, absoluteExpiresAt: session.absoluteExpiresAt, parentId: session.parentId },
      );
    case 'session.validated_with_warning':
      return aboutSession(event, event.type, user, { reasons: event.reasons });
    case 'session.refreshed':
      return aboutSession(event, event.type, user, { generation: event.generation });
    case 'session.stepped_up':
      return aboutSession(event, event.type, user, { fromAal: event.fromAal, toAal: event.toAal });
    case 'session.revoked': {
      const actor: AuditActor =
        event.by === 'user' ? user : { type: event.by === 'admin' ? 'admin' : event.by };
      return aboutSession(event, REVOKED_ACTION[event.by], actor, {}, event.reason);
    }
    case 'session.expired':
      return aboutSession(
        event,
        'session.expired',
        SYSTEM,
        { timeout: event.reason },
        `timeout.${event.reason}`,
      );
    case 'session.evicted':
      return aboutSession(event, 'session.evicted', POLICY, {}, event.reason);
    case 'session.suspended':
    case 'session.resumed':
      return aboutSession(event, event.type, SYSTEM, {});
    case 'session.transferred':
      return aboutSession(event, 'session.transferred', user, {
        fromSessionId: event.fromSessionId,
        mode: event.mode,
      });
    case 'token.reuse_detected':
      return aboutSession(event, 'token.reuse_detected', ANONYMOUS, { familyId: event.familyId });
    case 'session.context_changed':
      return aboutSession(
        event,
        'session.context_changed',
        POLICY,
        { decision: event.action, reasons: event.reasons },
        undefined,
        event.action === 'revoke' ? 'failure' : 'success',
      );
  }
}
