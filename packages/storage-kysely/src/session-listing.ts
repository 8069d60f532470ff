import type { SessionRecord } from '@sessionkit/core';
import type { SessionPage, SessionQuery, StatsQuery, StoreStats } from '@sessionkit/core/store';
import { decodeSessionCursor, encodeSessionCursor } from '@sessionkit/core/store';
import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import { sql } from 'kysely';
import type { Database } from './database.js';
import { rowToRecord } from './session-row.js';

/*
 * The operator's queries, core's `matchesSessionQuery` and `newestFirst` as SQL. Pages walk the indexes of
 * migration 0004 by (created_at, id collate "C") descending: a keyset, so a page costs the same at any depth.
 */

type Where = ExpressionBuilder<Database, 'sessions'>;

const IN_USE = sql`state in ('active', 'suspended')`;

/** core's `effectiveState`: an in-use row past `expires_at` reads `expired`. */
function stateIs(state: SessionRecord['state'], now: Date): Expression<SqlBool> {
  switch (state) {
    case 'active':
    case 'suspended':
      return sql<SqlBool>`(state = ${state} and expires_at > ${now})`;
    case 'expired':
      return sql<SqlBool>`(state = 'expired' or (${IN_USE} and expires_at <= ${now}))`;
    case 'revoked':
      return sql<SqlBool>`state = 'revoked'`;
  }
}

function filters(eb: Where, query: SessionQuery): Expression<SqlBool>[] {
  const now = new Date(query.now);
  const where: Expression<SqlBool>[] = [];
  if (query.tenantId !== undefined) where.push(eb('tenant_id', '=', query.tenantId));
  if (query.userId !== undefined) where.push(eb('user_id', '=', query.userId));
  if (query.state !== undefined) where.push(stateIs(query.state, now));
  if (query.createdFrom !== undefined) where.push(eb('created_at', '>=', new Date(query.createdFrom)));
  if (query.createdTo !== undefined) where.push(eb('created_at', '<', new Date(query.createdTo)));
  if (query.deviceType !== undefined) {
    where.push(sql<SqlBool>`device -> 'fingerprint' ->> 'deviceType' = ${query.deviceType}`);
  }
  if (query.cursor !== undefined) {
    const after = decodeSessionCursor(query.cursor);
    const at = new Date(after.createdAt);
    // The first bound alone is an index condition: the scan starts at the cursor, whatever its depth.
    where.push(eb('created_at', '<=', at));
    where.push(sql<SqlBool>`(created_at < ${at} or id collate "C" < ${after.id})`);
  }
  return where;
}

export async function listSessionPage(db: Kysely<Database>, query: SessionQuery): Promise<SessionPage> {
  const rows = await db
    .selectFrom('sessions')
    .selectAll()
    .where((eb) => eb.and(filters(eb, query)))
    .orderBy('created_at', 'desc')
    .orderBy(sql`id collate "C"`, 'desc')
    .limit(query.limit + 1)
    .execute();
  const sessions = rows.slice(0, query.limit).map(rowToRecord);
  const last = sessions.at(-1);
  return rows.length > query.limit && last
    ? { sessions, nextCursor: encodeSessionCursor(last) }
    : { sessions };
}

const countsRow = (row: { live: unknown; expired: unknown; created: unknown; revoked: unknown }) => ({
  live: Number(row.live),
  expired: Number(row.expired),
  created: Number(row.created),
  revoked: Number(row.revoked),
});

/** core's `countInto`, as one pass over the tenant's rows (or all rows). */
export async function countSessions(db: Kysely<Database>, query: StatsQuery): Promise<StoreStats> {
  const now = new Date(query.now);
  const from = new Date(query.from);
  const to = new Date(query.to);
  let select = db
    .selectFrom('sessions')
    .select([
      sql<string>`count(*) filter (where ${IN_USE} and expires_at > ${now})`.as('live'),
      sql<string>`count(*) filter (where state = 'expired' or (${IN_USE} and expires_at <= ${now}))`.as(
        'expired',
      ),
      sql<string>`count(*) filter (where created_at >= ${from} and created_at < ${to})`.as('created'),
      sql<string>`count(*) filter (where revoked_at >= ${from} and revoked_at < ${to})`.as('revoked'),
    ]);
  if (query.tenantId !== undefined) select = select.where('tenant_id', '=', query.tenantId);
  return countsRow(await select.executeTakeFirstOrThrow());
}

export async function deleteUserRows(db: Kysely<Database>, userId: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
