export type { BruteForceGuardOptions, LockoutVerdict, LoginAttempt } from './brute-force-guard.js';
export { BruteForceGuard } from './brute-force-guard.js';
export type { DegradedEvent, DegradedListener } from './degraded.js';
export type { FingerprintComponents, FingerprintInput } from './device-fingerprint.js';
export {
  deviceFingerprint,
  fingerprintInputFromHeaders,
  fingerprintInputSchema,
} from './device-fingerprint.js';
export type { FingerprintComparison, SimilarityOptions } from './fingerprint-similarity.js';
export {
  compareFingerprints,
  defaultComponentWeights,
  similarityOptionsSchema,
} from './fingerprint-similarity.js';
export type { GcraDecision, GcraState } from './gcra.js';
export { emissionIntervalUs, gcraDecide } from './gcra.js';
export type { ClientNetworkBits, ClientNetworkOptions } from './ip-prefix.js';
export {
  clientNetwork,
  clientNetworkOptionsSchema,
  ipPrefix,
  parseClientNetworkOptions,
} from './ip-prefix.js';
export type {
  KyselyProfileStoreOptions,
  SecurityDatabase,
  SecurityProfileTable,
} from './kysely-profile-store.js';
export { KyselyProfileStore, migrateSecurityProfiles, PROFILE_TABLE } from './kysely-profile-store.js';
export type { Backoff, LockoutPolicy, LockoutPolicyInput, LockoutSubject } from './lockout-policy.js';
export { backoffDelayMs, lockoutPolicySchema, parseLockoutPolicy } from './lockout-policy.js';
export type { LockoutFailure, LockoutState, LockoutStore } from './lockout-store.js';
export { MemoryEventLog } from './memory-event-log.js';
export { MemoryLockoutStore } from './memory-lockout-store.js';
export { MemoryProfileStore } from './memory-profile-store.js';
export type { MemoryRateLimiterOptions } from './memory-rate-limiter.js';
export { MemoryRateLimiter } from './memory-rate-limiter.js';
export type { ProfileStore, VersionedProfile } from './profile-store.js';
export { updateProfile } from './profile-updates.js';
export type {
  RateLimitOutcome,
  RateLimitRule,
  RateLimitRuleInput,
  RateLimitScope,
  RateLimitSubject,
  RuleRateLimitResult,
  StoreDownMode,
} from './rate-limit-rule.js';
export { parseRateLimitRule, rateLimitKey, rateLimitRuleSchema, rateLimitScopes } from './rate-limit-rule.js';
export type { RedisEventLogOptions } from './redis-event-log.js';
export { RedisEventLog } from './redis-event-log.js';
export type { RedisLockoutStoreOptions } from './redis-lockout-store.js';
export { RedisLockoutStore } from './redis-lockout-store.js';
export type { RedisProfileStoreOptions } from './redis-profile-store.js';
export { RedisProfileStore } from './redis-profile-store.js';
export type { RedisRateLimiterOptions } from './redis-rate-limiter.js';
export { RedisRateLimiter } from './redis-rate-limiter.js';
export type { RuleLimiter } from './request-rate-limits.js';
export { RequestRateLimits } from './request-rate-limits.js';
export type {
  NetworkInfo,
  NetworkResolver,
  RiskAssessment,
  RiskEngineOptions,
  RiskSignal,
} from './risk-engine.js';
export { RiskEngine } from './risk-engine.js';
export type { RiskPolicy, RiskPolicyInput, RiskSignalName } from './risk-policy.js';
export { parseRiskPolicy, riskPolicySchema, riskSignals } from './risk-policy.js';
export type {
  LockedAccount,
  RiskySession,
  SecurityEvent,
  SecurityEventLog,
  SecuritySummary,
} from './security-event.js';
export { securityEventSchema, summarize } from './security-event.js';
export type { Observation, SecurityProfile } from './security-profile.js';
export { distanceKm, emptyProfile, learn, securityProfileSchema } from './security-profile.js';
