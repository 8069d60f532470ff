import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';

/** First key of the two-key advisory lock: keeps our per-user locks apart from any the application takes. */
export const USER_LOCK_NAMESPACE = 0x5e55;

/** What the function raises under `reject` when the user is at the limit (class `SK`: ours, not PostgreSQL's). */
export const LIMIT_EXCEEDED_SQLSTATE = 'SK001';

export const CREATE_SESSION_FUNCTION = 'create_session';

/**
 * Migration 0002: `<schema>.create_session(session jsonb, max_sessions, reject, now, evict_reason)`, the
 * create-with-limit as one statement, so a create is one round trip and the per-user lock is never held
 * while the client is away. It inserts the session, then, under the user's advisory lock, evicts the oldest
 * live sessions past the limit and returns them revoked (oldest first), or raises `SK001` under `reject`, which
 * rolls the insert back.
 *
 * It restates core's `chooseEvictions` (live = in use, core's `IN_USE_STATES` spelled out as SQL literals, and
 * `now` before both deadlines; evict the `live + 1 - max` oldest by `createdAt`, then by id in code-unit order,
 * which the `"C"` collation gives in SQL). test/create-session-rules.test.ts holds the two to the same answers,
 * and core's store conformance suite ("the in-use rule") every store to `isInUse`.
 *
 * Everything is schema-qualified (the store supports a custom schema) and frozen as of this migration: a
 * later column change replaces the function in its own migration (`defineCreateSession` with its columns).
 */
export function createSessionMigration(schema: string): Migration {
  const fn = sql.id(schema, CREATE_SESSION_FUNCTION);
  return {
    async up(db: Kysely<unknown>) {
      await defineCreateSession(db, schema, COLUMNS_0001);
    },
    async down(db: Kysely<unknown>) {
      await sql`drop function ${fn}(jsonb, integer, boolean, timestamptz, text)`.execute(db);
    },
  };
}

/** The columns of `sessions` as migration 0001 created them, but the generated `expires_at`. */
export const COLUMNS_0001 = [
  'id',
  'user_id',
  'tenant_id',
  'state',
  'created_at',
  'last_seen_at',
  'idle_expires_at',
  'absolute_expires_at',
  'aal',
  'authenticated_at',
  'secret_hash',
  'refresh_family_id',
  'refresh_generation',
  'refresh_current_hash',
  'refresh_previous_hash',
  'refresh_rotated_at',
  'refresh_sealed_successor',
  'refresh_retired_hashes',
  'device',
  'parent_id',
  'revoked_at',
  'revoke_reason',
  'transfer_code_hash',
  'transfer_expires_at',
  'transfer_mode',
  'version',
  'metadata',
] as const;

/**
 * Creates, or replaces, the function for a `sessions` table with exactly these (insertable) columns. With
 * `perTenant` (migration 0004 on) only the user's sessions of the incoming session's tenant count and are evicted.
 */
export async function defineCreateSession(
  db: Kysely<unknown>,
  schema: string,
  columns: readonly string[],
  options: { perTenant?: boolean } = {},
): Promise<void> {
  const sameTenant = options.perTenant ? sql`and tenant_id is not distinct from incoming.tenant_id` : sql``;
  const sessions = sql.id(schema, 'sessions');
  const fn = sql.id(schema, CREATE_SESSION_FUNCTION);
  const names = sql.join(columns.map((column) => sql.id(column)));
  const values = sql.join(columns.map((column) => sql.id('incoming', column)));
  // DDL takes no bind parameters: every value below is inlined with sql.lit.
  await sql`
    create or replace function ${fn}(
      p_session jsonb, p_max_sessions integer, p_reject boolean, p_now timestamptz, p_evict_reason text
    ) returns setof ${sessions}
    language plpgsql
    as $body$
    declare
      incoming ${sessions} := jsonb_populate_record(null::${sessions}, p_session);
      live text[];
      excess integer;
      victim text;
    begin
      -- Serialises creates (and revoke-all) of one user until commit. Each statement below takes a new
      -- snapshot (READ COMMITTED), so it sees every session committed before the lock was granted.
      perform pg_advisory_xact_lock(${sql.lit(USER_LOCK_NAMESPACE)}, hashtext(incoming.user_id));
      -- First, so a duplicate id is a unique violation whatever the limit says.
      insert into ${sessions} (${names}) values (${values});
      -- The other live sessions, oldest first, locked against a concurrent write until commit.
      live := array(
        select id from ${sessions}
        where user_id = incoming.user_id and id <> incoming.id and state in ('active', 'suspended') ${sameTenant}
          and p_now < idle_expires_at and p_now < absolute_expires_at
        order by created_at, id collate "C"
        for update
      );
      excess := cardinality(live) + 1 - p_max_sessions;
      if excess <= 0 then
        return;
      end if;
      if p_reject then
        raise exception 'session limit % reached', p_max_sessions using errcode = ${sql.lit(LIMIT_EXCEEDED_SQLSTATE)};
      end if;
      foreach victim in array live[1:excess] loop
        return query
          update ${sessions}
          set state = 'revoked', revoked_at = p_now, revoke_reason = p_evict_reason, version = version + 1
          where id = victim
          returning *;
      end loop;
    end
    $body$`.execute(db);
}
