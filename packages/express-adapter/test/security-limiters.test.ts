import type { RateLimiter } from '@sessionkit/core';
import { ManualClock, randomToken } from '@sessionkit/core';
import { MemoryRateLimiter, RedisRateLimiter } from '@sessionkit/security';
import express from 'express';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemHandler, rateLimit } from '../src/index.js';

const rule = { name: 'login', scope: 'ip', limit: 3, windowMs: 60_000 } as const;

function appWith(limiter: RateLimiter, clock: ManualClock) {
  const app = express();
  app.post('/login', rateLimit({ limiter, now: () => clock.now() }), (_req, res) => {
    res.json({ ok: true });
  });
  app.use(problemHandler());
  return app;
}

/** The limit holds, the headers count down and the refusal says when to come back. */
async function exercise(app: express.Express) {
  const answers = [];
  for (let i = 0; i < 4; i += 1) answers.push(await request(app).post('/login'));
  expect(answers.map((res) => res.status)).toEqual([200, 200, 200, 429]);
  expect(answers.map((res) => res.headers['ratelimit-remaining'])).toEqual(['2', '1', '0', '0']);
  for (const res of answers) expect(res.headers['ratelimit-limit']).toBe('3');
  const refused = answers[3];
  const retryAfter = Number(refused?.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(20);
  expect(refused?.body).toMatchObject({ code: 'rate.limited', status: 429 });
  return retryAfter;
}

describe('rate-limit middleware with @sessionkit/security limiters', () => {
  let redis: Redis;
  const prefix = `sk-express-rl-${randomToken(6)}:`;

  beforeAll(async () => {
    redis = new Redis({ host: '127.0.0.1', port: 6379, enableOfflineQueue: false, lazyConnect: true });
    await redis.connect();
  });

  afterAll(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    await redis.quit();
  });

  it('MemoryRateLimiter: 429 after the limit, allowed again once Retry-After has passed', async () => {
    const clock = new ManualClock(Date.now());
    const app = appWith(new MemoryRateLimiter({ rule, clock }), clock);
    const retryAfter = await exercise(app);
    clock.advance(retryAfter * 1000);
    await request(app).post('/login').expect(200);
  });

  it('RedisRateLimiter on 127.0.0.1:6379: the same budget, shared by two app instances', async () => {
    const clock = new ManualClock(Date.now());
    const limiter = () => new RedisRateLimiter({ redis, rule, prefix, clock });
    const first = appWith(limiter(), clock);
    const second = appWith(limiter(), clock);
    await request(first).post('/login').expect(200);
    await request(second).post('/login').expect(200);
    await request(first).post('/login').expect(200);
    const refused = await request(second).post('/login').expect(429);
    expect(refused.headers['retry-after']).toBeDefined();
  });

  it('a fail-closed RedisRateLimiter whose Redis cannot be reached answers 503, not 429', async () => {
    const unreachable = new Redis({
      host: '127.0.0.1',
      port: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    unreachable.on('error', () => {});
    const clock = new ManualClock(Date.now());
    const limiter = new RedisRateLimiter({ redis: unreachable, prefix, rule, timeoutMs: 100 });
    const answer = await request(appWith(limiter, clock)).post('/login');
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ code: 'store.unavailable', status: 503 });
    unreachable.disconnect();
  });
});
