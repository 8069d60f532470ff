import { RedisStore as ConnectRedisStore } from 'connect-redis';
import type { Express } from 'express';
import express from 'express';
import session from 'express-session';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createClient } from 'redis';
import { payload, ROUTE } from './payload.js';
import type { Variant } from './variant.js';

/** (a) bare Express, no session: the ceiling. */
export const bareExpress: Variant = {
  name: 'a: bare Express',
  async start() {
    const app = express();
    app.get(ROUTE, (_req, res) => {
      res.type('application/json').send(payload('u-000001'));
    });
    return { app, headers: {}, close: async () => {} };
  },
};

/**
 * (i) bare Express with one middleware that only calls `next()`: what mounting any middleware with `app.use`
 * costs per request, the floor under every SessionKit variant (they all mount one).
 */
export const bareExpressWithMiddleware: Variant = {
  name: 'i: bare Express + one no-op middleware',
  async start() {
    const app = express();
    app.use((_req, _res, next) => next());
    app.get(ROUTE, (_req, res) => {
      res.type('application/json').send(payload('u-000001'));
    });
    return { app, headers: {}, close: async () => {} };
  },
};

/** (b) what most apps run today: express-session + connect-redis (node-redis client) on the same Redis. */
export const expressSession: Variant = {
  name: 'b: express-session + connect-redis',
  async start(redisUrl) {
    const client = createClient({ url: redisUrl });
    await client.connect();
    const prefix = `bench-es:${process.pid}:`;
    const app: Express = express();
    app.use(
      session({
        store: new ConnectRedisStore({ client, prefix }),
        secret: 'bench-secret-bench-secret-bench-secret',
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: 'lax' },
      }),
    );
    app.post('/login', (req, res) => {
      (req.session as unknown as { userId: string }).userId = 'u-000001';
      res.sendStatus(204);
    });
    app.get(ROUTE, (req, res) => {
      const userId = (req.session as unknown as { userId?: string }).userId;
      if (!userId) {
        res.sendStatus(401);
        return;
      }
      res.type('application/json').send(payload(userId));
    });
    return {
      app,
      // The orchestrator logs in once and replays the cookie.
      login: { method: 'POST', path: '/login' },
      headers: {},
      close: async () => {
        // The run's sessions go with it (connect-redis would otherwise keep them for a day).
        for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 }))
          if (keys.length > 0) await client.del(keys);
        await client.quit();
      },
    };
  },
};

/** (f) the physical limit for a Redis-backed session: bare Express plus one raw GET of the token's key. */
export const rawRedisGet: Variant = {
  name: 'f: bare Express + raw ioredis GET',
  async start(redisUrl) {
    const redis = new Redis(redisUrl);
    const key = `bench-raw:${process.pid}`;
    await redis.set(key, JSON.stringify({ userId: 'u-000001', state: 'active', pad: 'x'.repeat(400) }));
    const app = express();
    app.get(ROUTE, async (req, res) => {
      const raw = await redis.get(req.get('authorization') === undefined ? '' : key);
      if (!raw) {
        res.sendStatus(401);
        return;
      }
      const record = JSON.parse(raw) as { userId: string };
      res.type('application/json').send(payload(record.userId));
    });
    return {
      app,
      headers: { authorization: 'Bearer raw' },
      close: async () => {
        await redis.del(key);
        redis.disconnect();
      },
    };
  },
};

/** (h) the physical limit for (e): bare Express plus one raw pg primary-key SELECT of a session-sized row. */
export const rawPostgresSelect: Variant = {
  name: 'h: bare Express + raw pg primary-key SELECT',
  async start(_redisUrl, databaseUrl) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
    pool.on('error', () => {});
    const table = `bench_raw_${process.pid}`;
    await pool.query(
      `create table ${table} (id text primary key, user_id text not null, body jsonb not null)`,
    );
    await pool.query(`insert into ${table} values ('raw', 'u-000001', $1)`, [
      JSON.stringify({ state: 'active', pad: 'x'.repeat(400) }),
    ]);
    const app = express();
    app.get(ROUTE, async (req, res) => {
      const result = await pool.query<{ user_id: string }>(
        `select user_id, body from ${table} where id = $1`,
        [req.get('authorization') === undefined ? '' : 'raw'],
      );
      const row = result.rows[0];
      if (!row) {
        res.sendStatus(401);
        return;
      }
      res.type('application/json').send(payload(row.user_id));
    });
    return {
      app,
      headers: { authorization: 'Bearer raw' },
      close: async () => {
        await pool.query(`drop table if exists ${table}`);
        await pool.end();
      },
    };
  },
};
