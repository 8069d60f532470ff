import { parseInput } from '@sessionkit/core';
import { z } from 'zod';
import type { AuditAction, AuditDetailsInput } from './actions.js';
import { auditActions, auditOutcomes } from './actions.js';
import { actorSchema } from './audit-record.js';
import { parseIp } from './ip-address.js';
import type { RawEntry } from './raw-entry.js';

const DETAILS_MAX_BYTES = 4096;

const recordInputBase = z.object({
  /** Defaults to the auditor's clock. */
  at: z.number().int().nonnegative().optional(),
  /** Defaults to the action's usual outcome. */
  outcome: z.enum(auditOutcomes).optional(),
  /** Defaults to the user when `userId` is given, else to the system. */
  actor: actorSchema.optional(),
  userId: z.string().min(1).max(256).optional(),
  sessionId: z.string().min(1).max(64).optional(),
  tenantId: z.string().min(1).max(256).optional(),
  requestId: z.string().min(1).max(128).optional(),
  /** Free text: redacted, then cut to 200 characters. */
  reason: z.string().max(2000).optional(),
  /** The caller's address in the clear; only its keyed hash (and prefix, if configured) is kept. */
  ip: z
    .string()
    .max(64)
    .refine((value) => parseIp(value) !== undefined, 'must be an IPv4 or IPv6 address')
    .optional(),
  /** An address already hashed by core (`SessionManager.hashIp`), when the raw one is not at hand. */
  ipHash: z.string().min(1).max(64).optional(),
  userAgent: z.string().max(1024).optional(),
  deviceLabel: z.string().max(200).optional(),
});

type RecordInputBase = z.input<typeof recordInputBase>;

/** What `record()` takes for action `A`: the common fields, and `details` typed by the action. */
export type AuditRecordInput<A extends AuditAction> = RecordInputBase &
  (Record<string, never> extends AuditDetailsInput<A>
    ? { details?: AuditDetailsInput<A> }
    : { details: AuditDetailsInput<A> });

const schemas = new Map<
  AuditAction,
  z.ZodType<z.output<typeof recordInputBase> & { details: RawEntry['details'] }>
>();

function schemaFor(action: AuditAction) {
  let schema = schemas.get(action);
  if (!schema) {
    const typed = auditActions[action].details as z.ZodType<RawEntry['details'], Record<string, unknown>>;
    const details = typed
      .prefault({})
      .refine((value: RawEntry['details']) => JSON.stringify(value).length <= DETAILS_MAX_BYTES, {
        message: `details must serialise to at most ${DETAILS_MAX_BYTES} bytes`,
      });
    schema = recordInputBase.extend({ details }) as unknown as NonNullable<typeof schema>;
    schemas.set(action, schema);
  }
  return schema;
}

/** Validates what an application records; bad input throws `input.invalid` and nothing is queued. */
export function parseRecordInput(action: unknown, input: unknown, now: number): RawEntry {
  const name = parseInput(z.enum(Object.keys(auditActions) as [AuditAction]), action, 'audit action');
  const value = parseInput(schemaFor(name), input ?? {}, `audit record ${name}`);
  const { at, outcome, actor, ip, ipHash, details, ...rest } = value;
  return {
    ...rest,
    action: name,
    at: at ?? now,
    outcome,
    actor: actor ?? (value.userId === undefined ? { type: 'system' } : { type: 'user', id: value.userId }),
    ip,
    engineIpHash: ip === undefined ? ipHash : undefined,
    details,
  };
}
