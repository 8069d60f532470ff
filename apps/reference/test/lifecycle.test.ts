import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startReferenceApp } from '../src/reference-app.js';
import { DEMO_USERS } from '../src/user-directory.js';

const ALICE = DEMO_USERS[0]!;
const dataDir = mkdtempSync(join(tmpdir(), 'sk-reference-lifecycle-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(`${dataDir}.kek`, { force: true });
});

/**
 * A login the app has begun before `whenStarted` runs: the request asks `Expect: 100-continue`, so the app's
 * 100 Continue says it has read the headers; the body follows only then. Answers the response status.
 */
function loginInFlight(url: string, whenStarted: () => void): Promise<number> {
  const body = JSON.stringify({ email: ALICE.email, password: ALICE.password });
  return new Promise((resolve, reject) => {
    const login = httpRequest(`${url}/api/auth/login`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        expect: '100-continue',
      },
    });
    login.on('continue', () => {
      whenStarted();
      login.end(body);
    });
    login.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    login.on('error', reject);
    login.flushHeaders();
  });
}

describe('reference app process lifecycle (embedded default)', () => {
  it('keeps sessions across a restart of the app: PGlite persists them in DATA_DIR', async () => {
    const config = loadConfig({ PORT: '0', COOKIE_SECURE: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir });
    const first = await startReferenceApp(config);
    const login = await request(first.url)
      .post('/api/auth/login')
      .send({ email: ALICE.email, password: ALICE.password, transport: 'bearer' })
      .expect(200);
    await first.shutdown();

    const second = await startReferenceApp(config);
    try {
      const current = await request(second.url)
        .get('/api/me/sessions/current')
        .set('authorization', `Bearer ${login.body.accessToken}`)
        .expect(200);
      expect(current.body.session.id).toBe(login.body.session.id);
      // The refresh token, checked against the stored record, still rotates after the restart.
      await request(second.url)
        .post('/api/auth/refresh')
        .send({ refreshToken: login.body.refreshToken })
        .expect(200);
    } finally {
      await second.shutdown();
    }
  }, 120_000);

  it('on SIGTERM finishes the request in flight, then exits 0 after closing everything', async () => {
    const child = spawn(
      process.execPath,
      ['--conditions=@sessionkit/source', '--import', 'tsx', 'src/main.ts'],
      {
        cwd: new URL('..', import.meta.url).pathname,
        env: { ...process.env, PORT: '0', COOKIE_SECURE: '0', LOG_LEVEL: 'info', DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const logs: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => logs.push(line));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the app did not start')), 60_000);
      createInterface({ input: child.stderr }).on('line', (line) => {
        const match = /reference app: (http:\/\/\S+)/.exec(line);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    // The signal arrives once the app has begun the login (it read the headers), however loaded the machine.
    const status = await loginInFlight(url, () => child.kill('SIGTERM'));
    expect(status).toBe(200);
    expect(await exited).toBe(0);
    expect(logs.some((line) => line.includes('"msg":"reference app stopped"'))).toBe(true);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  }, 120_000);
});
