import type { ManualClock } from '@sessionkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Keyring } from '../src/index.js';
import { SqlAuditLedger, SqlAuditRetention } from '../src/sql/index.js';
import type { TestDatabase } from './support/databases.js';
import { integrityKeys } from './support/keys.js';
import { sqlBackends, useSqlAuditTrail } from './support/sql-audit-trail.js';

const DAY = 86_400_000;

describe.each(sqlBackends)('SQL audit chain integrity on %s', (_name, open) => {
  const trail = useSqlAuditTrail(open);
  const { auditorFor, records } = trail;
  let database: TestDatabase;
  let clock: ManualClock;
  let ledger: SqlAuditLedger;
  beforeAll(() => {
    ({ database, clock, ledger } = trail);
  });

  it('catches an edited, a deleted and a reordered record and names the first bad one', async () => {
    const auditor = auditorFor();
    for (const tenant of ['t-edit', 't-delete', 't-reorder', 't-intact']) {
      for (let index = 1; index <= 5; index += 1) {
        auditor.record('auth.login_failed', {
          tenantId: tenant,
          userId: `${tenant}-user`,
          details: { failures: index },
        });
      }
    }
    await auditor.close();
    const db = records();
    const idAt = async (chain: string, seq: number) =>
      (
        await db
          .selectFrom('audit_records')
          .select('id')
          .where('chain', '=', chain)
          .where('seq', '=', seq)
          .executeTakeFirstOrThrow()
      ).id;

    await db
      .updateTable('audit_records')
      .set({ reason: 'nothing to see' })
      .where('chain', '=', 'tenant:t-edit')
      .where('seq', '=', 3)
      .execute();
    await db
      .deleteFrom('audit_records')
      .where('chain', '=', 'tenant:t-delete')
      .where('seq', '=', 2)
      .execute();
    // Swap records 2 and 4 by renumbering them.
    const renumber = (from: number, to: number) =>
      db
        .updateTable('audit_records')
        .set({ seq: to })
        .where('chain', '=', 'tenant:t-reorder')
        .where('seq', '=', from)
        .execute();
    await renumber(2, 1000);
    await renumber(4, 2);
    await renumber(1000, 4);

    expect(await ledger.verifyChain('tenant:t-edit')).toMatchObject({
      ok: false,
      checked: 2,
      firstBad: { fault: 'hash_mismatch', seq: 3, id: await idAt('tenant:t-edit', 3) },
    });
    expect(await ledger.verifyChain('tenant:t-delete')).toMatchObject({
      ok: false,
      checked: 1,
      firstBad: { fault: 'sequence_gap', seq: 3, expectedSeq: 2, id: await idAt('tenant:t-delete', 3) },
    });
    expect(await ledger.verifyChain('tenant:t-reorder')).toMatchObject({
      ok: false,
      checked: 1,
      firstBad: { fault: 'hash_mismatch', seq: 2, id: await idAt('tenant:t-reorder', 2) },
    });
    expect(await ledger.verifyChain('tenant:t-intact')).toMatchObject({ ok: true, checked: 5 });

    // Deleting the newest records and rolling the head back by hand needs the head's hash: without the key
    // the attacker can only copy an older record's, which still matches. The tail is what a log witness is for.
    await db
      .deleteFrom('audit_records')
      .where('chain', '=', 'tenant:t-intact')
      .where('seq', '=', 5)
      .execute();
    expect(await ledger.verifyChain('tenant:t-intact')).toMatchObject({
      ok: false,
      firstBad: { fault: 'truncated_tail' },
    });
  });

  it('two writers appending to one chain at once never fork it', async () => {
    const other = database.connect();
    const second = new SqlAuditLedger(other, { schema: database.schema, keys: integrityKeys, clock });
    const writers = [auditorFor(ledger, 'global'), auditorFor(second, 'global')].map((auditor) => ({
      auditor,
      done: (async () => {
        for (let index = 0; index < 150; index += 1) {
          auditor.record('auth.login_failed', { userId: 'racer', details: { failures: index } });
          if (index % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
        return auditor.close();
      })(),
    }));
    expect(await Promise.all(writers.map((writer) => writer.done))).toEqual([true, true]);
    const seqs = (
      await records()
        .selectFrom('audit_records')
        .select('seq')
        .where('chain', '=', 'global')
        .orderBy('seq')
        .execute()
    ).map((row) => Number(row.seq));
    expect(seqs).toEqual(Array.from({ length: 300 }, (_, index) => index + 1));
    expect(await ledger.verifyChain('global')).toMatchObject({ ok: true, checked: 300 });

    // Raw appends from both ledgers at once, same chain, bypassing any in-process queue.
    const entry = (n: number) => ({
      v: 1 as const,
      id: `race-${n}`,
      at: clock.now(),
      chain: 'race',
      action: 'auth.logout' as const,
      category: 'auth' as const,
      severity: 'info' as const,
      outcome: 'success' as const,
      actor: { type: 'system' as const },
      details: {},
    });
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        (n % 2 === 0 ? ledger : second).append([entry(n * 2), entry(n * 2 + 1)]),
      ),
    );
    expect(await ledger.verifyChain('race')).toMatchObject({ ok: true, checked: 40 });

    // A batch retried whole after an ambiguous commit is recognised and not linked a second time.
    const batch = [entry(1000), entry(1001), { ...entry(1002), chain: 'race-2' }];
    const first = await ledger.append(batch);
    const again = await second.append(batch, { retry: true });
    expect(again).toEqual(first);
    expect(await ledger.verifyChain('race')).toMatchObject({ ok: true, checked: 42 });
    expect(await ledger.verifyChain('race-2')).toMatchObject({ ok: true, checked: 1 });
  });

  it('writes a batch on the heads it last wrote in one statement, and goes the long way when they moved', async () => {
    let statements = 0;
    const counted = database.db.withPlugin({
      transformQuery: (args) => {
        statements += 1;
        return args.node;
      },
      transformResult: async (args) => args.result,
    });
    const mine = new SqlAuditLedger(counted, { schema: database.schema, keys: integrityKeys, clock });
    const other = new SqlAuditLedger(database.db, { schema: database.schema, keys: integrityKeys, clock });
    const entry = (n: number, chain: string) => ({
      v: 1 as const,
      id: `guess-${chain}-${n}`,
      at: clock.now(),
      chain,
      action: 'auth.logout' as const,
      category: 'auth' as const,
      severity: 'info' as const,
      outcome: 'success' as const,
      actor: { type: 'system' as const },
      userId: 'guesser',
      details: { n },
    });
    await mine.append([entry(1, 'guess-a'), entry(1, 'guess-b')]);
    statements = 0;
    const linked = await mine.append([entry(2, 'guess-a'), entry(2, 'guess-b'), entry(3, 'guess-a')]);
    expect(statements).toBe(1);
    expect(linked.map((record) => [record.chain, record.seq])).toEqual([
      ['guess-a', 2],
      ['guess-b', 2],
      ['guess-a', 3],
    ]);

    // Another writer moves one of the two heads: the guess fails as a whole (nothing of the batch is written
    // on the stale head, the other chain's head does not move), and the batch is linked on the real heads.
    await other.append([entry(3, 'guess-b')]);
    statements = 0;
    const relinked = await mine.append([entry(4, 'guess-a'), entry(4, 'guess-b')]);
    expect(statements).toBeGreaterThan(1);
    expect(relinked.map((record) => [record.chain, record.seq])).toEqual([
      ['guess-a', 4],
      ['guess-b', 4],
    ]);
    statements = 0;
    await mine.append([entry(5, 'guess-b')]);
    expect(statements).toBe(1);
    expect(await mine.verifyChain('guess-a')).toMatchObject({ ok: true, checked: 4 });
    expect(await mine.verifyChain('guess-b')).toMatchObject({ ok: true, checked: 5 });
    const stored = await records()
      .selectFrom('audit_records')
      .select(['chain', 'seq', 'details', 'user_id'])
      .where('chain', 'in', ['guess-a', 'guess-b'])
      .orderBy('chain')
      .orderBy('seq')
      .execute();
    expect(stored.map((row) => `${row.chain}/${row.seq}`)).toEqual([
      'guess-a/1',
      'guess-a/2',
      'guess-a/3',
      'guess-a/4',
      'guess-b/1',
      'guess-b/2',
      'guess-b/3',
      'guess-b/4',
      'guess-b/5',
    ]);
    expect(stored[0]).toMatchObject({ user_id: 'guesser', details: { n: 1 } });
  });

  it('keeps verifying when the integrity key rotates mid-chain', async () => {
    const rotated = new Keyring({
      currentKeyId: 'int-2026-07',
      keys: {
        'int-2026-01': 'integrity-key-0123456789abcdef0123456789abcdef',
        'int-2026-07': 'next-integrity-key-0123456789abcdef0123',
      },
    });
    const before = auditorFor();
    before.record('auth.logout', { tenantId: 'rotating' });
    await before.close();
    const rotatedLedger = new SqlAuditLedger(database.db, { schema: database.schema, keys: rotated, clock });
    const after = auditorFor(rotatedLedger);
    after.record('auth.logout', { tenantId: 'rotating' });
    await after.close();
    const keyIds = await records()
      .selectFrom('audit_records')
      .select('hash_key_id')
      .where('chain', '=', 'tenant:rotating')
      .orderBy('seq')
      .execute();
    expect(keyIds.map((row) => row.hash_key_id)).toEqual(['int-2026-01', 'int-2026-07']);
    expect(await rotatedLedger.verifyChain('tenant:rotating')).toMatchObject({ ok: true, checked: 2 });
  });

  it('retention deletes old records in bounded batches behind a signed checkpoint; tampering is still caught', async () => {
    const auditor = auditorFor();
    const start = clock.now();
    for (let index = 0; index < 7; index += 1)
      auditor.record('auth.logout', { tenantId: 'retained', at: start + index });
    for (let index = 0; index < 3; index += 1)
      auditor.record('auth.logout', { tenantId: 'retained', at: start + 10 * DAY + index });
    for (let index = 0; index < 4; index += 1)
      auditor.record('auth.logout', { tenantId: 'all-old', at: start + index });
    await auditor.close();
    clock.set(start + 12 * DAY);

    const retention = new SqlAuditRetention(database.db, {
      schema: database.schema,
      keys: integrityKeys,
      clock,
    });
    const result = await retention.apply({ olderThanMs: 5 * DAY, batchSize: 3 });
    expect(result.chains).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          chain: 'tenant:retained',
          deleted: 7,
          checkpoint: expect.objectContaining({ seq: 8, deleted: 7 }),
        }),
        expect.objectContaining({
          chain: 'tenant:all-old',
          deleted: 4,
          checkpoint: expect.objectContaining({ seq: 5 }),
        }),
      ]),
    );
    expect(await ledger.verifyChain('tenant:retained')).toMatchObject({
      ok: true,
      checked: 3,
      firstSeq: 8,
      lastSeq: 10,
    });
    expect(await ledger.verifyChain('tenant:all-old')).toMatchObject({ ok: true, checked: 0 });
    // Nothing more to delete: a second run is a no-op.
    expect(
      (await retention.apply({ olderThanMs: 5 * DAY })).chains.map((chain) => chain.chain),
    ).not.toContain('tenant:retained');

    // A chain emptied by retention carries on from its checkpoint.
    const later = auditorFor();
    later.record('auth.logout', { tenantId: 'all-old' });
    await later.close();
    expect(await ledger.verifyChain('tenant:all-old')).toMatchObject({ ok: true, checked: 1, firstSeq: 5 });

    const db = records();
    await db
      .deleteFrom('audit_records')
      .where('chain', '=', 'tenant:retained')
      .where('seq', '=', 8)
      .execute();
    expect(await ledger.verifyChain('tenant:retained')).toMatchObject({
      ok: false,
      firstBad: { fault: 'sequence_gap', seq: 9 },
    });
    // Moving the checkpoint forward to hide that deletion breaks its signature.
    const moved = await db
      .selectFrom('audit_records')
      .select('prev_hash')
      .where('chain', '=', 'tenant:retained')
      .where('seq', '=', 9)
      .executeTakeFirstOrThrow();
    await db
      .updateTable('audit_checkpoints')
      .set({ seq: 9, prev_hash: moved.prev_hash })
      .where('chain', '=', 'tenant:retained')
      .execute();
    expect(await ledger.verifyChain('tenant:retained')).toMatchObject({
      ok: false,
      firstBad: { fault: 'checkpoint_invalid' },
    });
    // Deleting the checkpoint makes the chain start mid-way, which is caught too.
    await db.deleteFrom('audit_checkpoints').where('chain', '=', 'tenant:all-old').execute();
    expect(await ledger.verifyChain('tenant:all-old')).toMatchObject({
      ok: false,
      firstBad: { fault: 'sequence_gap', seq: 5 },
    });
  });
});
