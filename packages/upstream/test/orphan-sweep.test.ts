import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CandidateSource } from '../src/index.js';
import { sweepOrphans } from '../src/index.js';
import { signIn, startApp } from './fixture.js';
import { LoopbackProvider } from './loopback-provider.js';

let idp: LoopbackProvider;

beforeAll(async () => {
  idp = await LoopbackProvider.start();
});
afterAll(async () => {
  await idp.stop();
});

/** Pages through a fixed list the way an app would page through its own index of sessions. */
function pages(ids: string[], calls: number[]): CandidateSource {
  return async (cursor, limit) => {
    const start = cursor === undefined ? 0 : Number(cursor);
    calls.push(limit);
    const next = start + limit;
    return { sessionIds: ids.slice(start, next), ...(next < ids.length ? { nextCursor: String(next) } : {}) };
  };
}

describe('orphan sweep against the real provider', () => {
  it('revokes in bounded batches exactly the sessions whose grant the provider no longer knows', async () => {
    const app = await startApp(idp);
    const kept = await signIn(app, idp, 'rita');
    const orphaned = await signIn(app, idp, 'sam');
    const alsoKept = await signIn(app, idp, 'tom');
    const local = await app.manager.create({ userId: 'local-only' });
    await app.client.revoke(orphaned.tokens.refreshToken!, 'refresh_token');
    const ids = [kept.sessionId, orphaned.sessionId, local.session.id, alsoKept.sessionId, 'A'.repeat(22)];
    const calls: number[] = [];

    const report = await sweepOrphans({ vault: app.vault, candidates: pages(ids, calls), batchSize: 2 });
    expect(report).toEqual({ checked: 3, revoked: 1, skipped: 2, failed: 0, batches: 3 });
    expect(calls).toEqual([2, 2, 2]);
    expect((await app.store.get(orphaned.sessionId))?.revokeReason).toBe('upstream.revoked');
    for (const id of [kept.sessionId, alsoKept.sessionId, local.session.id]) {
      expect((await app.store.get(id))?.state).toBe('active');
    }
  });

  it('stops after maxBatches with a cursor to resume from', async () => {
    const app = await startApp(idp);
    const first = await signIn(app, idp, 'uma');
    const second = await signIn(app, idp, 'vic');
    const report = await sweepOrphans({
      vault: app.vault,
      candidates: pages([first.sessionId, second.sessionId], []),
      batchSize: 1,
      maxBatches: 1,
    });
    expect(report).toEqual({ checked: 1, revoked: 0, skipped: 0, failed: 0, batches: 1, nextCursor: '1' });
  });

  it('revokes nothing while the provider is down and hands back the cursor of the unfinished page', async () => {
    const app = await startApp(idp);
    const first = await signIn(app, idp, 'wes');
    const second = await signIn(app, idp, 'xia');
    await app.client.revoke(second.tokens.refreshToken!, 'refresh_token');
    await idp.stop();
    let report: Awaited<ReturnType<typeof sweepOrphans>>;
    try {
      report = await sweepOrphans({
        vault: app.vault,
        candidates: pages([first.sessionId, second.sessionId], []),
        batchSize: 1,
        cursor: '1',
      });
    } finally {
      await idp.restart();
    }
    expect(report).toMatchObject({ revoked: 0, stoppedBecause: 'provider.unavailable', nextCursor: '1' });
    expect((await app.store.get(second.sessionId))?.state).toBe('active');
    const resumed = await sweepOrphans({
      vault: app.vault,
      candidates: pages([first.sessionId, second.sessionId], []),
      cursor: report.nextCursor,
    });
    expect(resumed).toEqual({ checked: 1, revoked: 1, skipped: 0, failed: 0, batches: 1 });
  });

  it('counts a session whose envelope cannot be opened as failed and carries on', async () => {
    const app = await startApp(idp);
    const broken = await signIn(app, idp, 'yan');
    const fine = await signIn(app, idp, 'zoe');
    const record = (await app.store.get(broken.sessionId))!;
    await app.store.update(
      { ...record, metadata: { ...record.metadata, 'sk.upstream': 'key-a.AAAA.BBBB' } },
      record.version,
    );
    const report = await sweepOrphans({
      vault: app.vault,
      candidates: pages([broken.sessionId, fine.sessionId], []),
    });
    expect(report).toEqual({ checked: 1, revoked: 0, skipped: 0, failed: 1, batches: 1 });
  });
});
