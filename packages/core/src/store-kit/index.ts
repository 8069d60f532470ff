/*
 * `@sessionkit/core/store`: what a storage backend needs beyond the application's front door. The contract and
 * the rules it shares with the Lua and SQL implementations, the stored-record schema, the token format at rest,
 * and the bounded in-process caches stores keep beside them. The conformance suite needs vitest, an optional
 * peer, so it has an entry of its own: `@sessionkit/core/store/testing`.
 */
export { DecodedRecordCache } from '../decoded-record-cache.js';
export { boundJkt, DPOP_METADATA_KEY, jktSchema } from '../dpop-binding.js';
export { ExpiringCache } from '../expiring-cache.js';
export type { OpaqueToken, OpaqueTokenKind, RefreshTokenParts } from '../opaque-token.js';
export { hashSecret, newSecret, newSessionId, parseToken } from '../opaque-token.js';
export { RecentMap } from '../recent-map.js';
export { formatRefreshToken } from '../refresh-token.js';
export type { ServerKeys } from '../server-keys.js';
export { serverKeys } from '../server-keys.js';
export type { SessionCursor } from '../session-query.js';
export {
  countInto,
  decodeSessionCursor,
  effectiveState,
  encodeSessionCursor,
  isAfterCursor,
  matchesSessionQuery,
  newestFirst,
  pageRecords,
  SESSION_PAGE_MAX,
  sessionQuerySchema,
} from '../session-query.js';
export type { InUseState } from '../session-record.js';
export {
  base64url,
  expiresAt,
  IN_USE_STATES,
  isInUse,
  isLive,
  parseStoredSession,
  sessionRecordSchema,
  timestampSchema,
} from '../session-record.js';
export type * from '../store.js';
export { REUSE_REVOKE_REASON } from '../store.js';
export * from '../store-rules.js';
export { sampleRecord } from './sample-record.js';
