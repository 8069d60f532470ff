import type { HealthCheck } from '@sessionkit/core';
import { sessionStoreCheck } from '@sessionkit/core';
import { RedisStore } from '@sessionkit/storage-redis';
import { freePort, PrivateRedis } from '@sessionkit/test-support';
import express from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthRouter } from '../src/index.js';

// The test stops and pauses this server (on a port the OS handed out), never the shared 6379.
const redisServer = await PrivateRedis.onFreePort({ args: ['--save', ''] });
let client: Redis;
let store: RedisStore;

beforeAll(async () => {
  await redisServer.start();
  client = new Redis({ port: redisServer.port, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  store = new RedisStore({ client, prefix: `health-router-${process.pid}`, commandTimeoutMs: 10_000 });
});

afterAll(async () => {
  redisServer.resume();
  await store.close();
  client.disconnect();
  await redisServer.destroy();
});

// Generous deadlines, so a loaded machine's slow answers never read as a failed or timed-out check; the store's
// own is longer than the router's default, so a store that stops answering is the router's timeout to report.
function appWith(checks: readonly HealthCheck[], timeoutMs = 20_000) {
  const app = express();
  app.use(healthRouter({ checks, timeoutMs }));
  return app;
}

const readiness = (app: express.Express) => async () => {
  const response = await request(app).get('/readyz');
  return { status: response.status, failing: response.body.failing as string[] | undefined };
};

describe('healthRouter against a real Redis store', () => {
  it('answers /healthz 200 whatever the dependencies do', async () => {
    const app = appWith([sessionStoreCheck(store)]);
    await request(app).get('/healthz').expect(200, { status: 'ok' });
  });

  it('goes 503 naming the session store while its Redis is down, and recovers once it is back', async () => {
    const app = appWith([sessionStoreCheck(store)]);
    const ready = await request(app).get('/readyz').expect(200);
    expect(ready.body.status).toBe('ready');
    expect(ready.body.checks).toEqual([
      { name: 'session-store', status: 'up', required: true, latencyMs: expect.any(Number) },
    ]);

    await redisServer.stop();
    try {
      await expect.poll(readiness(app)).toEqual({ status: 503, failing: ['session-store'] });
      const down = await request(app).get('/readyz').expect(503);
      expect(down.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(down.headers['cache-control']).toBe('no-store');
      expect(down.body).toMatchObject({
        type: 'urn:sessionkit:problem:not_ready',
        status: 503,
        detail: 'Failing: session-store',
        checks: [{ name: 'session-store', status: 'down', required: true, error: 'store.unavailable' }],
      });
      // Never a message or a stack: they can name hosts.
      expect(JSON.stringify(down.body)).not.toMatch(/127\.0\.0\.1|ECONN|at /);
    } finally {
      // Back for the tests after this one, whatever happened above.
      await redisServer.start();
    }
    await expect.poll(readiness(app)).toEqual({ status: 200, failing: undefined });
  });

  it('reports a store that stops answering as timed out after the per-check timeout', async () => {
    const app = appWith([sessionStoreCheck(store)], 2000);
    await expect.poll(readiness(app)).toEqual({ status: 200, failing: undefined });
    // SIGSTOP: the socket stays open and nothing answers, as with a hung or partitioned server; the router's
    // 2 s deadline comes before the store's own 10 s command timeout.
    redisServer.pause();
    try {
      const hung = await request(app).get('/readyz').expect(503);
      expect(hung.body.checks).toEqual([
        { name: 'session-store', status: 'timeout', required: true, latencyMs: expect.any(Number) },
      ]);
    } finally {
      redisServer.resume();
    }
    await expect.poll(readiness(app)).toEqual({ status: 200, failing: undefined });
  });

  it('reports an optional check that fails without failing readiness', async () => {
    const app = appWith([
      sessionStoreCheck(store),
      sessionStoreCheck(
        new RedisStore({
          // Nothing listens on this port (the OS just handed it out and took it back): the check fails every time.
          client: new Redis({
            port: await freePort(),
            lazyConnect: true,
            enableOfflineQueue: false,
            retryStrategy: () => null,
          }),
          prefix: 'unused',
        }),
        { name: 'replica-store', optional: true },
      ),
    ]);
    await expect.poll(readiness(app)).toEqual({ status: 200, failing: undefined });
    const body = (await request(app).get('/readyz').expect(200)).body;
    expect(body.checks[1]).toMatchObject({ name: 'replica-store', status: 'down', required: false });
  });

  it('answers 503 at once while draining, and refuses two checks of one name', async () => {
    const app = express();
    app.use(healthRouter({ checks: [sessionStoreCheck(store)], draining: () => true }));
    const draining = await request(app).get('/readyz').expect(503);
    expect(draining.body).toMatchObject({ code: 'not_ready', detail: 'The instance is shutting down' });
    expect(() => healthRouter({ checks: [sessionStoreCheck(store), sessionStoreCheck(store)] })).toThrow(
      expect.objectContaining({ code: 'input.invalid' }),
    );
  });
});
