import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { cookieSettings, setSessionCookie } from '../src/cookies.js';
import type { CookieOptions } from '../src/index.js';
import { problemHandler } from '../src/index.js';

const issued = (token: string) => ({ token, session: { absoluteExpiresAt: Date.now() + 3_600_000 } });

async function setCookieLines(options: CookieOptions, token = 'tok.en') {
  const settings = cookieSettings(options);
  const app = express();
  app.get('/', (_req, res) => {
    setSessionCookie(res, issued(token), settings);
    res.end();
  });
  app.use(problemHandler());
  const res = await request(app).get('/');
  return { res, lines: (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [] };
}

describe('cookie settings', () => {
  it('prefixes __Host- only when Secure, Path=/ and no Domain; __Secure- otherwise; none over plain HTTP', () => {
    expect(cookieSettings().name).toBe('__Host-sk_session');
    expect(cookieSettings({ domain: 'example.com' }).name).toBe('__Secure-sk_session');
    expect(cookieSettings({ path: '/app' }).csrfName).toBe('__Secure-sk_csrf');
    expect(cookieSettings({ secure: false, name: 'sid' }).name).toBe('sid');
  });

  it('refuses settings a browser would reject or that weaken the cookie', () => {
    expect(() => cookieSettings({ secure: false, sameSite: 'none' })).toThrow(
      /SameSite=None requires Secure/,
    );
    expect(() => cookieSettings({ name: 'a b' })).toThrow(expect.objectContaining({ code: 'input.invalid' }));
    expect(() => cookieSettings({ path: 'relative' })).toThrow(
      expect.objectContaining({ code: 'input.invalid' }),
    );
  });

  it('writes a browser-session cookie without Max-Age when not persistent, and SameSite=Strict on request', async () => {
    const { lines } = await setCookieLines({ persistent: false, sameSite: 'strict' });
    expect(lines[0]).toBe('__Host-sk_session=tok.en; Path=/; HttpOnly; Secure; SameSite=Strict');
    expect(lines[1]).toMatch(/^__Host-sk_csrf=[A-Za-z0-9_-]{43}; Path=\/; Secure; SameSite=Strict$/);
  });

  it('refuses to write a cookie over 4096 bytes (input.invalid), instead of one the browser drops', async () => {
    const { res } = await setCookieLines({}, 'x'.repeat(4100));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'input.invalid' });
  });
});
