/**
 * Wiring audit into a session manager, end to end, in one process (PGlite stands in for PostgreSQL):
 *
 *   npx tsx --conditions=@sessionkit/source packages/audit/examples/wiring.ts
 */
import { PGlite } from '@electric-sql/pglite';
import { MemoryStore, SessionManager } from '@sessionkit/core';
import { Kysely } from 'kysely';
import { KyselyPGlite } from 'kysely-pglite';
import { Auditor, Keyring, loggerSink } from '../src/index.js';
import {
  migrateAuditSchema,
  SqlActivitySource,
  SqlAuditLedger,
  SqlAuditRetention,
} from '../src/sql/index.js';

// Secrets come from your secret store; at least 32 characters each. Rotate by adding a key and moving currentKeyId.
const integrityKeys = new Keyring({
  currentKeyId: '2026-01',
  keys: { '2026-01': 'replace-me-integrity-key-32-chars-min!!' },
});
const ipKeys = { currentKeyId: '2026-01', keys: { '2026-01': 'replace-me-ip-hash-key-32-chars-minimum!' } };

const db = new Kysely<unknown>({ dialect: new KyselyPGlite(new PGlite()).dialect });
await migrateAuditSchema(db, { schema: 'audit' }); // explicit, idempotent: run it with your migrations

const ledger = new SqlAuditLedger(db, { schema: 'audit', keys: integrityKeys });
const auditor = new Auditor({
  ledger,
  sinks: [loggerSink({ stream: process.stdout })],
  ip: { keys: ipKeys, keepPrefix: true },
  onDrop: (notice) => console.error(`audit is dropping records at ${notice.stage} (${notice.cause})`),
});

const manager = new SessionManager({ store: new MemoryStore() });
auditor.attach(manager.events); // every engine event is recorded from here on

const context = {
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
};
// What the engine cannot see, the application records itself, typed per action:
auditor.record('auth.login_failed', {
  userId: 'alice',
  ip: context.ip,
  userAgent: context.userAgent,
  details: { method: 'password' },
});
const { token, session } = await manager.create({ userId: 'alice', tenantId: 'acme', context });
await manager.validate(token, { context });
await manager.revoke(session.id, { reason: 'logout', by: 'user', context });
await auditor.flush();

const activity = new SqlActivitySource(db, { schema: 'audit' });
console.log((await activity.listActivity('alice', { limit: 10 })).entries);
console.log(await activity.userStats('alice'));
console.log(await ledger.verifyAll());
console.log(
  await new SqlAuditRetention(db, { schema: 'audit', keys: integrityKeys }).apply({
    olderThanMs: 90 * 86_400_000,
  }),
);

await auditor.close();
await db.destroy();
