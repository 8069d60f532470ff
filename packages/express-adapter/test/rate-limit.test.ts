import type { RateLimiter, RateLimitResult } from '@sessionkit/core';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { problemHandler, rateLimit } from '../src/index.js';

/**
 * A fixed-window limiter with core's RateLimiter shape. The adapter is written against that interface
 * only; @sessionkit/security's limiters implement the same one.
 */
class FixedWindowLimiter implements RateLimiter {
  readonly #counts = new Map<string, { count: number; resetAt: number }>();
  constructor(
    readonly limit: number,
    readonly windowMs: number,
    readonly now: () => number,
  ) {}

  async consume(key: string): Promise<RateLimitResult> {
    const now = this.now();
    const current = this.#counts.get(key);
    const window = current && current.resetAt > now ? current : { count: 0, resetAt: now + this.windowMs };
    window.count += 1;
    this.#counts.set(key, window);
    const allowed = window.count <= this.limit;
    return {
      allowed,
      limit: this.limit,
      remaining: Math.max(0, this.limit - window.count),
      resetAt: window.resetAt,
      retryAfterMs: allowed ? 0 : window.resetAt - now,
    };
  }
}

class BrokenLimiter implements RateLimiter {
  async consume(): Promise<RateLimitResult> {
    throw new Error('limiter backend down');
  }
}

function appWith(middleware: express.RequestHandler, app = express()) {
  app.post('/login', middleware, (_req, res) => {
    res.json({ ok: true });
  });
  app.use(problemHandler());
  return app;
}

describe('rate-limit middleware', () => {
  it('sends RateLimit-* headers, then 429 rate.limited with Retry-After once the limit is reached', async () => {
    let now = 1_000_000;
    const limiter = new FixedWindowLimiter(2, 30_000, () => now);
    const app = appWith(rateLimit({ limiter, now: () => now }));
    const first = await request(app).post('/login').expect(200);
    expect(first.headers).toMatchObject({
      'ratelimit-limit': '2',
      'ratelimit-remaining': '1',
      'ratelimit-reset': '30',
    });
    now += 10_000;
    const second = await request(app).post('/login').expect(200);
    expect(second.headers).toMatchObject({ 'ratelimit-remaining': '0', 'ratelimit-reset': '20' });
    const third = await request(app).post('/login').expect(429);
    expect(third.headers).toMatchObject({ 'ratelimit-remaining': '0', 'retry-after': '20' });
    expect(third.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(third.body).toMatchObject({
      code: 'rate.limited',
      status: 429,
      details: { retryAfterMs: 20_000 },
    });
    now += 20_000;
    await request(app).post('/login').expect(200);
  });

  it('keys by client IP honouring trust proxy, or by any key the app picks', async () => {
    const limiter = new FixedWindowLimiter(1, 60_000, Date.now);
    const proxied = express();
    proxied.set('trust proxy', 'loopback');
    const app = appWith(rateLimit({ limiter }), proxied);
    await request(app).post('/login').set('x-forwarded-for', '203.0.113.1').expect(200);
    await request(app).post('/login').set('x-forwarded-for', '203.0.113.1').expect(429);
    await request(app).post('/login').set('x-forwarded-for', '203.0.113.2').expect(200);
    const byHeader = appWith(
      rateLimit({ limiter: new FixedWindowLimiter(1, 60_000, Date.now), key: (req) => req.get('x-user') }),
    );
    await request(byHeader).post('/login').set('x-user', 'a').expect(200);
    await request(byHeader).post('/login').set('x-user', 'a').expect(429);
    await request(byHeader).post('/login').expect(200);
    await request(byHeader).post('/login').expect(200);
  });

  it('fails closed with 503 when the limiter is down, or open when told to, reporting the failure', async () => {
    const closed = await request(appWith(rateLimit({ limiter: new BrokenLimiter() })))
      .post('/login')
      .expect(503);
    expect(closed.body).toMatchObject({ code: 'store.unavailable' });
    expect(closed.text).not.toMatch(/limiter backend down/);
    const reported: unknown[] = [];
    const open = rateLimit({
      limiter: new BrokenLimiter(),
      onFailure: 'open',
      onLimiterError: (error) => reported.push(error),
    });
    await request(appWith(open)).post('/login').expect(200);
    expect(reported).toHaveLength(1);
  });
});
