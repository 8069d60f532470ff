import { BindingRequiredError, DpopInvalidProofError } from './binding-errors.js';
import type { SessionKitError } from './errors.js';
import type { JsonValue, SessionRecord } from './session-record.js';
import { base64url, RESERVED_METADATA_PREFIX } from './session-record.js';
import type { SessionStore } from './store.js';

/** An RFC 7638 JWK SHA-256 thumbprint, base64url: 32 bytes, 43 characters. */
export const jktSchema = base64url.length(43);

/**
 * The session's DPoP key thumbprint lives in reserved metadata: it then shares the record's compare-and-set,
 * every store keeps it without a schema change, and `toView` never lets it out. Set once at creation, never
 * changed: the session and its refresh family are bound to one key for life.
 */
export const DPOP_METADATA_KEY = `${RESERVED_METADATA_PREFIX}dpop.jkt`;

/** The thumbprint the session is bound to, or undefined for an unbound session. */
export function boundJkt(record: SessionRecord): string | undefined {
  const value = record.metadata[DPOP_METADATA_KEY];
  return typeof value === 'string' ? value : undefined;
}

export function dpopMetadata(jkt: string | undefined): Record<string, JsonValue> {
  return jkt === undefined ? {} : { [DPOP_METADATA_KEY]: jkt };
}

/**
 * Refuses a bound session's refresh without a proof from its key (`binding.required`) or with one from
 * another key (`dpop.invalid_proof`); `audit` records the refusal. A missing session is left to the rotation.
 * Only for a store without `checksRotationKey`: it costs a store read before every rotation.
 */
export async function assertKeyHolder(
  store: SessionStore,
  sessionId: string,
  proofJkt: string | undefined,
  audit: (code: SessionKitError['code']) => void,
): Promise<void> {
  const record = await store.get(sessionId);
  const bound = record && boundJkt(record);
  if (bound === undefined || bound === proofJkt) return;
  const error = keyMismatchError(proofJkt);
  audit(error.code);
  throw error;
}

/** A bound session's refusal: no proof at all (`binding.required`), or one from another key (`dpop.invalid_proof`). */
export function keyMismatchError(proofJkt: string | undefined): BindingRequiredError | DpopInvalidProofError {
  return proofJkt === undefined
    ? new BindingRequiredError('This refresh token is bound to a DPoP key; send a DPoP proof from it')
    : new DpopInvalidProofError('The DPoP proof is signed by another key than the session is bound to');
}
