export type { ActivityCursor } from './activity-cursor.js';
export type { AuditDatabase, AuditSchemaOptions } from './schema.js';
export { auditDb, migrateAuditSchema } from './schema.js';
export type {
  ActivityStats,
  DeviceSummary,
  ListActivityOptions,
  SqlActivityOptions,
} from './sql-activity.js';
export { SqlActivitySource } from './sql-activity.js';
export { SqlDataSubjects, SqlSubjectKeys } from './sql-data-subjects.js';
export type { SqlAuditOptions } from './sql-ledger.js';
export { SqlAuditLedger } from './sql-ledger.js';
export type { RetentionOptions, RetentionResult } from './sql-retention.js';
export { SqlAuditRetention } from './sql-retention.js';
