import { z } from 'zod';

/** What the transport knows about the caller; every field optional because not every transport has it. */
export const requestContextSchema = z.object({
  ip: z.string().max(64).optional(),
  userAgent: z.string().max(1024).optional(),
  requestId: z.string().max(128).optional(),
  fingerprint: z.record(z.string().max(64), z.string().max(512)).optional(),
});
export type RequestContext = z.infer<typeof requestContextSchema>;

/** The context as events carry it: the IP only as a keyed hash, never in the clear. */
export interface EventContext {
  ipHash?: string;
  userAgent?: string;
  requestId?: string;
}
