import type { Server } from 'node:http';
import { BackchannelLogoutReceiver } from '@sessionkit/upstream';
import fc from 'fast-check';
import { createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backChannelLogoutRouter } from '../src/index.js';
import type { StoreKind, TestApp } from './harness.js';
import {
  browserOf,
  CLIENT_AUTH,
  CSRF_COOKIE,
  OAUTH_CLIENT,
  SECURE_COOKIE,
  storeKinds,
  testApp,
} from './harness.js';

const printable = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
const text = (maxLength: number) => fc.string({ unit: printable, maxLength });
const b64 = (length: number) =>
  fc.string({
    unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
    minLength: length,
    maxLength: length,
  });

const latin1 = fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code));
/** What a header may carry: printable ASCII and Latin-1 (Node refuses anything else before sending). */
const headerText = (maxLength: number) => fc.string({ unit: fc.oneof(printable, latin1), maxLength });
const base64 = (value: string | Uint8Array) => Buffer.from(value).toString('base64');

/** The client's id or secret with some characters form-urlencoded, which RFC 6749 §2.3.1 allows. */
const percentEncoded = (value: string) =>
  fc
    .array(fc.constantFrom('raw', 'upper', 'lower'), { minLength: value.length, maxLength: value.length })
    .map((modes) =>
      [...value]
        .map((char, i) => {
          const hex = char.charCodeAt(0).toString(16).padStart(2, '0');
          return modes[i] === 'raw' ? char : `%${modes[i] === 'upper' ? hex.toUpperCase() : hex}`;
        })
        .join(''),
    );

/** HTTP Basic client authentication, well-formed for the registered client (`valid`) or malformed. */
const clientAuthentication = fc.oneof(
  fc.constant({ header: CLIENT_AUTH, valid: true }),
  fc
    .tuple(fc.constantFrom('Basic', 'basic', 'BASIC'), fc.integer({ min: 1, max: 3 }))
    .map(([scheme, spaces]) => ({
      header: `${scheme}${' '.repeat(spaces)}${base64(`${OAUTH_CLIENT.id}:${OAUTH_CLIENT.secret}`)}`,
      valid: true,
    })),
  fc
    .tuple(percentEncoded(OAUTH_CLIENT.id), percentEncoded(OAUTH_CLIENT.secret))
    .map(([id, secret]) => ({ header: `Basic ${base64(`${id}:${secret}`)}`, valid: true })),
  // Every id below starts with a literal character the registered id does not: none can authenticate.
  fc
    .tuple(fc.string({ maxLength: 40 }), fc.string({ maxLength: 60 }))
    .map(([id, secret]) => ({ header: `Basic ${base64(`x${id}:${secret}`)}`, valid: false })),
  fc
    .tuple(fc.constantFrom('%', '%z', '%zz', '%E0%A4%A', '%C3%28', '%00', '%ff'), fc.boolean())
    .map(([bad, inId]) => ({
      header: `Basic ${base64(inId ? `x${bad}:${OAUTH_CLIENT.secret}` : `x${OAUTH_CLIENT.id}:${bad}`)}`,
      valid: false,
    })),
  fc
    .uint8Array({ maxLength: 120 })
    .map((bytes) => ({ header: `Basic ${base64(Uint8Array.of(0x78, ...bytes))}`, valid: false })),
  headerText(200).map((value) => ({ header: `Basic ${value}`, valid: false })),
  fc
    .constantFrom('=', '==', '===', '.', ' x', ', Bearer abc', '\u00e9', ':')
    .map((junk) => ({ header: `${CLIENT_AUTH}${junk}`, valid: false })),
  fc.constantFrom('Bearer', 'Digest', 'Basicx', 'Basic:', '').map((scheme) => ({
    header: `${scheme} ${base64(`${OAUTH_CLIENT.id}:${OAUTH_CLIENT.secret}`)}`,
    valid: false,
  })),
  fc.constantFrom('', '\u0000', '\n', '\u007f').map((control) => ({
    header: `Basic ${base64(control === '' ? `:${OAUTH_CLIENT.secret}` : `${OAUTH_CLIENT.id}:${OAUTH_CLIENT.secret}${control}`)}`,
    valid: false,
  })),
  fc.nat({ max: 12_000 }).map((length) => ({ header: `Basic ${'QUFB'.repeat(length / 4)}`, valid: false })),
);

const paths = fc.oneof(
  fc.constantFrom(
    '/whoami',
    '/whoami/full',
    '/public',
    '/echo',
    '/login',
    '/step-up',
    '/logout',
    '/sensitive',
    '/admin',
    '/api/me/sessions',
    '/api/me/sessions/current',
    '/api/me/sessions/revoke-others',
    '/api/me/sessions/%E0%A4%A',
    '/api/me/activity',
    '/oauth/introspect',
    '/oauth/revoke',
    '/.well-known/jwks.json',
    '/bcl',
  ),
  text(40).map((tail) => `/api/me/sessions/${encodeURIComponent(tail)}`),
);

describe.each(storeKinds)('fuzzing cookies, headers and bodies (%s store)', (kind: StoreKind) => {
  let t: TestApp;
  let server: Server;
  let valid: { cookie: string; csrf: string; token: string; accessToken: string };

  beforeAll(async () => {
    const idp = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(idp.publicKey)), kid: 'idp', alg: 'ES256' };
    t = await testApp(kind, {
      accessTokens: true,
      extend: (app, manager, clock) => {
        const receiver = new BackchannelLogoutReceiver({
          manager,
          clock,
          issuer: 'https://idp',
          audience: 'rp',
          jwks: createLocalJWKSet({ keys: [jwk] }),
          sessionsForSid: () => [],
        });
        app.use('/bcl', backChannelLogoutRouter({ receiver }));
      },
    });
    server = t.app.listen(0, '127.0.0.1');
    const login = await request(server).post('/login').send({ userId: 'alice' });
    valid = { ...browserOf(login), accessToken: (login.body as { accessToken: string }).accessToken };
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  const sessionValue = fc.oneof(
    fc.constant(() => valid.token),
    fc.tuple(b64(22), b64(43)).map(
      ([id, secret]) =>
        () =>
          `${id}.${secret}`,
    ),
    text(200).map((value) => () => value),
    fc.constant(() => `${valid.token}x`),
    fc.constant(() => '%E0%A4%A'),
    fc.nat({ max: 5000 }).map((length) => () => 'A'.repeat(length)),
  );
  const cookieHeader = fc.option(
    fc.oneof(
      text(300),
      fc.tuple(sessionValue, fc.option(text(60))).map(
        ([value, csrf]) =>
          () =>
            `${SECURE_COOKIE}=${value()}${csrf === null ? '' : `; ${CSRF_COOKIE}=${csrf}`}`,
      ),
      fc.constant(() => valid.cookie),
      fc.constant(() => `${SECURE_COOKIE}=a; ${SECURE_COOKIE}=b; =; ;;; x`),
    ),
  );
  const authorization = fc.option(
    fc.oneof(
      text(300),
      sessionValue.map((value) => () => `Bearer ${value()}`),
      fc.constant(() => `Bearer ${valid.accessToken}`),
      fc.tuple(b64(30), b64(60), b64(40)).map(
        ([a, b, c]) =>
          () =>
            `Bearer ${a}.${b}.${c}`,
      ),
      clientAuthentication.map(
        ({ header }) =>
          () =>
            header,
      ),
      headerText(300).map((value) => () => `Bearer ${value}`),
      fc.constant(() => 'Bearer'),
    ),
  );
  const body = fc.oneof(
    fc.constant(undefined),
    text(500),
    fc.json({ maxDepth: 3 }),
    fc
      .record({ token: fc.oneof(text(100), fc.constant('')), logout_token: text(100), userId: text(20) })
      .map((record) => new URLSearchParams(record).toString()),
    fc.nat({ max: 40_000 }).map((length) => JSON.stringify({ userId: 'x'.repeat(length) })),
  );
  const contentType = fc.option(
    fc.constantFrom(
      'application/json',
      'application/x-www-form-urlencoded',
      'text/plain',
      'application/json; charset=utf-7',
      'multipart/form-data; boundary=x',
      'application/problem+json',
    ),
  );
  const extraHeaders = fc.dictionary(
    fc.constantFrom(
      'origin',
      'sec-fetch-site',
      'x-csrf-token',
      'x-request-id',
      'user-agent',
      'accept-language',
      'sec-ch-ua',
    ),
    text(600),
  );

  it('never answers 5xx nor anything cacheable but the public keys, whatever the request looks like', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'),
        paths,
        cookieHeader,
        authorization,
        body,
        contentType,
        extraHeaders,
        async (method, path, cookie, auth, payload, type, headers) => {
          let req = request(server)[method.toLowerCase() as 'get' | 'post' | 'delete' | 'put'](path);
          if (cookie !== null) req = req.set('cookie', typeof cookie === 'function' ? cookie() : cookie);
          if (auth !== null) req = req.set('authorization', typeof auth === 'function' ? auth() : auth);
          for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
          if (type !== null) req = req.set('content-type', type);
          const res = await (payload === undefined ? req : req.send(payload));
          expect(res.status, `${method} ${path} → ${res.status} ${res.text}`).toBeLessThan(500);
          if (res.status >= 400 && res.headers['content-type']?.startsWith('application/problem+json')) {
            expect(res.text).not.toMatch(/\n\s+at /);
          }
          // Everything behind the session middleware is no-store; only the public keys may be cached. Headers
          // over Node's 16 KiB limit are refused with 431 by the HTTP parser itself: nothing ran, nothing to cache.
          if (res.status === 431) return;
          const publicKeys = res.status === 200 && path === '/.well-known/jwks.json';
          expect(res.headers['cache-control'], `${method} ${path}`).toBe(
            publicKeys ? 'public, max-age=60' : 'no-store',
          );
        },
      ),
      { numRuns: kind === 'memory' ? 400 : 150 },
    );
    expect(t.serverErrors).toEqual([]);
  }, 60_000);

  // Last: a valid client revoking the shared session would change what the property above sees.
  it('answers every malformed client authentication at the OAuth endpoints with 401 invalid_client', async () => {
    const tokenForm = fc.record(
      {
        token: fc.oneof(
          fc.constant(''),
          text(100),
          sessionValue.map((value) => value()),
          fc.constant(valid.accessToken),
        ),
        token_type_hint: fc.constantFrom('access_token', 'refresh_token', 'x'),
      },
      { requiredKeys: ['token'] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/oauth/introspect', '/oauth/revoke'),
        fc.option(clientAuthentication),
        tokenForm,
        async (path, auth, form) => {
          let req = request(server).post(path).type('form');
          if (auth !== null) req = req.set('authorization', auth.header);
          const res = await req.send(new URLSearchParams(form).toString());
          const label = `${path} ${JSON.stringify(auth)} → ${res.status} ${res.text}`;
          if (auth?.valid) {
            expect(res.status, label).toBe(form.token === '' ? 400 : 200);
          } else {
            expect(res.status, label).toBe(401);
            expect(res.body, label).toMatchObject({ error: 'invalid_client' });
            expect(res.headers['www-authenticate'], label).toMatch(/^Basic /);
          }
          expect(res.headers['cache-control'], label).toBe('no-store');
        },
      ),
      { numRuns: kind === 'memory' ? 300 : 100 },
    );
    expect(t.serverErrors).toEqual([]);
  }, 60_000);
});
