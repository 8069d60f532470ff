export type {
  AccessTokenAlgorithm,
  AccessTokenClaims,
  AccessTokenIssuerOptions,
  PrivateSigningJwk,
  SigningKey,
} from './access-token.js';
export { ACCESS_TOKEN_TYP, AccessTokenKeyRing, looksLikeJwt } from './access-token.js';
export type { ActivityEntry, ActivityPage, ActivitySource } from './activity.js';
export type { Clock } from './clock.js';
export { ManualClock, systemClock } from './clock.js';
export type { SessionConfig, SessionConfigInput } from './config.js';
export { parseSessionConfig, sessionConfigSchema } from './config.js';
export type { ContextAssessment, ContextAssessmentInput, ContextAssessor } from './context-policy.js';
export { combineAssessments, contextChangeAssessor } from './context-policy.js';
export { DecodedRecordCache } from './decoded-record-cache.js';
export * from './errors.js';
export type {
  ContextAction,
  RevokedBy,
  SessionEvent,
  SessionEventListener,
  SessionEventType,
} from './events.js';
export { SessionEvents } from './events.js';
export { ExpiringCache } from './expiring-cache.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { LocalInvalidationFeed, MemoryStore } from './memory-store.js';
export type { OpaqueToken, OpaqueTokenKind, RefreshTokenParts } from './opaque-token.js';
export { formatToken, hashSecret, newSecret, newSessionId, parseToken } from './opaque-token.js';
export type { RateLimiter, RateLimitResult } from './rate-limit.js';
export { RecentMap } from './recent-map.js';
export { formatRefreshToken, verifiedGeneration } from './refresh-token.js';
export type { EventContext, RequestContext } from './request-context.js';
export { requestContextSchema } from './request-context.js';
export type { ServerKeys } from './server-keys.js';
export { serverKeys } from './server-keys.js';
export type { CreateSessionOptions, IssuedTokens } from './session-issuer.js';
export type { SessionManagerOptions, SessionStats } from './session-manager.js';
export { SessionManager } from './session-manager.js';
export type {
  Aal,
  Device,
  InUseState,
  JsonValue,
  RefreshState,
  SessionRecord,
  SessionState,
  TransferState,
} from './session-record.js';
export {
  aalSchema,
  base64url,
  deserializeSession,
  expiresAt,
  hashSchema,
  IN_USE_STATES,
  isInUse,
  isLive,
  METADATA_MAX_BYTES,
  metadataSchema,
  parseStoredSession,
  RESERVED_METADATA_PREFIX,
  serializeSession,
  sessionIdSchema,
  sessionRecordSchema,
  sessionStates,
  timestampSchema,
} from './session-record.js';
export type { RefreshResult } from './session-refresh.js';
export type { ValidateOptions } from './session-validator.js';
export type { SessionView } from './session-view.js';
export { toView } from './session-view.js';
export type * from './store.js';
export { REUSE_REVOKE_REASON } from './store.js';
export { chooseEvictions, decideRotation, revokedCopy } from './store-rules.js';
export { digestsEqual, hmacSha256, randomToken, sha256 } from './token-crypto.js';
export type { ValidatedSession } from './validated-session.js';
export { parseInput } from './zod-input.js';
