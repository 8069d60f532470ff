import { z } from 'zod';
import { auditActionSchema, auditCategories, auditOutcomes, auditSeverities } from './actions.js';
import { jsonValueSchema } from './json-value.js';

export const actorTypes = ['user', 'admin', 'system', 'policy', 'anonymous'] as const;
export const actorSchema = z.object({
  type: z.enum(actorTypes),
  id: z.string().min(1).max(256).optional(),
});
export type AuditActor = z.infer<typeof actorSchema>;

/** Where from, without the address: a keyed hash, the id of its key, and a coarse prefix only if configured. */
export const ipInfoSchema = z.object({
  hash: z.string().min(1).max(64),
  keyId: z.string().min(1).max(64),
  /** `request`: hashed here from the raw address; `engine`: re-keyed from core's own keyed hash. */
  source: z.enum(['request', 'engine']),
  prefix: z.string().max(64).optional(),
});
export type IpInfo = z.infer<typeof ipInfoSchema>;

export const deviceInfoSchema = z.object({
  /** Groups a user's activity per device: same browser family, OS, device type and label. */
  key: z.string().min(1).max(64),
  browser: z.string().max(100).optional(),
  os: z.string().max(100).optional(),
  type: z.string().max(32).optional(),
  label: z.string().max(200).optional(),
});
export type DeviceInfo = z.infer<typeof deviceInfoSchema>;

/** A record before it joins a chain. */
export const auditEntrySchema = z.object({
  v: z.literal(1),
  id: z.string().min(1).max(64),
  at: z.number().int().nonnegative(),
  chain: z.string().min(1).max(300),
  action: auditActionSchema,
  category: z.enum(auditCategories),
  severity: z.enum(auditSeverities),
  outcome: z.enum(auditOutcomes),
  actor: actorSchema,
  userId: z.string().min(1).max(256).optional(),
  sessionId: z.string().min(1).max(64).optional(),
  tenantId: z.string().min(1).max(256).optional(),
  requestId: z.string().min(1).max(128).optional(),
  reason: z.string().max(200).optional(),
  ip: ipInfoSchema.optional(),
  device: deviceInfoSchema.optional(),
  details: z.record(z.string(), jsonValueSchema),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** The stored and transported form: the entry, its place in its chain and the keyed hash that seals both. */
export const auditRecordSchema = auditEntrySchema.extend({
  seq: z.number().int().positive(),
  prevHash: z.string().min(1).max(64),
  hashKeyId: z.string().min(1).max(64),
  hash: z.string().min(1).max(64),
});
export type AuditRecord = z.infer<typeof auditRecordSchema>;
