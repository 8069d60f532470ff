import type { DemoIdp } from '@sessionkit/demo-idp';
import { configFromEnv, startDemoIdp } from '@sessionkit/demo-idp';
import { freePort, PrivatePostgres, PrivateRedis } from '@sessionkit/test-support';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { generateKeyEncryptionKey } from '../src/key-encryption-key.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';

// The test stops these servers, never the shared ones; all on ports the OS handed out. The demo identity
// provider comes back on its port, so its issuer URL holds across the restart.
const redis = await PrivateRedis.onFreePort({ args: ['--save', ''] });
const postgres = await PrivatePostgres.onFreePort();
const IDP_PORT = await freePort();
let app: RunningApp;
let restartedIdp: DemoIdp | undefined;

beforeAll(async () => {
  await redis.start();
  postgres.start();
  app = await startReferenceApp(
    loadConfig({
      PORT: '0',
      COOKIE_SECURE: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      SESSIONKIT_KEK: generateKeyEncryptionKey(),
      DEMO_IDP: '1',
      DEMO_IDP_PORT: String(IDP_PORT),
    }),
  );
});

afterAll(async () => {
  await app?.shutdown();
  await restartedIdp?.stop();
  await redis.destroy();
  postgres.destroy();
});

interface Readiness {
  status: number;
  failing?: string[];
}

const readiness = async (): Promise<Readiness> => {
  const answer = await request(app.url).get('/readyz');
  return answer.status === 200 ? { status: 200 } : { status: answer.status, failing: answer.body.failing };
};

describe('reference app readiness, each real dependency stopped and restarted', () => {
  it('checks every dependency the app uses, each with status and latency', async () => {
    const ready = await request(app.url).get('/readyz').expect(200);
    expect(ready.body.checks).toEqual(
      ['session-store', 'database', 'audit', 'rate-limit-store', 'identity-provider'].map((name) => ({
        name,
        status: 'up',
        required: true,
        latencyMs: expect.any(Number),
        ...(name === 'audit'
          ? { details: { pending: expect.any(Number), sinkPending: expect.any(Number), dropped: 0 } }
          : {}),
      })),
    );
  });

  it('names the session store and the rate-limit store while Redis is down', async () => {
    await redis.stop();
    await expect.poll(readiness).toEqual({ status: 503, failing: ['session-store', 'rate-limit-store'] });
    await request(app.url).get('/healthz').expect(200);
    await redis.start();
    await expect.poll(readiness).toEqual({ status: 200 });
  });

  it('names the database while PostgreSQL is down', async () => {
    postgres.stop();
    await expect.poll(readiness).toEqual({ status: 503, failing: ['database'] });
    postgres.start();
    await expect.poll(readiness).toEqual({ status: 200 });
  });

  it('names the identity provider while it is down', async () => {
    await app.idp?.stop();
    await expect.poll(readiness).toEqual({ status: 503, failing: ['identity-provider'] });
    restartedIdp = await startDemoIdp(
      configFromEnv({ DEMO_IDP_APP_ORIGIN: app.url, DEMO_IDP_PORT: String(IDP_PORT) }),
    );
    await expect.poll(readiness).toEqual({ status: 200 });
  });
});
