export type {
  BackchannelHttpResponse,
  BackchannelLogoutConfig,
  BackchannelLogoutOptions,
  LogoutOutcome,
  LogoutTokenClaims,
} from './backchannel-logout.js';
export {
  BACKCHANNEL_LOGOUT_EVENT,
  BackchannelLogoutReceiver,
  sessionsByMetadata,
} from './backchannel-logout.js';
export type { IdTokenAssurance, IdTokenAssuranceOptions } from './id-token-assurance.js';
export { idTokenAssurance } from './id-token-assurance.js';
export { identityProviderCheck } from './identity-provider-check.js';
export type {
  FetchFunction,
  IdTokenClaims,
  IntrospectionResponse,
  OidcClientOptions,
  PendingAuthorization,
  ProviderMetadata,
} from './oidc-client.js';
export { OidcClient } from './oidc-client.js';
export type { CandidateSource, OrphanSweepConfig, OrphanSweepReport } from './orphan-sweep.js';
export { sweepOrphans } from './orphan-sweep.js';
export type {
  UpstreamLogEntry,
  UpstreamTokenVaultConfig,
  UpstreamTokenVaultOptions,
} from './token-vault.js';
export { UpstreamTokenVault } from './token-vault.js';
export { UpstreamRejectedError, UpstreamUnavailableError } from './upstream-errors.js';
export type { IntrospectionResult, UpstreamIntrospectionConfig } from './upstream-introspection.js';
export { UpstreamIntrospection } from './upstream-introspection.js';
export type { UpstreamTokens, UpstreamTokensInput } from './upstream-tokens.js';
export { upstreamTokensSchema } from './upstream-tokens.js';
export type { VaultKeyRingInput } from './vault-key-ring.js';
export { VaultKeyRing } from './vault-key-ring.js';
