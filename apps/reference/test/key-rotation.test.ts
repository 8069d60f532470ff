import { ManualClock } from '@sessionkit/core';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { rotateDataKey } from '../src/data-key-rotation.js';
import { generateKeyEncryptionKey, keyEncryptionKey } from '../src/key-encryption-key.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { parseEnvelope } from '../src/sealed-box.js';
import { RETIRE_AFTER_MS } from '../src/signing-key-schedule.js';
import { currentTotp, DEMO_USERS } from '../src/user-directory.js';
import {
  bearerStatus,
  createDatabase,
  forgeAccessToken,
  kidOf,
  login,
  privateKeyOf,
  withPg,
} from './secrets-helpers.js';

const ALICE = DEMO_USERS[0]!;
const BOB = DEMO_USERS[1]!;
const DAY = 86_400_000;
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A fresh PostgreSQL database, a shared manual clock, and the app's environment over them. */
async function setUp(prefix: string) {
  const database = await createDatabase(prefix);
  cleanups.push(() => database.drop());
  const clock = new ManualClock(Date.now());
  const config = (env: Record<string, string>) =>
    loadConfig({ PORT: '0', COOKIE_SECURE: '0', LOG_LEVEL: 'silent', DATABASE_URL: database.url, ...env });
  const start = async (env: Record<string, string>): Promise<RunningApp> => {
    const app = await startReferenceApp(config(env), clock);
    cleanups.push(() => app.shutdown());
    return app;
  };
  /** Bob's code for the next TOTP step: each step is accepted once. */
  const nextTotp = () => {
    clock.advance(30_000);
    return currentTotp(BOB.totpSecret!, clock.now());
  };
  const rows = (text: string) => withPg(database.url, (query) => query(text));
  return { clock, config, start, nextTotp, rows };
}

describe('rotation of the secrets at rest', () => {
  it('KEK: KEK2 with KEK1 as previous re-wraps every data key; KEK2 alone then serves sessions and TOTP, KEK1 alone is refused', async () => {
    const { start, nextTotp, rows, config, clock } = await setUp('sk_kek_rotation');
    const [kek1, kek2] = [generateKeyEncryptionKey(), generateKeyEncryptionKey()];
    const first = await start({ SESSIONKIT_KEK: kek1 });
    const bob = await login(first.url, BOB, nextTotp());
    await first.shutdown();

    const rotating = await start({ SESSIONKIT_KEK: kek2, SESSIONKIT_KEK_PREVIOUS: kek1 });
    expect(await bearerStatus(rotating.url, bob.accessToken)).toBe(200);
    await rotating.shutdown();
    const wrapped = await rows('select wrapped_key from reference.data_keys');
    expect(wrapped.length).toBeGreaterThan(0);
    for (const row of wrapped) {
      expect(parseEnvelope(String(row.wrapped_key))?.keyId).toBe(keyEncryptionKey(kek2, 'kek2').id);
    }

    const rotated = await start({ SESSIONKIT_KEK: kek2 });
    expect(await bearerStatus(rotated.url, bob.accessToken)).toBe(200);
    await request(rotated.url).post('/api/auth/refresh').send({ refreshToken: bob.refreshToken }).expect(200);
    await login(rotated.url, BOB, nextTotp());
    await rotated.shutdown();

    await expect(startReferenceApp(config({ SESSIONKIT_KEK: kek1 }), clock)).rejects.toMatchObject({
      name: 'SecretsAtRestError',
      code: 'kek.unknown',
    });
  }, 180_000);

  it('data key: rotate-data-key re-seals every secret under the next data key while an instance runs, which keeps working', async () => {
    const { start, nextTotp, rows, config } = await setUp('sk_dek_rotation');
    const env = { SESSIONKIT_KEK: generateKeyEncryptionKey() };
    const app = await start(env);
    const bob = await login(app.url, BOB, nextTotp());

    const rotation = await rotateDataKey(config(env), pino({ level: 'silent' }));
    expect(rotation.generation).toBe(2);
    const sealed = [
      ...(await rows('select value as v from reference.secrets')),
      ...(await rows('select private_jwk as v from reference.signing_keys')),
      ...(await rows('select totp_secret as v from reference.users where totp_secret is not null')),
    ];
    expect(rotation.resealed).toBe(sealed.length);
    for (const row of sealed) expect(String(row.v)).toMatch(/^sk1\.d2\./);
    expect(await rows('select generation from reference.data_keys order by generation')).toEqual([
      { generation: 1 },
      { generation: 2 },
    ]);

    // The running instance meets data key 2 for the first time in Bob's TOTP row.
    await login(app.url, BOB, nextTotp());
    expect(await bearerStatus(app.url, bob.accessToken)).toBe(200);
    await app.shutdown();
    const restarted = await start(env);
    await login(restarted.url, BOB, nextTotp());
    expect(await bearerStatus(restarted.url, bob.accessToken)).toBe(200);
  }, 180_000);

  it('signing keys: two instances rotate on the shared schedule, add one key, both sign with it; the old key verifies until it retires', async () => {
    const { start, rows, clock } = await setUp('sk_signing_schedule');
    const env = { SESSIONKIT_KEK: generateKeyEncryptionKey() };
    const [a, b] = [await start(env), await start(env)];
    const ringA = a.manager.accessTokens!;
    const ringB = b.manager.accessTokens!;
    const oldKid = ringA.signingKey.kid;
    expect(ringB.signingKey.kid).toBe(oldKid);
    const [oldJwk] = await ringA.exportPrivateJwks();
    const oldKey = await privateKeyOf(oldJwk!);

    clock.advance(7 * DAY + 1000);
    await a.signingKeys.sync();
    const newKid = ringA.signingKey.kid;
    expect(newKid).not.toBe(oldKid);
    const onA = await login(a.url, ALICE);
    expect(kidOf(onA.accessToken)).toBe(newKid);
    // B has not reloaded yet: the unknown kid makes it reload once, after which it also signs with the new key.
    expect(await bearerStatus(b.url, onA.accessToken)).toBe(200);
    const onB = await login(b.url, ALICE);
    expect(kidOf(onB.accessToken)).toBe(newKid);

    const signedByOldKey = () =>
      forgeAccessToken({
        key: oldKey,
        alg: oldJwk!.alg,
        kid: oldKid,
        sub: onB.session.userId,
        sid: onB.session.id,
        now: clock.now(),
      });
    const publishedKids = async (app: RunningApp) =>
      (await request(app.url).get('/.well-known/jwks.json').expect(200)).body.keys.map(
        (key: { kid: string }) => key.kid,
      );
    for (const app of [a, b]) {
      expect(await bearerStatus(app.url, await signedByOldKey())).toBe(200);
      expect(await publishedKids(app)).toEqual([oldKid, newKid]);
    }

    clock.advance(RETIRE_AFTER_MS + 1000);
    await Promise.all([a.signingKeys.sync(), b.signingKeys.sync()]);
    for (const app of [a, b]) {
      expect(await bearerStatus(app.url, await signedByOldKey())).toBe(401);
      expect(await publishedKids(app)).toEqual([newKid]);
    }
    expect(await rows('select kid from reference.signing_keys')).toEqual([{ kid: newKid }]);

    // Due again: both instances notice at once, and the unique generation lets only one add a key.
    clock.advance(7 * DAY);
    await Promise.all([a.signingKeys.sync(), b.signingKeys.sync()]);
    expect(await rows('select generation from reference.signing_keys order by generation')).toEqual([
      { generation: 2 },
      { generation: 3 },
    ]);
    expect(ringA.signingKey.kid).not.toBe(newKid);
    expect(ringB.signingKey.kid).toBe(ringA.signingKey.kid);
  }, 180_000);
});
