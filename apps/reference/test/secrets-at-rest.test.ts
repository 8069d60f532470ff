import { cpSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { PrivateSigningJwk } from '@sessionkit/core';
import { AccessTokenKeyRing, ManualClock } from '@sessionkit/core';
import { PGliteDialect } from '@sessionkit/storage-kysely/pglite';
import { generateKeyPair } from 'jose';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppDatabase } from '../src/app-database.js';
import { APP_MIGRATIONS, APP_SCHEMA } from '../src/app-database.js';
import { loadConfig } from '../src/config.js';
import type { KeyEncryptionKeys } from '../src/key-encryption-key.js';
import { generateKeyEncryptionKey, keyEncryptionKey } from '../src/key-encryption-key.js';
import { hashPassword } from '../src/password-hash.js';
import { startReferenceApp } from '../src/reference-app.js';
import { sealedContext } from '../src/sealed-context.js';
import { SecretVault } from '../src/secret-vault.js';
import { currentTotp, DEMO_USERS } from '../src/user-directory.js';
import type { Rows } from './secrets-helpers.js';
import {
  bearerStatus,
  copyEveryRow,
  createDatabase,
  forgeAccessToken,
  kidOf,
  login,
  privateKeyOf,
  withPg,
} from './secrets-helpers.js';

const ALICE = DEMO_USERS[0]!;
const BOB = DEMO_USERS[1]!;
const BOB_TOTP = BOB.totpSecret!;
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}.kek`, { force: true });
  });
  return dir;
}

const onlyKek = (encoded: string): KeyEncryptionKeys => ({
  current: keyEncryptionKey(encoded, 'test'),
  previous: [],
});

/** What the holder of the KEK reads from the database: every secret in clear. */
async function unsealEverything(db: Kysely<unknown>, keks: KeyEncryptionKeys, dump: Record<string, Rows>) {
  const tables = db as unknown as Kysely<AppDatabase>;
  // A guessed key-encryption key unwraps no data key.
  await expect(SecretVault.load(tables, onlyKek(generateKeyEncryptionKey()))).rejects.toMatchObject({
    code: 'kek.unknown',
  });
  const vault = await SecretVault.load(tables, keks);
  // A sealed value is bound to its row: moved to another, it does not open.
  const [first, second] = dump['reference.secrets'] ?? [];
  await expect(
    vault.unseal(String(first?.value), sealedContext.secret(String(second?.name))),
  ).rejects.toMatchObject({ code: 'secret.unreadable' });
  const secrets: string[] = [];
  for (const row of dump['reference.secrets'] ?? []) {
    secrets.push(await vault.unseal(String(row.value), sealedContext.secret(String(row.name))));
  }
  const totp: string[] = [];
  for (const row of dump['reference.users'] ?? []) {
    if (row.totp_secret !== null) {
      totp.push(await vault.unseal(String(row.totp_secret), sealedContext.totp(String(row.id))));
    }
  }
  return { secrets, totp };
}

/**
 * The attack: with nothing but the rows, forge an access token for a live session. The signing-key rows hold
 * sealed values (no JWK to import), so the attacker can only sign with a key of their own under a real kid, or
 * with HMAC over what the rows hold: the running app refuses all. The same token signed with the real key is
 * accepted, so it is the sealing, not the token's shape, that stops the forgery.
 */
async function tryToForge(input: {
  url: string;
  dump: Record<string, Rows>;
  realKeys: PrivateSigningJwk[];
  sessionId: string;
  now: number;
}) {
  const session = input.dump['sessionkit.sessions']?.find((row) => row.id === input.sessionId);
  expect(session, 'the session row is in the copy').toBeDefined();
  const claims = { sub: String(session?.user_id), sid: input.sessionId, now: input.now };
  const signingRows = input.dump['reference.signing_keys'] ?? [];
  expect(signingRows.length).toBeGreaterThan(0);
  const attacker = await generateKeyPair('EdDSA');
  for (const row of signingRows) {
    expect(String(row.private_jwk)).toMatch(/^sk1\./);
    expect(() => JSON.parse(String(row.private_jwk))).toThrow();
    const kid = String(row.kid);
    const ownKey = await forgeAccessToken({ key: attacker.privateKey, alg: 'EdDSA', kid, ...claims });
    expect(await bearerStatus(input.url, ownKey)).toBe(401);
    for (const value of [row.private_jwk, ...(input.dump['reference.secrets'] ?? []).map((s) => s.value)]) {
      const key = new TextEncoder().encode(String(value));
      const hmac = await forgeAccessToken({ key, alg: 'HS256', kid, ...claims });
      expect(await bearerStatus(input.url, hmac)).toBe(401);
    }
  }
  const real = input.realKeys.at(-1)!;
  const genuine = await forgeAccessToken({
    key: await privateKeyOf(real),
    alg: real.alg,
    kid: real.kid,
    ...claims,
  });
  expect(await bearerStatus(input.url, genuine)).toBe(200);
}

function assertNothingInClear(
  text: string,
  clear: { jwks: PrivateSigningJwk[]; secrets: string[]; kek: string },
) {
  expect(text).not.toContain(BOB_TOTP);
  expect(text).not.toContain(clear.kek);
  for (const jwk of clear.jwks) expect(text).not.toContain(jwk.d);
  expect(clear.secrets.length).toBeGreaterThanOrEqual(4);
  for (const secret of clear.secrets) expect(text).not.toContain(secret);
}

describe('secrets at rest: a copy of the database without the key-encryption key', () => {
  it('PostgreSQL: holds no private JWK, TOTP secret or secret in clear, and forges no access token', async () => {
    const database = await createDatabase('sk_secrets_copy');
    cleanups.push(() => database.drop());
    const kek = generateKeyEncryptionKey();
    const clock = new ManualClock(Date.now());
    const config = loadConfig({
      PORT: '0',
      COOKIE_SECURE: '0',
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      SESSIONKIT_KEK: kek,
    });
    const app = await startReferenceApp(config, clock);
    cleanups.push(() => app.shutdown());
    const alice = await login(app.url, ALICE);
    clock.advance(30_000);
    await login(app.url, BOB, currentTotp(BOB_TOTP, clock.now()));
    const realKeys = await app.manager.accessTokens!.exportPrivateJwks();

    const dump = await withPg(database.url, copyEveryRow);
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    const clear = await unsealEverything(db, onlyKek(kek), dump.tables);
    await db.destroy();
    expect(clear.totp).toEqual([BOB_TOTP]);
    assertNothingInClear(dump.text, { jwks: realKeys, secrets: clear.secrets, kek });
    await tryToForge({
      url: app.url,
      dump: dump.tables,
      realKeys,
      sessionId: alice.session.id,
      now: clock.now(),
    });
  }, 180_000);

  it('PGlite: a copy of DATA_DIR is as useless, the generated KEK lives beside it (0600) and is reused', async () => {
    const dataDir = tempDir('sk-secrets-copy-');
    const clock = new ManualClock(Date.now());
    const config = loadConfig({ PORT: '0', COOKIE_SECURE: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir });
    let app = await startReferenceApp(config, clock);
    const kekFile = `${dataDir}.kek`;
    expect(statSync(kekFile).mode & 0o777).toBe(0o600);
    const kek = readFileSync(kekFile, 'utf8').trim();
    // For the console banner, on this start only.
    expect(app.generatedKek).toEqual({ file: kekFile, key: kek });
    const alice = await login(app.url, ALICE);
    clock.advance(30_000);
    await login(app.url, BOB, currentTotp(BOB_TOTP, clock.now()));
    const realKeys = await app.manager.accessTokens!.exportPrivateJwks();
    await app.shutdown();

    const copyDir = tempDir('sk-secrets-stolen-');
    cpSync(dataDir, copyDir, { recursive: true });
    const pglite = new PGlite(`${copyDir}/pglite`);
    const dump = await copyEveryRow(async (text) => (await pglite.query<Record<string, unknown>>(text)).rows);
    const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
    const clear = await unsealEverything(db, onlyKek(kek), dump.tables);
    await pglite.close();
    expect(clear.totp).toEqual([BOB_TOTP]);
    assertNothingInClear(dump.text, { jwks: realKeys, secrets: clear.secrets, kek });

    app = await startReferenceApp(config, clock);
    cleanups.push(() => app.shutdown());
    expect(readFileSync(kekFile, 'utf8').trim()).toBe(kek);
    expect(app.generatedKek).toBeUndefined();
    await tryToForge({
      url: app.url,
      dump: dump.tables,
      realKeys,
      sessionId: alice.session.id,
      now: clock.now(),
    });
  }, 180_000);

  it('refuses to start on DATABASE_URL without a KEK (kek.missing), or with a malformed one (kek.invalid)', async () => {
    const base = { PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' };
    await expect(startReferenceApp(loadConfig(base))).rejects.toMatchObject({
      name: 'SecretsAtRestError',
      code: 'kek.missing',
    });
    await expect(
      startReferenceApp(loadConfig({ ...base, SESSIONKIT_KEK: 'too-short' })),
    ).rejects.toMatchObject({
      code: 'kek.invalid',
    });
  }, 180_000);

  it('seals the clear rows of a data directory from before, in place: same keys, same TOTP, same tokens', async () => {
    const dataDir = tempDir('sk-secrets-legacy-');
    const clock = new ManualClock(Date.now());
    const legacyKey = await AccessTokenKeyRing.generate({ issuer: 'x', audience: 'x', ttlMs: 60_000, clock });
    const [legacyJwk] = await legacyKey.exportPrivateJwks();
    const legacySecret = generateKeyEncryptionKey();
    {
      // The schema and rows as the app wrote them before secrets were sealed.
      const pglite = new PGlite(`${dataDir}/pglite`);
      const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
      await db.schema.createSchema(APP_SCHEMA).execute();
      const migrator = new Migrator({
        db: db.withSchema(APP_SCHEMA),
        provider: { getMigrations: async () => APP_MIGRATIONS },
        migrationTableSchema: APP_SCHEMA,
      });
      expect((await migrator.migrateTo('2026-11-24-users-and-keys')).error).toBeUndefined();
      await pglite.query('insert into reference.signing_keys (kid, private_jwk) values ($1, $2::jsonb)', [
        legacyJwk!.kid,
        JSON.stringify(legacyJwk),
      ]);
      await pglite.query(`insert into reference.secrets (name, value) values ('audit-integrity-key', $1)`, [
        legacySecret,
      ]);
      await pglite.query(
        `insert into reference.users (id, email, display_name, password_hash, totp_secret)
         values ('legacy-bob', $1, 'Bob', $2, $3)`,
        [BOB.email, await hashPassword(BOB.password), BOB_TOTP],
      );
      await pglite.close();
    }

    const config = loadConfig({ PORT: '0', COOKIE_SECURE: '0', LOG_LEVEL: 'silent', DATA_DIR: dataDir });
    const app = await startReferenceApp(config, clock);
    const bob = await login(app.url, BOB, currentTotp(BOB_TOTP, clock.now()));
    expect(kidOf(bob.accessToken)).toBe(legacyJwk!.kid);
    const jwks = await request(app.url).get('/.well-known/jwks.json').expect(200);
    expect(jwks.body.keys.map((key: { kid: string }) => key.kid)).toEqual([legacyJwk!.kid]);
    await app.shutdown();

    const pglite = new PGlite(`${dataDir}/pglite`);
    const dump = await copyEveryRow(async (text) => (await pglite.query<Record<string, unknown>>(text)).rows);
    for (const value of [legacyJwk!.d, BOB_TOTP, legacySecret]) expect(dump.text).not.toContain(value);
    const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
    const clear = await unsealEverything(
      db,
      onlyKek(readFileSync(`${dataDir}.kek`, 'utf8').trim()),
      dump.tables,
    );
    await pglite.close();
    expect(clear.totp).toEqual([BOB_TOTP]);
    expect(clear.secrets).toContain(legacySecret);
  }, 180_000);
});
