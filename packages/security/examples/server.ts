/**
 * Login protection for an Express 5 app running as many instances on one Redis: rate limits and lockout in
 * front of the password check, a risk engine inside every session validation, security events per user.
 *
 *   SESSIONKIT_SECRET=$(openssl rand -base64 32) NETWORK_HASH_KEY=$(openssl rand -base64 32) node server.js
 */
import { parseInput, SessionManager } from '@sessionkit/core';
import {
  csrfProtection,
  endSession,
  establishSession,
  problemHandler,
  requestContext,
  requireSession,
  sessionMiddleware,
  sessionOf,
} from '@sessionkit/express';
import {
  BruteForceGuard,
  clientNetwork,
  RedisEventLog,
  RedisLockoutStore,
  RedisProfileStore,
  RedisRateLimiter,
  RequestRateLimits,
  RiskEngine,
} from '@sessionkit/security';
import { RedisStore } from '@sessionkit/storage-redis';
import express from 'express';
import { Redis } from 'ioredis';
import { z } from 'zod';

const env = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    REDIS_URL: z.string().default('redis://127.0.0.1:6379'),
    REDIS_PREFIX: z.string().default('myapp'),
    // Both the same on every instance, ≥ 32 chars.
    SESSIONKIT_SECRET: z.string().min(32),
    NETWORK_HASH_KEY: z.string().min(32),
  })
  .parse(process.env);

// maxRetriesPerRequest: 1 — a Redis outage fails a login in time (503) instead of queueing it.
const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 1 });
redis.on('error', (error) => console.warn(`redis: ${error.message}`)); // never crash on a Redis error
const prefix = `${env.REDIS_PREFIX}:`;
const events = new RedisEventLog({ redis, prefix });

const risk = new RiskEngine({
  profiles: new RedisProfileStore({ redis, prefix }),
  networkHashKey: env.NETWORK_HASH_KEY,
  events,
  // Your GeoIP/ASN lookup goes here (e.g. a MaxMind reader): ({ asn, country, latitude, longitude }).
  onDegraded: (event) => console.error('security store degraded', event),
});
const store = new RedisStore({ client: redis, prefix: `${env.REDIS_PREFIX}-sessions` });
const manager = new SessionManager({
  store,
  config: { secret: env.SESSIONKIT_SECRET },
  assessors: [risk], // a hijacked session is revoked on its next full validation
});
risk.observe(manager.events); // refresh-token reuse feeds the `token.reuse` signal
await manager.start();

const loginLimits = new RequestRateLimits([
  new RedisRateLimiter({
    redis,
    prefix,
    rule: { name: 'login-ip', scope: 'ip', limit: 30, windowMs: 60_000 },
  }),
  new RedisRateLimiter({
    redis,
    prefix,
    rule: { name: 'login-user-ip', scope: 'user-ip', limit: 10, windowMs: 60_000, blockMs: 300_000 },
  }),
]);
const guard = new BruteForceGuard({ store: new RedisLockoutStore({ redis, prefix }), events });

// Stands in for your user table and password hashing.
const passwords = new Map([['ada@example.com', 'correct horse battery staple']]);
const loginBody = z.object({ email: z.string().max(254), password: z.string().max(1024) });

const app = express();
app.use(sessionMiddleware({ manager }), express.json(), csrfProtection());
app.post('/login', async (req, res) => {
  const { email, password } = parseInput(loginBody, req.body, 'login body');
  const context = requestContext(req);
  const ipHash = manager.hashIp(clientNetwork(context.ip ?? '')); // one IPv6 /64 is one client
  await loginLimits.enforce({ ipHash, userId: email }); // rate.limited → 429 with Retry-After
  await guard.assertAllowed({ userId: email, ipHash });
  if (passwords.get(email) !== password) {
    await guard.recordFailure({ userId: email, ipHash });
    await risk.recordFailure(email, Date.now());
    res.status(401).json({ error: 'bad credentials' });
    return;
  }
  await guard.recordSuccess({ userId: email, ipHash });
  await loginLimits.reset({ ipHash, userId: email }, ['user-ip']); // count consecutive failures, not logins
  await risk.trust(email, context, Date.now());
  const { session } = await establishSession(req, res, { userId: email });
  res.json({ session });
});
app.get('/me', requireSession(), async (req, res) => {
  const { userId } = sessionOf(req);
  const summary = await events.summarizeUser(userId, { now: Date.now() });
  res.json({ userId, recentSecurityEvents: summary.recentEvents.length });
});
app.post('/logout', async (req, res) => {
  await endSession(req, res);
  res.status(204).end();
});
app.use(problemHandler());

const server = app.listen(env.PORT, () => console.log(`listening on http://localhost:${env.PORT}`));
process.once('SIGTERM', () => {
  server.close(async () => {
    await manager.close();
    await store.close();
    await redis.quit();
  });
});
