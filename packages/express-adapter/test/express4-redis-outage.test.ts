import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { PrivateRedis } from '@sessionkit/test-support';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserOf } from './harness.js';

// A Redis of this test's own, on a port the OS handed out, which it kills.
const redis = await PrivateRedis.onFreePort({ args: ['--save', ''] });
const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Polls until `check` holds, generously: hooks cannot use expect.poll, and the machine may be loaded. */
async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

/** The app's own process: an unhandled rejection there would end it, which this test must see. */
async function startApp(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(
    process.execPath,
    ['--conditions=@sessionkit/source', '--import', 'tsx', 'test/fixtures/express4-redis-app.ts'],
    { cwd: packageDir, env: { ...process.env, REDIS_PORT: String(redis.port) }, stdio: 'pipe' },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await until(() => /"port":\d+/.test(output) || child.exitCode !== null, 'the app to listen');
  const port = /"port":(\d+)/.exec(output)?.[1];
  if (port === undefined) throw new Error(`the app did not start:\n${output}`);
  return { child, url: `http://127.0.0.1:${port}`, output: () => output };
}

describe('an Express 4 app whose Redis is killed mid-run', () => {
  let app: Awaited<ReturnType<typeof startApp>> | undefined;

  beforeAll(async () => {
    await redis.start();
    app = await startApp();
  }, 120_000);

  afterAll(async () => {
    await kill(app?.child);
    await redis.destroy();
  });

  it('answers 503 problem documents on login and authenticated routes, and the process stays alive', async () => {
    if (!app) throw new Error('no app');
    const { url, child } = app;
    const login = await request(url).post('/login').expect(200);
    const browser = browserOf(login);
    await request(url).get('/whoami').set('cookie', browser.cookie).expect(200);
    await request(url).get('/api/me/sessions').set('cookie', browser.cookie).expect(200);

    await redis.stop();

    const answers = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return [`the app exited:\n${app?.output()}`];
      const results = await Promise.all([
        request(url).post('/login'),
        request(url).get('/whoami').set('cookie', browser.cookie),
        request(url).get('/api/me/sessions').set('cookie', browser.cookie),
        request(url).post('/logout').set('cookie', browser.cookie).set('x-csrf-token', browser.csrf),
      ]);
      return results.map(
        (res) => `${res.status} ${res.headers['content-type']} ${(res.body as { code?: string }).code}`,
      );
    };
    const unavailable = '503 application/problem+json; charset=utf-8 store.unavailable';
    await expect.poll(answers).toEqual([unavailable, unavailable, unavailable, unavailable]);
    // Again, to be sure no failure was left to crash the process after its answer went out.
    expect(await answers()).toEqual([unavailable, unavailable, unavailable, unavailable]);
    await request(url).get('/alive').expect(200);
    expect(child.exitCode, app.output()).toBeNull();
    expect(child.signalCode).toBeNull();

    // Redis back (empty: this one keeps nothing): the same process signs users in again.
    await redis.start();
    await expect.poll(async () => (await request(url).post('/login')).status).toBe(200);
  });
});
