import { z } from 'zod';
import { InvalidInputError } from './errors.js';
import type { SessionRecord, SessionState } from './session-record.js';
import {
  base64url,
  expiresAt,
  sessionIdSchema,
  sessionStateSchema,
  timestampSchema,
} from './session-record.js';
import type { SessionPage, SessionQuery, StoreStats } from './store.js';
import { parseInput } from './zod-input.js';

/*
 * The rules every store's `listSessions` and `sessionStats` share: the order, the cursor format and what each
 * filter means. The memory and Redis stores apply `matchesSessionQuery` to records; SQL restates it as a WHERE
 * clause, and the store conformance suite holds them to the same answers.
 */

export const SESSION_PAGE_MAX = 500;

const tenantOrUser = z.string().min(1).max(256);

/** What callers may ask for; the manager parses operator input with it before a store sees the query. */
export const sessionQuerySchema = z.object({
  tenantId: tenantOrUser.exactOptional(),
  userId: tenantOrUser.exactOptional(),
  state: sessionStateSchema.exactOptional(),
  createdFrom: timestampSchema.exactOptional(),
  createdTo: timestampSchema.exactOptional(),
  deviceType: z.string().min(1).max(64).exactOptional(),
  limit: z.number().int().min(1).max(SESSION_PAGE_MAX),
  cursor: base64url.max(128).exactOptional(),
  now: timestampSchema,
});

/** The position of the last session of a page: its creation time and id. */
export interface SessionCursor {
  createdAt: number;
  id: string;
}

const cursorSchema = z.tuple([timestampSchema, sessionIdSchema]);

export function encodeSessionCursor(record: SessionCursor): string {
  return Buffer.from(JSON.stringify([record.createdAt, record.id])).toString('base64url');
}

/** Throws `input.invalid` for anything a store did not mint. */
export function decodeSessionCursor(cursor: string): SessionCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidInputError('Invalid session cursor', [{ path: 'cursor', message: 'not a cursor' }]);
  }
  const [createdAt, id] = parseInput(cursorSchema, value, 'session cursor');
  return { createdAt, id };
}

/** Newest first; ties on creation time by id, descending, in code-unit order (SQL's "C" collation). */
export function newestFirst(a: SessionCursor, b: SessionCursor): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** Whether `record` comes strictly after `cursor` in newest-first order. */
export function isAfterCursor(record: SessionCursor, cursor: SessionCursor | undefined): boolean {
  return cursor === undefined || newestFirst(cursor, record) < 0;
}

/** The state an operator sees: an in-use record past a deadline reads `expired`. */
export function effectiveState(record: SessionRecord, now: number): SessionState {
  if (record.state === 'revoked' || record.state === 'expired') return record.state;
  return expiresAt(record) <= now ? 'expired' : record.state;
}

export function matchesSessionQuery(record: SessionRecord, query: SessionQuery): boolean {
  return (
    (query.tenantId === undefined || record.tenantId === query.tenantId) &&
    (query.userId === undefined || record.userId === query.userId) &&
    (query.state === undefined || effectiveState(record, query.now) === query.state) &&
    (query.createdFrom === undefined || record.createdAt >= query.createdFrom) &&
    (query.createdTo === undefined || record.createdAt < query.createdTo) &&
    (query.deviceType === undefined || record.device.fingerprint?.deviceType === query.deviceType)
  );
}

/** One page of `query` over records already at hand (one user's, or a memory store's), newest first. */
export function pageRecords(records: readonly SessionRecord[], query: SessionQuery): SessionPage {
  const after = query.cursor === undefined ? undefined : decodeSessionCursor(query.cursor);
  const matching = records
    .filter((record) => isAfterCursor(record, after) && matchesSessionQuery(record, query))
    .sort(newestFirst);
  const sessions = matching.slice(0, query.limit);
  const last = sessions.at(-1);
  return matching.length > query.limit && last
    ? { sessions, nextCursor: encodeSessionCursor(last) }
    : { sessions };
}

/** Adds one record to running statistics (`StoreStats`), as every store counts. */
export function countInto(
  stats: StoreStats,
  record: SessionRecord,
  window: { from: number; to: number; now: number },
): void {
  const state = effectiveState(record, window.now);
  if (state === 'active' || state === 'suspended') stats.live += 1;
  else if (state === 'expired') stats.expired += 1;
  if (record.createdAt >= window.from && record.createdAt < window.to) stats.created += 1;
  const { revokedAt } = record;
  if (revokedAt !== undefined && revokedAt >= window.from && revokedAt < window.to) stats.revoked += 1;
}
