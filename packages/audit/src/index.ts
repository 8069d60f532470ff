export type {
  AuditAction,
  AuditCategory,
  AuditDetailsInput,
  AuditOutcome,
  AuditSeverity,
} from './actions.js';
export {
  auditActionNames,
  auditActionSchema,
  auditActions,
  auditCategories,
  auditOutcomes,
  auditSeverities,
  sessionEndingActions,
} from './actions.js';
export type { AdminActionEntry } from './admin-recorder.js';
export { adminAuditRecorder } from './admin-recorder.js';
export type { AuditHealthOptions } from './audit-health-check.js';
export { AuditBacklogError, auditHealthCheck } from './audit-health-check.js';
export type { AuditActor, AuditEntry, AuditRecord, DeviceInfo, IpInfo } from './audit-record.js';
export {
  actorSchema,
  auditEntrySchema,
  auditRecordSchema,
  deviceInfoSchema,
  ipInfoSchema,
} from './audit-record.js';
export type { AuditorOptions, AuditorStats } from './auditor.js';
export { Auditor } from './auditor.js';
export type { AuditorConfigInput } from './auditor-config.js';
export { auditorConfigSchema } from './auditor-config.js';
export { canonicalJson } from './canonical-json.js';
export type { ChainHead } from './chain.js';
export { EMPTY_HEAD, expectedHash, GENESIS_HASH, linkEntry, sealInput } from './chain.js';
export { ChainLocks, chainLocksFor } from './chain-locks.js';
export type { ChainCheckpoint } from './checkpoint.js';
export { checkpointIsAuthentic, checkpointSchema, signCheckpoint } from './checkpoint.js';
export type { IpPrivacyInput } from './ip-hasher.js';
export { IpHasher, ipPrivacySchema } from './ip-hasher.js';
export type { KeyringInput } from './keyring.js';
export { Keyring, keyringSchema } from './keyring.js';
export type { AppendOptions, AuditLedger, MemoryLedgerOptions } from './ledger.js';
export { MemoryLedger } from './ledger.js';
export type { LineStream, LoggerSinkOptions } from './logger-sink.js';
export { loggerSink } from './logger-sink.js';
export type { OpenedRecord, SubjectKeyStore } from './personal-data.js';
export { MemorySubjectKeys, PersonalDataVault, SEALED_PERSONAL_DATA } from './personal-data.js';
export type { AuditRecordInput } from './record-input.js';
export { redactJson, redactText } from './redaction.js';
export { requestActivityRecorder } from './request-activity-recorder.js';
export type { AuditObservation, AuditSink } from './sink.js';
export { noopSink } from './sink.js';
export type { DropNotice, OutletStats } from './sink-outlet.js';
export type { ChainBreak, ChainFault, ChainVerification, VerifyChainOptions } from './verify-chain.js';
export { ChainVerifier, verifyChain } from './verify-chain.js';
