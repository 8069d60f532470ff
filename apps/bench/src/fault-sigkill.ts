/**
 * An app process killed with SIGKILL under load and restarted: sessions on PostgreSQL and every session event
 * audited into @sessionkit/audit's SQL ledger, on a private PostgreSQL 15 (port 5434, removed afterwards).
 * Pass lines: every session whose login was acknowledged before the kill still validates after the restart,
 * and every audit chain verifies (verifyChain over the whole ledger). Runs KILLS rounds.
 */
import { Keyring } from '@sessionkit/audit';
import { SqlAuditLedger } from '@sessionkit/audit/sql';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { AppProcess } from './app-process.js';
import { post, startApp } from './app-process.js';
import { ROUTE } from './payload.js';
import { benchPostgres } from './private-servers.js';
import { writeResult } from './results.js';
import { verdict } from './stats.js';
import { sleep } from './steady-load.js';

const PG_PORT = Number(process.env.FAULT_PG_PORT ?? 5434);
const KILLS = Number(process.env.KILLS ?? 5);
const SECRET = 'bench-shared-secret-bench-shared-secret';
const postgres = benchPostgres(PG_PORT);
const env = {
  APP_BACKEND: 'postgres',
  APP_NAMESPACE: 'sigkill',
  APP_AUDIT: '1',
  APP_MAX_SESSIONS: '1000',
  APP_SHARED_SECRET: SECRET,
};

const acknowledged: string[] = [];
const rounds: {
  round: number;
  acknowledgedBeforeKill: number;
  lost: number;
  chains: number;
  brokenChains: number;
  records: number;
}[] = [];
let app: AppProcess | undefined;
try {
  postgres.start();
  const envWithUrl = { ...env, DATABASE_URL: postgres.url };
  app = await startApp(envWithUrl);
  for (let round = 1; round <= KILLS; round += 1) {
    // Logins, refreshes and revocations in flight (each one audited) when the process dies.
    let running = true;
    const current = app;
    const workers = Array.from({ length: 8 }, async (_, worker) => {
      let i = 0;
      while (running) {
        i += 1;
        try {
          const login = await post(
            `${current.url}/login`,
            { userId: `kill-user-${worker}-${i % 20}` },
            {},
            2000,
          );
          if (login.status !== 200) continue;
          const issued = login.body as { token: string; refreshToken: string; sessionId: string };
          if (i % 3 === 0)
            await post(`${current.url}/refresh`, { refreshToken: issued.refreshToken }, {}, 2000);
          if (i % 5 === 0)
            await post(`${current.url}/admin/revoke`, { sessionId: issued.sessionId }, {}, 2000);
          else acknowledged.push(issued.token);
        } catch {
          // the process was killed mid-request
        }
      }
    });
    await sleep(1500 + Math.random() * 1000);
    current.child.kill('SIGKILL');
    await new Promise((resolve) => current.child.once('exit', resolve));
    running = false;
    await Promise.all(workers);
    app = await startApp(envWithUrl);
    let lost = 0;
    for (const token of acknowledged) {
      const response = await fetch(`${app.url}${ROUTE}`, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      if (response.status !== 200) lost += 1;
    }
    const db = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: postgres.url, max: 2 }) }),
    });
    const ledger = new SqlAuditLedger(db, {
      schema: 'sigkill_audit',
      keys: new Keyring({ currentKeyId: 'k1', keys: { k1: SECRET } }),
    });
    const chains = await ledger.verifyAll();
    await db.destroy();
    const row = {
      round,
      acknowledgedBeforeKill: acknowledged.length,
      lost,
      chains: chains.length,
      brokenChains: chains.filter((chain) => !chain.ok).length,
      records: chains.reduce((sum, chain) => sum + chain.checked, 0),
    };
    rounds.push(row);
    console.error(`round ${round}: ${JSON.stringify(row)}`);
  }
} finally {
  await app?.stop();
  postgres.destroy();
}
const lost = rounds.reduce((sum, row) => sum + row.lost, 0);
const broken = rounds.reduce((sum, row) => sum + row.brokenChains, 0);
const last = rounds[rounds.length - 1];
writeResult('fault-sigkill', { kills: KILLS, rounds });
console.log(
  `${verdict(rounds.length === KILLS && lost === 0)}  SIGKILL x${KILLS} and restart: no session lost (${last?.acknowledgedBeforeKill ?? 0} acknowledged sessions checked after each restart, ${lost} lost)`,
);
console.log(
  `${verdict(rounds.length === KILLS && broken === 0)}  SIGKILL x${KILLS} and restart: no audit chain broken (${last?.chains ?? 0} chain(s), ${last?.records ?? 0} records verified, ${broken} broken)`,
);
