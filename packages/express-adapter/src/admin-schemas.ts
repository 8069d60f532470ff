import { z } from 'zod';

/*
 * The admin API's wire format, both ways: the queries and bodies `adminRouter` accepts (parsed here, so bad
 * input is a 400 problem document) and the documents it answers with (exported, so a console can parse them).
 */

const id = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'must be a session id');
const name = z.string().min(1).max(256);
const instant = z.coerce.number().int().nonnegative();
const reason = z.string().min(1).max(200);

export const adminSessionStates = ['active', 'suspended', 'revoked', 'expired'] as const;

/** `GET /sessions`: every filter optional; times in epoch milliseconds, `createdTo` exclusive. */
export const adminSessionQuerySchema = z.object({
  tenantId: name.exactOptional(),
  userId: name.exactOptional(),
  state: z.enum(adminSessionStates).exactOptional(),
  createdFrom: instant.exactOptional(),
  createdTo: instant.exactOptional(),
  deviceType: z.string().min(1).max(64).exactOptional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(128).exactOptional(),
});
export type AdminSessionQuery = z.output<typeof adminSessionQuerySchema>;

/** `GET /statistics`: the window for `created` and `revoked`, by default the last 24 hours. */
export const adminStatisticsQuerySchema = z.object({
  tenantId: name.exactOptional(),
  from: instant.exactOptional(),
  to: instant.exactOptional(),
});

/** Bodies of the revoking routes; an empty body is fine. */
export const adminRevokeBodySchema = z.object({ reason: reason.exactOptional() }).prefault({});
export const adminRevokeUserBodySchema = z
  .object({ reason: reason.exactOptional(), tenantId: name.exactOptional() })
  .prefault({});

export const adminSessionIdSchema = id;
export const adminNameSchema = name;

/** A session as the admin API shows it: core's `SessionView` with its effective state, plus the device type. */
export const adminSessionSchema = z.object({
  id,
  userId: name,
  tenantId: name.optional(),
  state: z.enum(adminSessionStates),
  createdAt: z.number(),
  lastSeenAt: z.number(),
  idleExpiresAt: z.number(),
  absoluteExpiresAt: z.number(),
  aal: z.number(),
  authenticatedAt: z.number(),
  device: z.object({
    label: z.string().optional(),
    userAgent: z.string().optional(),
    fingerprint: z.record(z.string(), z.string()).optional(),
    lastIpHash: z.string().optional(),
  }),
  deviceType: z.string().optional(),
  parentId: id.optional(),
  revokedAt: z.number().optional(),
  revokeReason: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()),
});
export type AdminSession = z.infer<typeof adminSessionSchema>;

export const adminSessionPageSchema = z.object({
  sessions: z.array(adminSessionSchema),
  nextCursor: z.string().optional(),
});

export const activityEntrySchema = z.object({
  id: z.string(),
  action: z.string(),
  at: z.number(),
  sessionId: z.string().optional(),
  outcome: z.enum(['success', 'failure']),
  device: z.string().optional(),
  reason: z.string().optional(),
});

/** `GET /sessions/:id`: `activity` is empty when the router was given no activity source. */
export const adminSessionDetailSchema = z.object({
  session: adminSessionSchema,
  children: z.array(adminSessionSchema),
  activity: z.array(activityEntrySchema),
});

export const adminRevokedSchema = z.object({ revoked: z.number().int().nonnegative() });
export const adminSessionAnswerSchema = z.object({ session: adminSessionSchema });

export const adminStatisticsSchema = z.object({
  tenantId: name.optional(),
  from: z.number(),
  to: z.number(),
  at: z.number(),
  live: z.number().int().nonnegative(),
  expired: z.number().int().nonnegative(),
  created: z.number().int().nonnegative(),
  revoked: z.number().int().nonnegative(),
});

export const adminCleanupSchema = z.object({ deleted: z.number().int().nonnegative() });

export const auditChainVerdictSchema = z.object({
  chain: z.string(),
  ok: z.boolean(),
  checked: z.number().int().nonnegative(),
  fault: z.string().optional(),
  seq: z.number().optional(),
});
export const adminAuditVerificationSchema = z.object({
  ok: z.boolean(),
  chains: z.array(auditChainVerdictSchema),
});
export type AuditVerification = z.infer<typeof adminAuditVerificationSchema>;

/** `GET /users/:userId/export`: everything held about the user, one document. */
export const dataSubjectExportSchema = z.object({
  userId: name,
  exportedAt: z.number(),
  sessions: z.array(adminSessionSchema),
  devices: z.array(
    z.object({
      sessionId: id,
      createdAt: z.number(),
      lastSeenAt: z.number(),
      device: adminSessionSchema.shape.device,
    }),
  ),
  activity: z.array(activityEntrySchema),
  audit: z.array(z.unknown()),
});
export type DataSubjectExport = z.infer<typeof dataSubjectExportSchema>;

/** `POST /users/:userId/erase`. */
export const dataSubjectErasureSchema = z.object({
  userId: name,
  revoked: z.number().int().nonnegative(),
  deleted: z.number().int().nonnegative(),
  auditRecordsShredded: z.number().int().nonnegative(),
});
export type DataSubjectErasure = z.infer<typeof dataSubjectErasureSchema>;
