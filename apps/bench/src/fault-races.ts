/**
 * Races, through two app processes sharing one store (Redis, then PostgreSQL):
 *   - 1,000 concurrent logins of one user with a limit of 5 → exactly 5 live sessions;
 *   - 100 concurrent refreshes with one refresh token → one successor (every in-grace caller gets the same
 *     one), the family intact (the session still active and the successor refreshes once more).
 */
import { randomBytes } from 'node:crypto';
import { post, startApp } from './app-process.js';
import { deleteRedisPrefix, dropSchemas } from './namespace-cleanup.js';
import { writeResult } from './results.js';
import { postgresBackend, redisBackend } from './session-backends.js';
import { verdict } from './stats.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LOGINS = 1000;
const REFRESHES = 100;

const checks: { backend: string; name: string; ok: boolean; detail: string }[] = [];
for (const backend of ['redis', 'postgres'] as const) {
  const namespace = `bench_race_${randomBytes(4).toString('hex')}`;
  const env = {
    APP_BACKEND: backend,
    APP_NAMESPACE: namespace,
    APP_MAX_SESSIONS: '5',
    REDIS_URL,
    DATABASE_URL,
  };
  const a = await startApp(env);
  const b = await startApp(env);
  try {
    const user = 'race-user';
    const logins = await Promise.all(
      Array.from({ length: LOGINS }, (_, i) =>
        post(`${i % 2 ? a.url : b.url}/login`, { userId: user }, {}, 60_000).catch(() => ({
          status: 0,
          body: undefined,
          contentType: '',
        })),
      ),
    );
    const ok = logins.filter((answer) => answer.status === 200).length;
    const loginStatuses: Record<string, number> = {};
    for (const answer of logins) loginStatuses[answer.status] = (loginStatuses[answer.status] ?? 0) + 1;
    const inspector =
      backend === 'redis'
        ? await redisBackend(REDIS_URL, namespace)
        : await postgresBackend(DATABASE_URL, namespace);
    const live = (await inspector.manager.list(user)).filter((session) => session.state === 'active');
    checks.push({
      backend,
      name: `${LOGINS} concurrent logins of one user, limit 5: exactly 5 live`,
      ok: live.length === 5,
      detail: `${ok} logins answered 200 (all answers: ${JSON.stringify(loginStatuses)}), ${live.length} live afterwards`,
    });

    const first = await post(`${a.url}/login`, { userId: 'refresh-user' });
    const { refreshToken, sessionId } = first.body as { refreshToken: string; sessionId: string };
    const refreshes = await Promise.all(
      Array.from({ length: REFRESHES }, (_, i) =>
        post(`${i % 2 ? a.url : b.url}/refresh`, { refreshToken }, {}, 30_000),
      ),
    );
    const successors = new Set(
      refreshes
        .filter((answer) => answer.status === 200)
        .map((answer) => (answer.body as { refreshToken: string }).refreshToken),
    );
    const refreshed = refreshes.filter((answer) => answer.status === 200).length;
    const session = await inspector.manager.get(sessionId);
    const [successor] = [...successors];
    const next = successor ? await post(`${a.url}/refresh`, { refreshToken: successor }) : undefined;
    checks.push({
      backend,
      name: `${REFRESHES} concurrent refreshes with one token: one successor`,
      ok: successors.size === 1 && refreshed === REFRESHES,
      detail: `${refreshed} answered 200, ${successors.size} distinct successor(s)`,
    });
    checks.push({
      backend,
      name: 'family intact: session active, successor refreshes once more',
      ok: session?.state === 'active' && next?.status === 200,
      detail: `state ${session?.state}, next refresh ${next?.status}`,
    });
    // The backend's own close also ends its client; closing only the store left the process waiting on it.
    await inspector.close();
  } finally {
    await a.stop();
    await b.stop();
    if (backend === 'redis') await deleteRedisPrefix(REDIS_URL, namespace);
    else await dropSchemas(DATABASE_URL, [namespace]);
  }
}
writeResult('fault-races', { checks });
for (const check of checks)
  console.log(`${verdict(check.ok)}  ${check.backend}: ${check.name}: ${check.detail}`);
