import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { auditRecordSchema } from '../audit-record.js';
import type { OpenedRecord, PersonalDataVault, SubjectKeyStore } from '../personal-data.js';
import { SEALED_PERSONAL_DATA } from '../personal-data.js';
import { rowToRecord } from './rows.js';
import type { AuditDatabase, AuditSchemaOptions } from './schema.js';
import { auditDb } from './schema.js';

/** How long a key read from the table is reused in process. Erasure is complete everywhere after this. */
const KEY_CACHE_MS = 30_000;

/**
 * Per-user keys in the `audit_subject_keys` table (`migrateAuditSchema` creates it). A row deleted is a user's
 * personal details erased; keep this table out of long-lived backups, or a restore brings the keys back.
 */
export class SqlSubjectKeys implements SubjectKeyStore {
  readonly #db: Kysely<AuditDatabase>;
  readonly #cache = new Map<string, { key: Buffer; until: number }>();

  constructor(db: Kysely<unknown> | Kysely<AuditDatabase>, options: AuditSchemaOptions = {}) {
    this.#db = auditDb(db as Kysely<AuditDatabase>, options);
  }

  async keyFor(userId: string): Promise<Buffer> {
    const cached = this.#cached(userId);
    if (cached) return cached;
    // Two instances creating at once: the first insert wins and both read it back.
    await this.#db
      .insertInto('audit_subject_keys')
      .values({ user_id: userId, key: randomBytes(32), created_at: Date.now() })
      .onConflict((conflict) => conflict.column('user_id').doNothing())
      .execute();
    const key = await this.find(userId);
    if (!key) throw new Error(`The key of ${userId} vanished while being created`);
    return key;
  }

  async find(userId: string): Promise<Buffer | undefined> {
    const cached = this.#cached(userId);
    if (cached) return cached;
    const row = await this.#db
      .selectFrom('audit_subject_keys')
      .select('key')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row) return undefined;
    const key = Buffer.from(row.key);
    this.#cache.set(userId, { key, until: Date.now() + KEY_CACHE_MS });
    return key;
  }

  async destroy(userId: string): Promise<boolean> {
    this.#cache.delete(userId);
    const result = await this.#db
      .deleteFrom('audit_subject_keys')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  #cached(userId: string): Buffer | undefined {
    const entry = this.#cache.get(userId);
    if (entry && entry.until > Date.now()) return entry.key;
    this.#cache.delete(userId);
    return undefined;
  }
}

/**
 * The audit side of data-subject requests (the `dataSubjects` of @sessionkit/express's `adminRouter`): every
 * record about a user, opened with their key, and erasure by destroying that key.
 */
export class SqlDataSubjects {
  readonly #db: Kysely<AuditDatabase>;
  readonly #vault: PersonalDataVault;

  constructor(
    db: Kysely<unknown> | Kysely<AuditDatabase>,
    options: AuditSchemaOptions & { vault: PersonalDataVault },
  ) {
    this.#db = auditDb(db as Kysely<AuditDatabase>, options);
    this.#vault = options.vault;
  }

  /** Records whose subject is the user, oldest first, each opened (or marked erased). */
  async exportUser(userId: string): Promise<OpenedRecord[]> {
    const rows = await this.#db
      .selectFrom('audit_records')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('at')
      .orderBy('pos')
      .execute();
    return Promise.all(rows.map((row) => this.#vault.open(auditRecordSchema.parse(rowToRecord(row)))));
  }

  /** Destroys the user's key; answers how many of their records held sealed personal details. */
  async eraseUser(userId: string): Promise<number> {
    const { count } = await this.#db
      .selectFrom('audit_records')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('user_id', '=', userId)
      .where('details', '?', SEALED_PERSONAL_DATA)
      .executeTakeFirstOrThrow();
    await this.#vault.shred(userId);
    return Number(count);
  }
}
