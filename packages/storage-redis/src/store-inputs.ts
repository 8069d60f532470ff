import { jktSchema, sessionRecordSchema } from '@sessionkit/core/store';
import { z } from 'zod';

/** What the store's methods accept, checked before anything reaches Redis. */
const { id: sessionId, userId, createdAt: timestamp, secretHash: hash } = sessionRecordSchema.shape;

export const createInputSchema = z.object({
  session: sessionRecordSchema,
  maxSessions: z.number().int().positive(),
  onLimit: z.enum(['evict-oldest', 'reject']),
  now: timestamp,
});
export const rotateInputSchema = z.object({
  sessionId,
  presentedHash: hash,
  successorHash: hash,
  sealedSuccessor: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .max(256),
  now: timestamp,
  graceMs: z.number().int().nonnegative(),
  idleExpiresAt: timestamp,
  presentedGeneration: z.number().int().nonnegative().optional(),
  presentedJkt: jktSchema.optional(),
});
export type RotateInput = z.output<typeof rotateInputSchema>;
export const revokeOptionsSchema = z.object({ reason: z.string().min(1).max(200), now: timestamp });
export const revokeUserOptionsSchema = revokeOptionsSchema.extend({
  exceptId: z.string().max(64).optional(),
  tenantId: z.string().min(1).max(256).optional(),
});

export const userIdSchema = userId;
