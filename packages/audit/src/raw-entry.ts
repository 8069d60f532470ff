import type { JsonValue } from '@sessionkit/core';
import type { AuditAction, AuditOutcome } from './actions.js';
import type { AuditActor } from './audit-record.js';

/** What is queued on the request path: the facts as given, before hashing, parsing and redaction. */
export interface RawEntry {
  action: AuditAction;
  at: number;
  outcome?: AuditOutcome;
  actor: AuditActor;
  userId?: string;
  sessionId?: string;
  tenantId?: string;
  requestId?: string;
  reason?: string;
  /** A raw address, from `record()`; hashed before anything is written. */
  ip?: string;
  /** Core's keyed hash of the address, from an engine event. */
  engineIpHash?: string;
  userAgent?: string;
  deviceLabel?: string;
  details: { [key: string]: JsonValue };
}
