import type { ActivityEntry, ActivityPage, ActivitySource, Clock } from '@sessionkit/core';
import { parseInput, systemClock } from '@sessionkit/core';
import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';
import { z } from 'zod';
import { sessionEndingActions } from '../actions.js';
import { decodeCursor, encodeCursor } from './activity-cursor.js';
import type { AuditDatabase, AuditRecordsTable, AuditSchemaOptions } from './schema.js';
import { auditDb } from './schema.js';

const DAY_MS = 86_400_000;
const FAR_FUTURE = Number.MAX_SAFE_INTEGER;

const listSchema = z.object({
  limit: z.number().int().min(1).max(100),
  cursor: z.string().max(200).optional(),
  sessionId: z.string().min(1).max(64).optional(),
  /** A device's key, as `listDevices` gives it. */
  deviceKey: z.string().min(1).max(64).optional(),
});
export type ListActivityOptions = z.input<typeof listSchema>;

const statsSchema = z.object({
  /** Start of the window; defaults to 30 days before now. */
  since: z.number().int().nonnegative().optional(),
});

export interface DeviceSummary {
  key: string;
  description: string;
  firstSeenAt: number;
  lastSeenAt: number;
  sessions: number;
}

export interface ActivityStats {
  since: number;
  until: number;
  /**
   * Sessions created in the window, not ended by any recorded event and not past their absolute lifetime. An
   * idle timeout the engine never observed is invisible to audit: the store's count is the authority.
   */
  activeSessions: number;
  /** Sessions created per UTC day (transfers to a new device are not logins). */
  loginsPerDay: { day: string; count: number }[];
  failures: { total: number; byAction: Record<string, number> };
}

export interface SqlActivityOptions extends AuditSchemaOptions {
  clock?: Clock;
}

type Scope = { column: 'user_id' | 'tenant_id'; value: string };

/** Core's `ActivitySource` over the audit table, plus devices and statistics for a user or a tenant. */
export class SqlActivitySource implements ActivitySource {
  readonly #db: Kysely<AuditDatabase>;
  readonly #clock: Clock;

  constructor(db: Kysely<unknown> | Kysely<AuditDatabase>, options: SqlActivityOptions = {}) {
    this.#db = auditDb(db as Kysely<AuditDatabase>, options);
    this.#clock = options.clock ?? systemClock;
  }

  /** Newest first; pass `nextCursor` back for the next (older) page. */
  async listActivity(userId: string, options: ListActivityOptions): Promise<ActivityPage> {
    const input = parseInput(listSchema, options, 'activity query');
    const cursor = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
    let query = this.#db
      .selectFrom('audit_records')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('at', 'desc')
      .orderBy('pos', 'desc')
      .limit(input.limit + 1);
    if (input.sessionId !== undefined) query = query.where('session_id', '=', input.sessionId);
    if (input.deviceKey !== undefined) query = query.where('device_key', '=', input.deviceKey);
    if (cursor) {
      query = query.where((eb) =>
        eb.or([eb('at', '<', cursor.at), eb.and([eb('at', '=', cursor.at), eb('pos', '<', cursor.pos)])]),
      );
    }
    const rows = await query.execute();
    const page = rows.slice(0, input.limit);
    const last = page[page.length - 1];
    return {
      entries: page.map(toEntry),
      ...(rows.length > input.limit && last
        ? { nextCursor: encodeCursor({ at: Number(last.at), pos: Number(last.pos) }) }
        : {}),
    };
  }

  /** The newest `session.request` record of each of these sessions of the user: one query, the user's index. */
  async lastRequests(userId: string, sessionIds: readonly string[]): Promise<Map<string, ActivityEntry>> {
    const ids = parseInput(z.array(z.string().min(1).max(64)).max(100), sessionIds, 'session ids');
    if (ids.length === 0) return new Map();
    const rows = await this.#db
      .selectFrom('audit_records')
      .selectAll()
      .distinctOn('session_id')
      .where('user_id', '=', userId)
      .where('action', '=', 'session.request')
      .where('session_id', 'in', ids)
      .orderBy('session_id')
      .orderBy('at', 'desc')
      .orderBy('pos', 'desc')
      .execute();
    return new Map(rows.map((row) => [row.session_id as string, toEntry(row)]));
  }

  /** The devices a user was active from, most recently used first. */
  async listDevices(userId: string, options: { limit?: number } = {}): Promise<DeviceSummary[]> {
    const limit = parseInput(z.number().int().min(1).max(100).default(20), options.limit, 'device limit');
    const rows = await this.#db
      .selectFrom('audit_records')
      .select((eb) => [
        'device_key',
        eb.fn.max('device_label').as('label'),
        eb.fn.max('device_browser').as('browser'),
        eb.fn.max('device_os').as('os'),
        eb.fn.max('device_type').as('type'),
        eb.fn.min('at').as('first_seen'),
        eb.fn.max('at').as('last_seen'),
        eb.fn.count('session_id').distinct().as('sessions'),
      ])
      .where('user_id', '=', userId)
      .where('device_key', 'is not', null)
      .groupBy('device_key')
      .orderBy('last_seen', 'desc')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      key: row.device_key as string,
      description: describeDevice(row.label, row.browser, row.os, row.type, null),
      firstSeenAt: Number(row.first_seen),
      lastSeenAt: Number(row.last_seen),
      sessions: Number(row.sessions),
    }));
  }

  async userStats(userId: string, options: { since?: number } = {}): Promise<ActivityStats> {
    return this.#stats({ column: 'user_id', value: userId }, options);
  }

  async tenantStats(tenantId: string, options: { since?: number } = {}): Promise<ActivityStats> {
    return this.#stats({ column: 'tenant_id', value: tenantId }, options);
  }

  async #stats(scope: Scope, options: { since?: number }): Promise<ActivityStats> {
    const input = parseInput(statsSchema, options, 'statistics query');
    const until = this.#clock.now();
    const since = input.since ?? until - 30 * DAY_MS;
    // One row per session seen in the window, from the scope's own index: no per-session index to maintain
    // on every insert just for statistics.
    const sessions = await this.#db
      .selectFrom('audit_records')
      .select([
        'session_id',
        sql<string | number | null>`min(at) filter (where action = 'session.created')`.as('created_at'),
        sql<
          string | number | null
        >`max(coalesce((details ->> 'absoluteExpiresAt')::bigint, ${sql.lit(FAR_FUTURE)})) filter (where action = 'session.created')`.as(
          'expires_at',
        ),
        sql<boolean>`bool_or(action = 'session.transferred')`.as('transferred'),
        sql<boolean>`bool_or(action in (${sql.join(sessionEndingActions.map((action) => sql.lit(action)))}))`.as(
          'ended',
        ),
      ])
      .where(scope.column, '=', scope.value)
      .where('session_id', 'is not', null)
      .where('at', '>=', since)
      .where('at', '<=', until)
      .where('action', 'in', ['session.created', 'session.transferred', ...sessionEndingActions])
      .groupBy('session_id')
      .execute();

    let activeSessions = 0;
    const logins = new Map<string, number>();
    for (const session of sessions) {
      if (session.created_at === null) continue;
      if (!session.ended && Number(session.expires_at) > until) activeSessions += 1;
      if (session.transferred) continue;
      const day = new Date(Number(session.created_at)).toISOString().slice(0, 10);
      logins.set(day, (logins.get(day) ?? 0) + 1);
    }

    const failures = await this.#db
      .selectFrom('audit_records')
      .select((eb) => ['action', eb.fn.countAll().as('n')])
      .where(scope.column, '=', scope.value)
      .where('outcome', '=', 'failure')
      .where('at', '>=', since)
      .where('at', '<=', until)
      .groupBy('action')
      .execute();

    const byAction = Object.fromEntries(failures.map((row) => [row.action, Number(row.n)]));
    return {
      since,
      until,
      activeSessions,
      loginsPerDay: [...logins]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([day, count]) => ({ day, count })),
      failures: { total: Object.values(byAction).reduce((sum, n) => sum + n, 0), byAction },
    };
  }
}

function describeDevice(
  label: string | null,
  browser: string | null,
  os: string | null,
  type: string | null,
  network: string | null,
): string {
  const agent = [browser, os === null ? null : `on ${os}`, type === null ? null : `(${type})`]
    .filter((part) => part !== null)
    .join(' ');
  const what = [label, agent || null].filter((part) => part !== null).join(' · ');
  return [what || 'Unknown device', network].filter((part) => part !== null).join(', ');
}

const requestDetails = z.object({
  route: z.string(),
  method: z.string(),
  status: z.number(),
  durationMs: z.number(),
  category: z.string(),
});

function toEntry(row: Selectable<AuditRecordsTable>): ActivityEntry {
  const hasDevice = row.device_key !== null || row.ip_prefix !== null;
  const request = row.action === 'session.request' ? requestDetails.safeParse(row.details) : undefined;
  return {
    id: row.id,
    action: row.action,
    at: Number(row.at),
    ...(row.session_id === null ? {} : { sessionId: row.session_id }),
    outcome: row.outcome === 'failure' ? 'failure' : 'success',
    ...(hasDevice
      ? {
          device: describeDevice(
            row.device_label,
            row.device_browser,
            row.device_os,
            row.device_type,
            row.ip_prefix,
          ),
        }
      : {}),
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(request?.success ? { request: request.data } : {}),
  };
}
