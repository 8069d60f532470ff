import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { AppDatabase } from './app-database.js';
import { APP_SCHEMA } from './app-database.js';
import { parseEnvelope } from './sealed-box.js';
import { sealedContext } from './sealed-context.js';
import type { SecretVault } from './secret-vault.js';

/** Every column holding a secret, with the column naming its row and the context that binds a value to it. */
const SEALED_COLUMNS = [
  { table: 'secrets', key: 'name', column: 'value', context: sealedContext.secret },
  { table: 'signing_keys', key: 'kid', column: 'private_jwk', context: sealedContext.signingKey },
  { table: 'users', key: 'id', column: 'totp_secret', context: sealedContext.totp },
] as const;

/**
 * Seals values still in clear (a data directory from before secrets were encrypted) and re-seals those under
 * an older data key, in place. Each write is a compare-and-set on the value read, so instances running this at
 * once, or a row changing meanwhile, never lose a value. Returns how many values it rewrote.
 */
export async function resealStoredSecrets(db: Kysely<AppDatabase>, vault: SecretVault): Promise<number> {
  let rewritten = 0;
  for (const { table, key, column, context } of SEALED_COLUMNS) {
    const qualified = sql.table(`${APP_SCHEMA}.${table}`);
    const { rows } = await sql<{ key: string; value: string }>`
      select ${sql.ref(key)} as key, ${sql.ref(column)} as value from ${qualified}
      where ${sql.ref(column)} is not null and ${sql.ref(column)} not like ${`${vault.currentPrefix}%`}`.execute(
      db,
    );
    for (const row of rows) {
      const plaintext = parseEnvelope(row.value)
        ? await vault.unseal(row.value, context(row.key))
        : row.value;
      const result =
        await sql`update ${qualified} set ${sql.ref(column)} = ${vault.seal(plaintext, context(row.key))}
        where ${sql.ref(key)} = ${row.key} and ${sql.ref(column)} = ${row.value}`.execute(db);
      rewritten += Number(result.numAffectedRows ?? 0n);
    }
  }
  return rewritten;
}
