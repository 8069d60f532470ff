import type { AuditDatabase } from '@sessionkit/audit/sql';
import { auditDb } from '@sessionkit/audit/sql';
import { parseInput } from '@sessionkit/core';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { z } from 'zod';

const DAY_MS = 86_400_000;
const REVOCATIONS = [
  'session.revoked_by_user',
  'session.revoked_by_admin',
  'session.revoked_by_policy',
  'session.revoked_by_system',
] as const;

export interface DailyCounts {
  /** UTC days, oldest first, every day of the window present (zero when nothing happened). */
  days: string[];
  started: number[];
  revoked: number[];
  reuseDetected: number[];
}

const windowSchema = z.object({ days: z.coerce.number().int().min(1).max(90).default(14) });

/**
 * The admin console's time series, from the audit trail: sessions started, revoked and refresh-token reuse
 * detected per UTC day. One grouped query over the window (the audit table has no index on time alone, so it
 * reads the window's rows: fine for the reference app, where the store's own statistics answer the totals).
 */
export class AdminInsights {
  readonly #db: Kysely<AuditDatabase>;
  readonly #now: () => number;

  constructor(db: Kysely<unknown>, options: { schema: string; now: () => number }) {
    this.#db = auditDb(db, { schema: options.schema });
    this.#now = options.now;
  }

  async daily(query: unknown): Promise<DailyCounts> {
    const { days } = parseInput(windowSchema, query, 'insights query');
    const today = Math.floor(this.#now() / DAY_MS);
    const first = today - days + 1;
    const rows = await this.#db
      .selectFrom('audit_records')
      .select([
        'action',
        sql<string>`floor(at / ${sql.lit(DAY_MS)})`.as('day'),
        (eb) => eb.fn.countAll<string>().as('n'),
      ])
      .where('at', '>=', first * DAY_MS)
      .where('action', 'in', ['session.created', 'token.reuse_detected', ...REVOCATIONS])
      .groupBy(['action', sql`floor(at / ${sql.lit(DAY_MS)})`])
      .execute();
    const counts: DailyCounts = {
      days: Array.from({ length: days }, (_, i) => new Date((first + i) * DAY_MS).toISOString().slice(0, 10)),
      started: new Array<number>(days).fill(0),
      revoked: new Array<number>(days).fill(0),
      reuseDetected: new Array<number>(days).fill(0),
    };
    for (const row of rows) {
      const index = Number(row.day) - first;
      if (index < 0 || index >= days) continue;
      const series =
        row.action === 'session.created'
          ? counts.started
          : row.action === 'token.reuse_detected'
            ? counts.reuseDetected
            : counts.revoked;
      series[index] = (series[index] ?? 0) + Number(row.n);
    }
    return counts;
  }
}
