import { request as httpRequest } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { RunningApp } from '../src/reference-app.js';
import { startReferenceApp } from '../src/reference-app.js';
import { DEMO_USERS } from '../src/user-directory.js';
import { servers } from './backends.js';

const ALICE = DEMO_USERS[0]!;
const id = 'reference-resource-server';
const secret = 'test-introspection-secret-0123456789';
const b64 = (value: string | Buffer) => Buffer.from(value).toString('base64');
const basic = `Basic ${b64(`${id}:${secret}`)}`;

/** Malformed client authentication, each of which once reached a throwing decoder or must be refused. */
const MALFORMED: Record<string, string> = {
  'bad percent-encoding in the id': `Basic ${b64(`%zz:${secret}`)}`,
  'truncated percent-encoding in the secret': `Basic ${b64(`${id}:%E0%A4%A`)}`,
  'lone % at the end of the id': `Basic ${b64(`${id}%:${secret}`)}`,
  'percent-encoded bytes that are not UTF-8': `Basic ${b64(`${id}:%C3%28`)}`,
  'decoded bytes that are not UTF-8': `Basic ${b64(Buffer.from([0xff, 0xfe, 0x3a, 0xc3, 0x28]))}`,
  'no colon': `Basic ${b64(`${id}${secret}`)}`,
  'empty client id': `Basic ${b64(`:${secret}`)}`,
  'not base64': 'Basic ***',
  'base64 with extra padding': `Basic ${b64(`${id}:${secret}`)}==`,
  'base64url alphabet': `Basic ${Buffer.from(`${id}:${secret}?>`).toString('base64url')}`,
  'scheme alone': 'Basic',
  'wrong scheme': `Bearer ${b64(`${id}:${secret}`)}`,
  'two schemes in one header': `${basic}, Bearer abc`,
  'over-long header': `Basic ${'QUFB'.repeat(3000)}`,
  'non-ASCII (Latin-1) characters': `Basic ${b64(`${id}:${secret}`)}\u00e9`,
  'control character in the secret': `Basic ${b64(`${id}:${secret}%00`)}`,
};

/** POST with raw header lines, for what an HTTP client library would not send (repeated Authorization). */
function rawPost(
  url: string,
  headers: [string, string][],
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST' }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    for (const [name, value] of headers) req.appendHeader(name, value);
    req.end(body);
  });
}

describe('OAuth client authentication at /oauth/introspect and /oauth/revoke (PostgreSQL + Redis)', () => {
  const backend = servers();
  let app: RunningApp;
  let accessToken: string;

  beforeAll(async () => {
    app = await startReferenceApp(
      loadConfig({
        PORT: '0',
        COOKIE_SECURE: '0',
        LOG_LEVEL: 'silent',
        INTROSPECTION_CLIENT_ID: id,
        INTROSPECTION_CLIENT_SECRET: secret,
        ...(await backend.env()),
      }),
    );
    const login = await request(app.url)
      .post('/api/auth/login')
      .send({ email: ALICE.email, password: ALICE.password, transport: 'bearer' })
      .expect(200);
    accessToken = login.body.accessToken;
  }, 120_000);

  afterAll(async () => {
    await app?.shutdown();
    await backend.cleanup();
  });

  it.each([
    '/oauth/introspect',
    '/oauth/revoke',
  ])('answers every malformed Authorization header at %s with 401 invalid_client, never a 500 or a logged error', async (path) => {
    const logged = vi.spyOn(app.logger, 'error');
    for (const [form, authorization] of Object.entries(MALFORMED)) {
      const res = await request(app.url)
        .post(path)
        .set('authorization', authorization)
        .type('form')
        .send({ token: accessToken });
      expect(res.status, form).toBe(401);
      expect(res.body, form).toEqual({
        error: 'invalid_client',
        error_description: 'Client authentication failed',
      });
      expect(res.headers['cache-control'], form).toBe('no-store');
      expect(res.headers['www-authenticate'], form).toMatch(/^Basic /);
    }
    const repeated = await rawPost(
      `${app.url}${path}`,
      [
        ['authorization', basic],
        ['authorization', `Basic ${b64('intruder:guess')}`],
        ['content-type', 'application/x-www-form-urlencoded'],
      ],
      new URLSearchParams({ token: accessToken }).toString(),
    );
    expect(repeated.status).toBe(401);
    expect(JSON.parse(repeated.text)).toMatchObject({ error: 'invalid_client' });
    expect(logged).not.toHaveBeenCalled();
    logged.mockRestore();
  });

  it('accepts the registered client, also with its id and secret form-urlencoded (RFC 6749 §2.3.1)', async () => {
    const encoded = `Basic ${b64(`${encodeURIComponent(id).replace(/-/g, '%2D')}:${encodeURIComponent(secret)}`)}`;
    for (const authorization of [basic, encoded, basic.replace('Basic', 'basic')]) {
      const res = await request(app.url)
        .post('/oauth/introspect')
        .set('authorization', authorization)
        .type('form')
        .send({ token: accessToken })
        .expect(200);
      expect(res.body).toMatchObject({ active: true });
    }
  });
});
