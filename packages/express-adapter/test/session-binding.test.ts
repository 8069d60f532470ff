import type { SessionEvent } from '@sessionkit/core';
import {
  AccessTokenKeyRing,
  DpopProofVerifier,
  MemoryDpopReplayCache,
  MemoryStore,
  SessionManager,
  systemClock,
} from '@sessionkit/core';
import express from 'express';
import type { CryptoKey } from 'jose';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BindingPolicy } from '../src/index.js';
import { problemHandler, sessionBinding, sessionMiddleware } from '../src/index.js';

const ORIGIN = 'https://api.test';

describe('sessionBinding policies', () => {
  const events: SessionEvent[] = [];
  let manager: SessionManager;
  let app: express.Express;
  let keys: { privateKey: CryptoKey; jwk: Record<string, unknown>; jkt: string };
  let bound: string;
  let unbound: string;

  beforeAll(async () => {
    const clock = systemClock;
    const accessTokens = await AccessTokenKeyRing.generate({
      issuer: 'i',
      audience: 'a',
      ttlMs: 300_000,
      clock,
    });
    manager = new SessionManager({ store: new MemoryStore(), accessTokens, clock });
    manager.events.subscribe((event) => events.push(event));
    const pair = await generateKeyPair('ES256', { extractable: true });
    const { kty, crv, x, y } = await exportJWK(pair.publicKey);
    const jwk = { kty, crv, x, y };
    keys = { privateKey: pair.privateKey, jwk, jkt: await calculateJwkThumbprint(pair.publicKey) };
    bound = (await manager.create({ userId: 'u1', dpopJkt: keys.jkt })).accessToken as string;
    unbound = (await manager.create({ userId: 'u2' })).accessToken as string;
    const dpop = new DpopProofVerifier({ replayCache: new MemoryDpopReplayCache(), clock });
    const binding = sessionBinding({ dpop, origin: ORIGIN });
    app = express();
    app.use(sessionMiddleware({ manager, tier: 'fast' }));
    const ok: express.RequestHandler = (_req, res) => {
      res.json({ ok: true });
    };
    for (const policy of ['required', 'preferred', 'ignored'] as BindingPolicy[]) {
      app.get(`/${policy}`, binding(policy), ok);
    }
    // The app-wide guard and a route's own: one request, one proof, one jti claim.
    app.get('/twice', binding(), binding('required'), ok);
    app.use(problemHandler());
  });

  async function proof(path: string, token: string) {
    const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
    return new SignJWT({
      jti: crypto.randomUUID(),
      htm: 'GET',
      htu: `${ORIGIN}${path}`,
      iat: Math.floor(Date.now() / 1000),
      ath: ath.toString('base64url'),
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: keys.jwk })
      .sign(keys.privateKey);
  }

  const bearer = (path: string, token: string) =>
    request(app).get(path).set('authorization', `Bearer ${token}`);
  const withProof = async (path: string, token: string) =>
    request(app)
      .get(path)
      .set('authorization', `DPoP ${token}`)
      .set('dpop', await proof(path, token));

  it('required: only a bound session with its proof passes', async () => {
    expect((await withProof('/required', bound)).status).toBe(200);
    const refused = await bearer('/required', unbound);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('binding.required');
  });

  it('preferred: a bound session needs its proof, an unbound one passes', async () => {
    expect((await withProof('/preferred', bound)).status).toBe(200);
    expect((await bearer('/preferred', unbound)).status).toBe(200);
    const refused = await bearer('/preferred', bound);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toBe('DPoP error="invalid_token"');
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.body.code).toBe('binding.required');
  });

  it('ignored: nothing is asked for', async () => {
    expect((await bearer('/ignored', bound)).status).toBe(200);
  });

  it('verifies a proof once however many guards the request meets', async () => {
    expect((await withProof('/twice', bound)).status).toBe(200);
  });

  it('records each refusal as a token.rejected event naming the code and the session', async () => {
    const before = events.length;
    await bearer('/preferred', bound);
    const rejected = events.slice(before).find((event) => event.type === 'token.rejected');
    expect(rejected).toMatchObject({ type: 'token.rejected', reason: 'binding.required' });
    expect(rejected && 'sessionId' in rejected && rejected.sessionId).toBeTruthy();
  });
});
