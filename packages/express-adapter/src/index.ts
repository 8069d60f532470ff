export type {
  AdminAction,
  AdminAuditEntry,
  AdminAuditRecorder,
  AdminRouterOptions,
  DataSubjectRecords,
} from './admin-router.js';
export { adminRouter } from './admin-router.js';
export type {
  AdminSession,
  AdminSessionQuery,
  AuditVerification,
  DataSubjectErasure,
  DataSubjectExport,
} from './admin-schemas.js';
export {
  adminAuditVerificationSchema,
  adminCleanupSchema,
  adminRevokedSchema,
  adminSessionAnswerSchema,
  adminSessionDetailSchema,
  adminSessionPageSchema,
  adminSessionQuerySchema,
  adminSessionSchema,
  adminStatisticsQuerySchema,
  adminStatisticsSchema,
  dataSubjectErasureSchema,
  dataSubjectExportSchema,
} from './admin-schemas.js';
export { asyncHandler } from './async-handler.js';
export type { BackChannelLogoutRouterOptions } from './back-channel-logout-router.js';
export { backChannelLogoutRouter } from './back-channel-logout-router.js';
export type { ClientCredentials, RegisteredClient } from './client-authentication.js';
export { basicClientAuthenticator, basicClientCredentials } from './client-authentication.js';
export type { IdentifiedRequestContext } from './context-from-request.js';
export type { CookieOptions } from './cookies.js';
export type { CsrfOptions } from './csrf.js';
export { csrfProtection } from './csrf.js';
export type { DeviceBoundSessions, DeviceBoundSessionsOptions } from './dbsc-router.js';
export { deviceBoundSessions } from './dbsc-router.js';
export type { DpopRequestOptions } from './dpop-proof.js';
export { verifyDpopProof } from './dpop-proof.js';
export type { AuthorizationPredicate, RolesResolver } from './guards.js';
export {
  requireAal,
  requireAuthorization,
  requireFresh,
  requireRole,
  requireSession,
  sessionOf,
  storeBackedSession,
} from './guards.js';
export type { HealthRouterOptions } from './health-router.js';
export { healthRouter } from './health-router.js';
export type { IntrospectionRouterOptions } from './introspection-router.js';
export { introspectionRouter } from './introspection-router.js';
export type { JwksRouterOptions } from './jwks-router.js';
export { jwksRouter } from './jwks-router.js';
export type { ClientAuthenticator } from './oauth-endpoint.js';
export type { ProblemHandlerOptions } from './problem-details.js';
export { problemHandler, STATUS_BY_CODE } from './problem-details.js';
export type { RateLimitOptions } from './rate-limit-middleware.js';
export { rateLimit } from './rate-limit-middleware.js';
export type { CheckReport } from './readiness.js';
export type { RequestActivityOptions } from './request-activity.js';
export { requestActivity } from './request-activity.js';
export { requestContext } from './request-context.js';
export type { RequestContextOptions } from './request-id.js';
export type { RevocationRouterOptions } from './revocation-router.js';
export { revocationRouter } from './revocation-router.js';
export type { SelfServiceOptions } from './self-service-router.js';
export { selfServiceRouter } from './self-service-router.js';
export type { BindingPolicy, SessionBindingOptions } from './session-binding.js';
export { sessionBinding } from './session-binding.js';
export type { SessionKitRequest, ValidationTier } from './session-kit-request.js';
export type {
  CookieSession,
  EndSessionOptions,
  EstablishOptions,
  SteppedUpSession,
} from './session-lifecycle.js';
export { endSession, establishSession, stepUpSession } from './session-lifecycle.js';
export type { SessionMiddlewareOptions } from './session-middleware.js';
export { sessionMiddleware } from './session-middleware.js';
export type { TenantResolver } from './tenant-guard.js';
export { requireTenant } from './tenant-guard.js';
export type { TransferRouterOptions } from './transfer-router.js';
export { transferRouter } from './transfer-router.js';
