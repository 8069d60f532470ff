import { z } from 'zod';
import { jktSchema } from './dpop-binding.js';
import type { JsonValue, SessionRecord } from './session-record.js';
import { RESERVED_METADATA_PREFIX } from './session-record.js';

/**
 * Device Bound Session Credentials: the public key the browser registered for the session, kept in reserved
 * metadata (shared compare-and-set, every store, never in a view) so the refresh endpoint can check proofs,
 * which carry no key of their own, against it.
 */
export const DBSC_METADATA_KEY = `${RESERVED_METADATA_PREFIX}dbsc`;

const publicKeySchema = z.object({
  kty: z.enum(['EC', 'RSA']),
  crv: z.string().max(16).optional(),
  x: z.string().max(256).optional(),
  y: z.string().max(256).optional(),
  n: z.string().max(2048).optional(),
  e: z.string().max(16).optional(),
});
export const deviceKeySchema = z.object({
  alg: z.enum(['ES256', 'RS256']),
  jwk: publicKeySchema,
  jkt: jktSchema,
});
export type DeviceKey = z.infer<typeof deviceKeySchema>;

/** The device key the session is bound to, or undefined (never registered, or a browser without DBSC). */
export function deviceKey(record: SessionRecord): DeviceKey | undefined {
  const parsed = deviceKeySchema.safeParse(record.metadata[DBSC_METADATA_KEY]);
  return parsed.success ? parsed.data : undefined;
}

export function deviceKeyMetadata(key: DeviceKey): Record<string, JsonValue> {
  const jwk: Record<string, string> = {};
  for (const [name, value] of Object.entries(key.jwk)) if (value !== undefined) jwk[name] = value;
  return { [DBSC_METADATA_KEY]: { alg: key.alg, jwk, jkt: key.jkt } };
}
