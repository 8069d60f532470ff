import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRefreshToken, newSecret, serverKeys } from '@sessionkit/core/store';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { generateKeyEncryptionKey } from '../src/key-encryption-key.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { DEMO_USERS } from '../src/user-directory.js';

const ALICE = DEMO_USERS[0]!;
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

let devices = 0;
/** A new client address (TEST-NET-3) per sign-in, so per-IP limits never interfere. */
function nextIp(): string {
  devices += 1;
  return `203.0.${Math.floor(devices / 250)}.${(devices % 250) + 1}`;
}

async function signIn(app: RunningApp): Promise<{ accessToken: string; refreshToken: string; id: string }> {
  const login = await request(app.url)
    .post('/api/auth/login')
    .set('x-forwarded-for', nextIp())
    .send({ email: ALICE.email, password: ALICE.password, transport: 'bearer' })
    .expect(200);
  return { ...login.body, id: login.body.session.id };
}

/** Refreshes `count` times, alternating between the given instances; every refresh token handed out, oldest first. */
async function rotate(apps: RunningApp[], first: string, count: number): Promise<string[]> {
  const ip = nextIp();
  const tokens = [first];
  for (let i = 0; i < count; i += 1) {
    const app = apps[i % apps.length] as RunningApp;
    const answer = await request(app.url)
      .post('/api/auth/refresh')
      .set('x-forwarded-for', ip)
      .send({ refreshToken: tokens[i] })
      .expect(200);
    tokens.push(answer.body.refreshToken);
  }
  return tokens;
}

function refresh(app: RunningApp, refreshToken: string | undefined) {
  return request(app.url).post('/api/auth/refresh').set('x-forwarded-for', nextIp()).send({ refreshToken });
}

function current(app: RunningApp, accessToken: string) {
  return request(app.url).get('/api/me/sessions/current').set('authorization', `Bearer ${accessToken}`);
}

describe('reference app: a replayed refresh token, however old, ends the session (embedded PGlite)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sk-reference-reuse-'));
  let app: RunningApp;

  beforeAll(async () => {
    const config = {
      PORT: '0',
      COOKIE_SECURE: '0',
      LOG_LEVEL: 'silent',
      TRUST_PROXY: 'loopback',
      DATA_DIR: dir,
    };
    app = await startReferenceApp(loadConfig(config));
  }, 120_000);

  afterAll(async () => {
    await app?.shutdown();
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}.kek`, { force: true });
  });

  it('answers 401 token.reuse_detected to a token 20 rotations old and revokes the session', async () => {
    const login = await signIn(app);
    const tokens = await rotate([app], login.refreshToken, 20);
    const replay = await refresh(app, tokens[1]);
    expect(replay.body).toMatchObject({ status: 401, code: 'token.reuse_detected' });
    expect((await refresh(app, tokens[20])).status).toBe(401);
    expect((await current(app, login.accessToken)).status).toBe(401);
  });

  it('answers 401 token.invalid to a forged token of an old generation and revokes nothing', async () => {
    const login = await signIn(app);
    const tokens = await rotate([app], login.refreshToken, 5);
    const foreignKey = serverKeys({ secret: 'not-the-server-secret-0123456789abc' }).refreshMac;
    const forged = formatRefreshToken(foreignKey, login.id, 1, newSecret());
    expect((await refresh(app, forged)).body).toMatchObject({ status: 401, code: 'token.invalid' });
    expect((await current(app, login.accessToken)).status).toBe(200);
    expect((await refresh(app, tokens[5])).status).toBe(200);
  });
});

describe('reference app: two instances on PostgreSQL + Redis share the server secret', () => {
  const database = `sk_reference_reuse_${process.pid}_${Date.now()}`;
  const apps: RunningApp[] = [];

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`create database ${database}`);
    await admin.end();
    const config = loadConfig({
      PORT: '0',
      COOKIE_SECURE: '0',
      LOG_LEVEL: 'silent',
      TRUST_PROXY: 'loopback',
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: `${database}:`,
      SESSIONKIT_KEK: generateKeyEncryptionKey(),
    });
    // One after the other: the first creates the shared secrets, the second reads them.
    apps.push(await startReferenceApp(config));
    apps.push(await startReferenceApp(config));
  }, 120_000);

  afterAll(async () => {
    for (const app of apps) await app.shutdown();
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  });

  it('a token rotated away 20 times across both instances is recognised as reuse by either', async () => {
    const [a, b] = apps as [RunningApp, RunningApp];
    const login = await signIn(a);
    const tokens = await rotate([a, b], login.refreshToken, 20);
    const replay = await refresh(b, tokens[2]);
    expect(replay.body).toMatchObject({ status: 401, code: 'token.reuse_detected' });
    expect((await refresh(a, tokens[20])).status).toBe(401);
    expect((await current(a, login.accessToken)).status).toBe(401);
  });

  it('a forged token of an old generation revokes nothing on either instance', async () => {
    const [a, b] = apps as [RunningApp, RunningApp];
    const login = await signIn(b);
    const tokens = await rotate([a, b], login.refreshToken, 4);
    const foreignKey = serverKeys({ secret: 'not-the-server-secret-0123456789abc' }).refreshMac;
    for (const app of apps) {
      const forged = formatRefreshToken(foreignKey, login.id, 2, newSecret());
      expect((await refresh(app, forged)).body).toMatchObject({ status: 401, code: 'token.invalid' });
    }
    expect((await refresh(a, tokens[4])).status).toBe(200);
  });
});
