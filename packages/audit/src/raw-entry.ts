import type { JsonValue } from '@sessionkit/core';
import type { AuditAction, AuditOutcome } from './actions.js';
import type { AuditActor } from './audit-record.js';

/**
 * What is queued on the request path: the facts as given, before hashing, parsing and redaction. Optional
 * fields may be present and undefined: the engine's event mapping builds one literal with every field.
 */
export interface RawEntry {
  action: AuditAction;
  at: number;
  outcome?: AuditOutcome | undefined;
  actor: AuditActor;
  userId?: string | undefined;
  sessionId?: string | undefined;
  tenantId?: string | undefined;
  requestId?: string | undefined;
  reason?: string | undefined;
  /** A raw address, from `record()`; hashed before anything is written. */
  ip?: string | undefined;
  /** Core's keyed hash of the address, from an engine event. */
  engineIpHash?: string | undefined;
  userAgent?: string | undefined;
  deviceLabel?: string | undefined;
  details: { [key: string]: JsonValue };
}
