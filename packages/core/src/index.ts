/*
 * `@sessionkit/core`: what an application uses. Store authors add `@sessionkit/core/store` (the contract, the
 * stored-record schema, the rules shared with Lua and SQL) and `@sessionkit/core/store/testing` (the
 * conformance suite); the identity-provider integration is `@sessionkit/upstream`.
 */
export type {
  AccessTokenAlgorithm,
  AccessTokenClaims,
  AccessTokenIssuerOptions,
  PrivateSigningJwk,
  SigningKey,
} from './access-token.js';
export { AccessTokenKeyRing, looksLikeJwt } from './access-token.js';
export type {
  ActivityEntry,
  ActivityPage,
  ActivitySource,
  RequestActivity,
  RequestActivityRecorder,
} from './activity.js';
export * from './binding-errors.js';
export type { Clock } from './clock.js';
export { ManualClock, systemClock } from './clock.js';
export type { SessionConfig, SessionConfigInput } from './config.js';
export { parseSessionConfig, sessionConfigSchema } from './config.js';
export type { ContextAssessment, ContextAssessmentInput, ContextAssessor } from './context-policy.js';
export type { DeviceKey } from './dbsc-binding.js';
export type { DpopNoncesOptions } from './dpop-nonce.js';
export { DpopNonces } from './dpop-nonce.js';
export type {
  DpopAlgorithm,
  DpopProofRequest,
  DpopProofVerifierOptions,
  VerifiedDpopProof,
} from './dpop-proof.js';
export { DpopProofVerifier } from './dpop-proof.js';
export type { DpopReplayCache } from './dpop-replay-cache.js';
export { MemoryDpopReplayCache } from './dpop-replay-cache.js';
export { ERROR_CODE_MEANINGS } from './error-meanings.js';
export * from './errors.js';
export type {
  ContextAction,
  RevokedBy,
  SessionEvent,
  SessionEventListener,
  SessionEventType,
} from './events.js';
export { SessionEvents } from './events.js';
export type { HealthCheck, HealthCheckOptions, HealthDetails } from './health-check.js';
export { sessionStoreCheck } from './health-check.js';
export type { LiveSessionCounts } from './live-sessions.js';
export { observeLiveSessions } from './live-sessions.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { MemoryStore } from './memory-store.js';
export type { RateLimiter, RateLimitResult } from './rate-limit.js';
export type { EventContext, RequestContext } from './request-context.js';
export type {
  AdminRevokeOptions,
  SessionAdministration,
  SessionListPage,
  SessionListQuery,
  SessionStatistics,
} from './session-administration.js';
export type { CreateSessionOptions, IssuedTokens } from './session-issuer.js';
export type { SessionManagerOptions, SessionStats } from './session-manager.js';
export { SessionManager } from './session-manager.js';
export type { Aal, JsonValue, SessionRecord, SessionState } from './session-record.js';
export { METADATA_MAX_BYTES } from './session-record.js';
export type { RefreshResult } from './session-refresh.js';
export type { ValidateOptions } from './session-validator.js';
export type { SessionView } from './session-view.js';
export type { SessionStore } from './store.js';
export { digestsEqual, hmacSha256, randomToken, sha256 } from './token-crypto.js';
export type { ValidatedSession } from './validated-session.js';
export { parseInput } from './zod-input.js';
