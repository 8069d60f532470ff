import { z } from 'zod';
import { StoreCorruptError } from './errors.js';

/** URL-safe base64 without padding: the alphabet of every id, secret and hash we mint. */
export const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be base64url');

/** 16 random bytes → 22 characters: 128 bits, the OWASP minimum for a session identifier. */
export const sessionIdSchema = base64url.length(22);
/** SHA-256 digests encoded as base64url. */
export const hashSchema = base64url.length(43);

/** Epoch milliseconds: integers round-trip exactly through JSON, Redis strings and SQL timestamptz. */
export const timestampSchema = z.number().int().nonnegative();

export const sessionStates = ['active', 'suspended', 'revoked', 'expired'] as const;
export const sessionStateSchema = z.enum(sessionStates);
export type SessionState = z.infer<typeof sessionStateSchema>;

export const aalSchema = z.union([z.literal(1), z.literal(2), z.literal(3)]);
export type Aal = z.infer<typeof aalSchema>;

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const METADATA_MAX_BYTES = 16_384;
/**
 * Metadata keys in this namespace belong to the engine and its modules (e.g. the sealed upstream token vault):
 * they live in the record so they share its compare-and-set, and `toView` never lets them out.
 */
export const RESERVED_METADATA_PREFIX = 'sk.';
export const metadataSchema = z
  .record(z.string(), jsonValue)
  .refine((value) => JSON.stringify(value).length <= METADATA_MAX_BYTES, {
    message: `metadata must serialise to at most ${METADATA_MAX_BYTES} bytes`,
  });

export const refreshStateSchema = z.object({
  familyId: base64url.min(16).max(64),
  /** Rotations so far; the current token carries it, so a replayed older one is recognised (refresh-token.ts). */
  generation: z.number().int().nonnegative(),
  currentHash: hashSchema,
  /** Hash of the token that `currentHash` replaced; presenting it within the grace window is not theft. */
  previousHash: hashSchema.optional(),
  rotatedAt: timestampSchema.optional(),
  /**
   * The current token sealed with a key derived from the previous token, so a caller that lost the
   * rotation race (and only such a caller) can recover the very same successor without us storing it.
   */
  sealedSuccessor: base64url.max(256).optional(),
});
export type RefreshState = z.infer<typeof refreshStateSchema>;

export const deviceSchema = z.object({
  label: z.string().max(200).optional(),
  userAgent: z.string().max(1024).optional(),
  /** Fingerprint components kept structured so a change can be explained, not as one opaque hash. */
  fingerprint: z.record(z.string().max(64), z.string().max(512)).optional(),
  firstIpHash: base64url.max(64).optional(),
  lastIpHash: base64url.max(64).optional(),
});
export type Device = z.infer<typeof deviceSchema>;

export const transferStateSchema = z.object({
  codeHash: hashSchema,
  expiresAt: timestampSchema,
  mode: z.enum(['takeover', 'fork']),
});
export type TransferState = z.infer<typeof transferStateSchema>;

export const sessionRecordSchema = z.object({
  id: sessionIdSchema,
  userId: z.string().min(1).max(256),
  tenantId: z.string().min(1).max(256).optional(),
  state: sessionStateSchema,
  createdAt: timestampSchema,
  lastSeenAt: timestampSchema,
  idleExpiresAt: timestampSchema,
  absoluteExpiresAt: timestampSchema,
  aal: aalSchema,
  authenticatedAt: timestampSchema,
  secretHash: hashSchema,
  refresh: refreshStateSchema.optional(),
  device: deviceSchema,
  parentId: sessionIdSchema.optional(),
  revokedAt: timestampSchema.optional(),
  revokeReason: z.string().max(200).optional(),
  transfer: transferStateSchema.optional(),
  version: z.number().int().positive(),
  metadata: metadataSchema,
});
export type SessionRecord = z.infer<typeof sessionRecordSchema>;

/** Validates a stored value; anything foreign or corrupted becomes `store.corrupt`, never a wrong session. */
export function parseStoredSession(value: unknown): SessionRecord {
  const result = sessionRecordSchema.safeParse(value);
  if (!result.success) {
    throw new StoreCorruptError('Stored session record does not match the schema', {
      cause: result.error,
      details: { issues: result.error.issues.map((issue) => issue.path.join('.')) },
    });
  }
  return result.data;
}

/**
 * The states of a session in use: it counts against the per-user limit, may be resumed or used, and stores keep
 * it in their live indexes and caches. Lua (storage-redis lua-scripts.ts) and SQL (storage-kysely
 * create-session-function.ts, migrations.ts) restate it; the store conformance suite holds them to it.
 */
export const IN_USE_STATES = ['active', 'suspended'] as const satisfies readonly SessionState[];
export type InUseState = (typeof IN_USE_STATES)[number];

export function isInUse(state: SessionState): state is InUseState {
  return state === 'active' || state === 'suspended';
}

/** Live means in use and before both deadlines: it still counts against the per-user limit and can authenticate. */
export function isLive(record: SessionRecord, now: number): boolean {
  return isInUse(record.state) && now < record.idleExpiresAt && now < record.absoluteExpiresAt;
}

/** The instant after which nothing about the record can matter to authentication. */
export function expiresAt(record: SessionRecord): number {
  return Math.min(record.idleExpiresAt, record.absoluteExpiresAt);
}
