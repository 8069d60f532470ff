import type { RateLimiter, RateLimitResult } from '@sessionkit/core';
import { ManualClock } from '@sessionkit/core';
import { MemoryRateLimiter } from '@sessionkit/security';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { problemHandler, rateLimit } from '../src/index.js';

/** A limiter whose backend is gone and which says so by throwing (as a third-party limiter may). */
class BrokenLimiter implements RateLimiter {
  async consume(): Promise<RateLimitResult> {
    throw new Error('limiter backend down');
  }
}

const limiterOf = (limit: number) =>
  new MemoryRateLimiter({ rule: { name: 'login', scope: 'ip', limit, windowMs: 60_000 } });

function appWith(middleware: express.RequestHandler, app = express()) {
  app.post('/login', middleware, (_req, res) => {
    res.json({ ok: true });
  });
  app.use(problemHandler());
  return app;
}

describe('rate-limit middleware', () => {
  it('sends RateLimit-Reset as delta seconds to the reset, and Retry-After only on refusal', async () => {
    const clock = new ManualClock(Date.now());
    const limiter = new MemoryRateLimiter({
      rule: { name: 'api', scope: 'ip', limit: 1, windowMs: 30_000 },
      clock,
    });
    const app = appWith(rateLimit({ limiter, now: () => clock.now() }));
    const allowed = await request(app).post('/login').expect(200);
    expect(allowed.headers).toMatchObject({
      'ratelimit-limit': '1',
      'ratelimit-remaining': '0',
      'ratelimit-reset': '30',
    });
    expect(allowed.headers['retry-after']).toBeUndefined();
    clock.advance(10_000);
    const refused = await request(app).post('/login').expect(429);
    expect(refused.headers).toMatchObject({ 'ratelimit-reset': '20', 'retry-after': '20' });
    expect(refused.body).toMatchObject({ code: 'rate.limited', details: { retryAfterMs: 20_000 } });
  });

  it('keys by client IP honouring trust proxy, or by any key the app picks', async () => {
    const limiter = limiterOf(1);
    const proxied = express();
    proxied.set('trust proxy', 'loopback');
    const app = appWith(rateLimit({ limiter }), proxied);
    await request(app).post('/login').set('x-forwarded-for', '203.0.113.1').expect(200);
    await request(app).post('/login').set('x-forwarded-for', '203.0.113.1').expect(429);
    await request(app).post('/login').set('x-forwarded-for', '203.0.113.2').expect(200);
    const byHeader = appWith(rateLimit({ limiter: limiterOf(1), key: (req) => req.get('x-user') }));
    await request(byHeader).post('/login').set('x-user', 'a').expect(200);
    await request(byHeader).post('/login').set('x-user', 'a').expect(429);
    await request(byHeader).post('/login').expect(200);
    await request(byHeader).post('/login').expect(200);
  });

  it('keys an IPv6 client by its /64: rotating addresses inside it shares one budget', async () => {
    const proxied = express();
    proxied.set('trust proxy', 'loopback');
    const app = appWith(rateLimit({ limiter: limiterOf(4) }), proxied);
    const statuses: number[] = [];
    for (let host = 1; host <= 16; host += 1) {
      const ip = `2001:db8:7:42:${host.toString(16)}:${((host * 7919) % 65_536).toString(16)}::${host.toString(16)}`;
      statuses.push((await request(app).post('/login').set('x-forwarded-for', ip)).status);
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(4);
    expect(statuses.slice(4).every((status) => status === 429)).toBe(true);
    // The same /64 spelt another way, and as an IPv4-mapped address: the same client, still refused.
    await request(app).post('/login').set('x-forwarded-for', '2001:0db8:0007:0042::1').expect(429);
    await request(app).post('/login').set('x-forwarded-for', '2001:db8:7:43::1').expect(200);
    const mapped = appWith(rateLimit({ limiter: limiterOf(1) }), express().set('trust proxy', 'loopback'));
    await request(mapped).post('/login').set('x-forwarded-for', '203.0.113.9').expect(200);
    await request(mapped).post('/login').set('x-forwarded-for', '::ffff:203.0.113.9').expect(429);
  });

  it('takes the prefix length from the options: /48 groups subnets, /128 counts each address', async () => {
    const wide = appWith(
      rateLimit({ limiter: limiterOf(1), network: { ipv6PrefixBits: 48 } }),
      express().set('trust proxy', 'loopback'),
    );
    await request(wide).post('/login').set('x-forwarded-for', '2001:db8:7:1::1').expect(200);
    await request(wide).post('/login').set('x-forwarded-for', '2001:db8:7:2::1').expect(429);
    const exact = appWith(
      rateLimit({ limiter: limiterOf(1), network: { ipv6PrefixBits: 128 } }),
      express().set('trust proxy', 'loopback'),
    );
    await request(exact).post('/login').set('x-forwarded-for', '2001:db8:7:1::1').expect(200);
    await request(exact).post('/login').set('x-forwarded-for', '2001:db8:7:1::2').expect(200);
    expect(() => rateLimit({ limiter: limiterOf(1), network: { ipv6PrefixBits: 129 } })).toThrow(
      expect.objectContaining({ code: 'input.invalid' }),
    );
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
