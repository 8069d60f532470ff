import { calculateThumbprint, generateKeyPair } from 'dpop';
import { decodeJwt } from 'jose';
import * as oauth from 'oauth4webapi';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { generateKeyEncryptionKey } from '../src/key-encryption-key.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { DEMO_USERS } from '../src/user-directory.js';
import type { ProofParts } from './dpop-client.js';
import { handMadeProof, ORIGIN, postWithProof, resourceGet, viaInstance } from './dpop-client.js';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';
const ALICE = DEMO_USERS[0]!;
const CURRENT = '/api/me/sessions/current';

/** Two instances of the app on one database (and one Redis, when `redis`): what a load balancer spreads over. */
function twoInstances(name: string, redis: boolean) {
  const database = `sk_dpop_${redis ? 'r' : 's'}_${process.pid}_${Date.now()}`;
  const url = `postgres://postgres@127.0.0.1:5432/${database}`;
  return {
    name,
    url,
    async start(): Promise<RunningApp[]> {
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`create database ${database}`);
      await admin.end();
      const config = loadConfig({
        PORT: '0',
        COOKIE_SECURE: '0',
        LOG_LEVEL: 'silent',
        TRUST_PROXY: 'loopback',
        PUBLIC_ORIGIN: ORIGIN,
        DATABASE_URL: url,
        SESSIONKIT_KEK: generateKeyEncryptionKey(),
        // A key prefix of this run's own: rate limits and the invalidation channel are never another run's.
        ...(redis ? { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `${database}:` } : {}),
      });
      // One after the other: the first creates the shared secrets the second then reads.
      const first = await startReferenceApp(config);
      const second = await startReferenceApp(config);
      return [first, second];
    },
    async drop(): Promise<void> {
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`drop database if exists ${database} with (force)`);
      await admin.end();
    },
  };
}

let nextClient = 1;
/** A distinct client address per test, so the login and refresh rate limits of one do not reach another. */
const clientAddress = () => `192.0.2.${nextClient++}`;

describe.each([
  twoInstances('PostgreSQL + Redis (jti cache in Redis)', true),
  twoInstances('PostgreSQL only (jti cache in SQL)', false),
])('DPoP on two reference app instances, $name', (backend) => {
  let apps: RunningApp[] = [];
  let a: RunningApp;
  let b: RunningApp;

  beforeAll(async () => {
    apps = await backend.start();
    [a, b] = apps as [RunningApp, RunningApp];
  }, 180_000);

  afterAll(async () => {
    for (const app of apps) await app.shutdown();
    await backend.drop();
  });

  async function dpopLogin(keyPair: CryptoKeyPair, address = clientAddress()) {
    const send = viaInstance(a.url, address);
    const { first, final } = await postWithProof(send, keyPair, '/api/auth/login', {
      email: ALICE.email,
      password: ALICE.password,
    });
    return { first, final, send, body: (await final.json()) as Record<string, unknown> };
  }

  it('asks for a nonce, then binds the session and its tokens to the proof key (panva dpop + oauth4webapi)', async () => {
    const keyPair = await generateKeyPair('ES256');
    const { first, final, body } = await dpopLogin(keyPair);
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toContain('error="use_dpop_nonce"');
    expect(((await first.json()) as { code: string }).code).toBe('dpop.nonce_required');
    expect(final.status).toBe(200);
    expect(final.headers.get('set-cookie') ?? '').not.toContain('__Host-sid');
    const accessToken = body.accessToken as string;
    expect(decodeJwt(accessToken).cnf).toEqual({ jkt: await calculateThumbprint(keyPair.publicKey) });

    const handle = oauth.DPoP({}, keyPair);
    const address = clientAddress();
    const onA = await resourceGet(viaInstance(a.url, address), handle, accessToken, CURRENT);
    expect(onA.status).toBe(200);
    // The nonce instance A handed out is good on instance B: both derive it from the shared secret.
    const onB = await resourceGet(viaInstance(b.url, address), handle, accessToken, CURRENT);
    expect(onB.status).toBe(200);
    const required = await resourceGet(
      viaInstance(b.url, address),
      handle,
      accessToken,
      '/api/me/sender-constrained',
    );
    expect(required.status).toBe(200);
    // Presented as a plain bearer token, the bound token is refused.
    const asBearer = await viaInstance(a.url, address)(`${ORIGIN}${CURRENT}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toContain('DPoP error="invalid_token"');
    expect(((await asBearer.json()) as { code: string }).code).toBe('binding.required');
  });

  it('rotates a bound refresh token only with a proof from its key, and audits the refusals', async () => {
    const keyPair = await generateKeyPair('ES256');
    const { body } = await dpopLogin(keyPair);
    const sessionId = (body.session as { id: string }).id;
    const send = viaInstance(b.url, clientAddress());
    const refreshToken = body.refreshToken as string;
    const withoutProof = await send(`${ORIGIN}/api/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken }),
    });
    expect(withoutProof.status).toBe(401);
    expect(((await withoutProof.json()) as { code: string }).code).toBe('binding.required');
    const thief = await postWithProof(send, await generateKeyPair('ES256'), '/api/auth/refresh', {
      refreshToken,
    });
    expect(thief.final.status).toBe(401);
    expect(((await thief.final.json()) as { code: string }).code).toBe('dpop.invalid_proof');
    // Neither attempt burnt the holder's token: it still rotates, and the new access token is bound too.
    const holder = await postWithProof(send, keyPair, '/api/auth/refresh', { refreshToken });
    expect(holder.final.status).toBe(200);
    const rotated = (await holder.final.json()) as { accessToken: string; refreshToken: string };
    expect(rotated.refreshToken).not.toBe(refreshToken);
    expect(decodeJwt(rotated.accessToken).cnf).toEqual({ jkt: await calculateThumbprint(keyPair.publicKey) });

    const db = new pg.Client({ connectionString: backend.url });
    await db.connect();
    try {
      let reasons: string[] = [];
      for (let attempt = 0; attempt < 100 && reasons.length < 2; attempt += 1) {
        const { rows } = await db.query<{ reason: string }>(
          `select reason from audit.audit_records where action = 'token.rejected' and session_id = $1 order by reason`,
          [sessionId],
        );
        reasons = rows.map((row) => row.reason);
        if (reasons.length < 2) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(reasons).toEqual(['binding.required', 'dpop.invalid_proof']);
    } finally {
      await db.end();
    }
  });

  it('refuses a proof replayed to the other instance, or to the same one', async () => {
    const keyPair = await generateKeyPair('ES256');
    const { body } = await dpopLogin(keyPair);
    const accessToken = body.accessToken as string;
    const address = clientAddress();
    const probe = await viaInstance(a.url, address)(`${ORIGIN}${CURRENT}`, {
      headers: { authorization: `DPoP ${accessToken}` },
    });
    const nonce = probe.headers.get('dpop-nonce') as string;
    const proof = await handMadeProof(keyPair, {
      method: 'GET',
      url: `${ORIGIN}${CURRENT}`,
      nonce,
      accessToken,
    });
    const headers = { authorization: `DPoP ${accessToken}`, dpop: proof };
    expect((await viaInstance(a.url, address)(`${ORIGIN}${CURRENT}`, { headers })).status).toBe(200);
    for (const app of [b, a]) {
      const replay = await viaInstance(app.url, address)(`${ORIGIN}${CURRENT}`, { headers });
      expect(replay.status).toBe(401);
      expect(replay.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
      expect(((await replay.json()) as { code: string }).code).toBe('dpop.replay');
    }
  });

  describe('RFC 9449 §4.3: each check failing on its own', () => {
    let keyPair: CryptoKeyPair;
    let accessToken: string;
    let nonce: string;
    const address = clientAddress();
    const url = `${ORIGIN}${CURRENT}`;

    beforeAll(async () => {
      keyPair = await generateKeyPair('ES256');
      const { body } = await dpopLogin(keyPair);
      accessToken = body.accessToken as string;
      const probe = await viaInstance(a.url, address)(url, {
        headers: { authorization: `DPoP ${accessToken}` },
      });
      nonce = probe.headers.get('dpop-nonce') as string;
    }, 60_000);

    async function send(dpop: string | string[], path = CURRENT, scheme = 'DPoP') {
      const headers = new Headers({ authorization: `${scheme} ${accessToken}` });
      for (const value of Array.isArray(dpop) ? dpop : [dpop]) headers.append('dpop', value);
      const response = await viaInstance(a.url, address)(`${ORIGIN}${path}`, { headers });
      const body = response.status === 200 ? {} : ((await response.json()) as { code?: string });
      return { status: response.status, code: body.code };
    }
    const proof = (change?: (parts: ProofParts) => void, signWith?: CryptoKey) =>
      handMadeProof(keyPair, { method: 'GET', url, nonce, accessToken }, change, signWith);
    const unsigned = (parts: ProofParts) => {
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${encode(parts.header)}.${encode(parts.payload)}.`;
    };

    it('accepts the unspoilt proof, with query, fragment and scheme/host case ignored in htu', async () => {
      expect(await send(await proof())).toEqual({ status: 200, code: undefined });
      const loose = await proof((p) => {
        p.payload.htu = `HTTPS://API.Example.TEST:443${CURRENT}?page=2#top`;
      });
      expect(await send(loose)).toEqual({ status: 200, code: undefined });
    });

    it.each<[string, (parts: ProofParts) => void]>([
      [
        'typ is not dpop+jwt',
        (p) => {
          p.header.typ = 'JWT';
        },
      ],
      [
        'typ is missing',
        (p) => {
          delete p.header.typ;
        },
      ],
      [
        'jwk is missing',
        (p) => {
          delete p.header.jwk;
        },
      ],
      [
        'jwk carries the private key',
        (p) => {
          (p.header.jwk as Record<string, unknown>).d = 'AAAA';
        },
      ],
      [
        'htm is another method',
        (p) => {
          p.payload.htm = 'POST';
        },
      ],
      [
        'htu is another path',
        (p) => {
          p.payload.htu = `${ORIGIN}/api/me/sessions`;
        },
      ],
      [
        'htu is another host',
        (p) => {
          p.payload.htu = `https://evil.example${CURRENT}`;
        },
      ],
      [
        'jti is missing',
        (p) => {
          delete p.payload.jti;
        },
      ],
      [
        'iat is too old',
        (p) => {
          p.payload.iat = Math.floor(Date.now() / 1000) - 600;
        },
      ],
      [
        'iat is in the future',
        (p) => {
          p.payload.iat = Math.floor(Date.now() / 1000) + 600;
        },
      ],
      [
        'ath is missing',
        (p) => {
          delete p.payload.ath;
        },
      ],
      [
        'ath hashes another token',
        (p) => {
          p.payload.ath = 'x'.repeat(43);
        },
      ],
    ])('refuses a proof whose %s (dpop.invalid_proof)', async (_name, change) => {
      expect(await send(await proof(change))).toEqual({ status: 401, code: 'dpop.invalid_proof' });
    });

    it('refuses an asymmetric alg that is not on the allow-list (ES384)', async () => {
      const p384 = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, [
        'sign',
        'verify',
      ])) as CryptoKeyPair;
      const es384 = await handMadeProof(p384, { method: 'GET', url, nonce, accessToken }, (p) => {
        p.header.alg = 'ES384';
      });
      expect(await send(es384)).toEqual({ status: 401, code: 'dpop.invalid_proof' });
    });

    it('refuses alg none and a symmetric alg', async () => {
      const parts = (alg: string): ProofParts => ({
        header: { typ: 'dpop+jwt', alg, jwk: { kty: 'oct', k: 'c2VjcmV0' } },
        payload: {
          jti: crypto.randomUUID(),
          htm: 'GET',
          htu: url,
          iat: Math.floor(Date.now() / 1000),
          nonce,
        },
      });
      expect(await send(unsigned(parts('none')))).toEqual({ status: 401, code: 'dpop.invalid_proof' });
      expect(await send(`${unsigned(parts('HS256')).slice(0, -1)}.c2ln`)).toEqual({
        status: 401,
        code: 'dpop.invalid_proof',
      });
    });

    it('refuses a signature by another key than the embedded jwk, and a proof by a key the token is not bound to', async () => {
      const other = await generateKeyPair('ES256');
      expect(await send(await proof(undefined, other.privateKey))).toEqual({
        status: 401,
        code: 'dpop.invalid_proof',
      });
      const foreign = await handMadeProof(other, { method: 'GET', url, nonce, accessToken });
      expect(await send(foreign)).toEqual({ status: 401, code: 'dpop.invalid_proof' });
    });

    it('refuses two DPoP headers, a proof that is not a JWS, and the DPoP scheme without a proof', async () => {
      expect(await send([await proof(), await proof()])).toEqual({ status: 401, code: 'dpop.invalid_proof' });
      expect(await send('not-a-jwt')).toEqual({ status: 401, code: 'dpop.invalid_proof' });
      expect(await send([])).toEqual({ status: 401, code: 'dpop.invalid_proof' });
    });

    it('asks for the nonce when it is missing or made up (use_dpop_nonce)', async () => {
      expect(
        await send(
          await proof((p) => {
            delete p.payload.nonce;
          }),
        ),
      ).toEqual({
        status: 401,
        code: 'dpop.nonce_required',
      });
      expect(
        await send(
          await proof((p) => {
            p.payload.nonce = 'zz.AAAAAAAAAAAAAAAAAAAAAA';
          }),
        ),
      ).toEqual({
        status: 401,
        code: 'dpop.nonce_required',
      });
    });
  });
});
