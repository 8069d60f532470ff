/**
 * The embedded wiring (one process, no Redis): rate limits and lockout in front of the password check, the
 * risk engine inside core's validation. Run: node embedded-login.js
 * For many instances swap the Memory* classes for RedisRateLimiter, RedisLockoutStore, RedisProfileStore and
 * RedisEventLog (or KyselyProfileStore) on a shared ioredis connection: nothing else changes.
 */
import { randomBytes } from 'node:crypto';
import { MemoryStore, SessionKitError, SessionManager } from '@sessionkit/core';
import {
  BruteForceGuard,
  clientNetwork,
  deviceFingerprint,
  fingerprintInputFromHeaders,
  MemoryEventLog,
  MemoryLockoutStore,
  MemoryProfileStore,
  MemoryRateLimiter,
  RequestRateLimits,
  RiskEngine,
} from '@sessionkit/security';

const events = new MemoryEventLog();
const risk = new RiskEngine({
  profiles: new MemoryProfileStore(),
  networkHashKey: randomBytes(32).toString('base64url'),
  events,
  // Your GeoIP/ASN lookup goes here (e.g. a MaxMind reader); this demo knows two documentation ranges.
  resolveNetwork: (ip) =>
    ip.startsWith('203.0.113.') ? { asn: 64500, country: 'DE' } : { asn: 64511, country: 'BR' },
});
const manager = new SessionManager({ store: new MemoryStore(), assessors: [risk] });
risk.observe(manager.events);

const loginLimits = new RequestRateLimits([
  new MemoryRateLimiter({ rule: { name: 'login-ip', scope: 'ip', limit: 20, windowMs: 60_000 } }),
  new MemoryRateLimiter({
    rule: { name: 'login-user-ip', scope: 'user-ip', limit: 10, windowMs: 60_000, blockMs: 300_000 },
  }),
]);
const guard = new BruteForceGuard({ store: new MemoryLockoutStore(), events });

async function login(email: string, password: string, ip: string, headers: Record<string, string>) {
  // One client is one network: an IPv6 /64 counts once, whichever of its addresses it uses.
  const ipHash = manager.hashIp(clientNetwork(ip));
  const fingerprint = deviceFingerprint(fingerprintInputFromHeaders(headers));
  await loginLimits.enforce({ ipHash, userId: email });
  // A real app passes `knownDevice: true` for a browser presenting a signed device cookie issued to this
  // account on an earlier login (see the README): it passes the account-wide lock a botnet can trip.
  await guard.assertAllowed({ userId: email, ipHash });
  if (password !== 'correct horse battery staple') {
    await guard.recordFailure({ userId: email, ipHash });
    await risk.recordFailure(email, Date.now());
    throw new Error('bad credentials');
  }
  await guard.recordSuccess({ userId: email, ipHash });
  await loginLimits.reset({ ipHash, userId: email }, ['user-ip']);
  const context = { ip, userAgent: headers['user-agent'], fingerprint };
  await risk.trust(email, context, Date.now());
  return manager.create({ userId: email, context });
}

const laptop = {
  'user-agent':
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'accept-language': 'de-DE,de;q=0.9',
  'sec-ch-ua-platform': '"Windows"',
  'sec-ch-ua-mobile': '?0',
};
const phone = {
  'user-agent':
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'accept-language': 'pt-BR',
};

for (let i = 1; i <= 7; i += 1) {
  try {
    await login('ada@example.com', 'guess', '198.51.100.7', phone);
  } catch (error) {
    const code =
      error instanceof SessionKitError
        ? `${error.code} (${error.details.retryAfterMs} ms)`
        : 'bad credentials';
    console.log(`attacker attempt ${i}: ${code}`);
  }
}
const issued = await login('ada@example.com', 'correct horse battery staple', '203.0.113.10', laptop);
console.log('ada signs in from her laptop: session', issued.session.id);

const ok = await manager.validate(issued.token, {
  tier: 'full',
  context: {
    ip: '203.0.113.10',
    userAgent: laptop['user-agent'],
    fingerprint: deviceFingerprint(fingerprintInputFromHeaders(laptop)),
  },
});
console.log('ada, next request:', ok.warnings.length === 0 ? 'allowed' : ok.warnings);

try {
  await manager.validate(issued.token, {
    tier: 'full',
    context: {
      ip: '198.51.100.7',
      userAgent: phone['user-agent'],
      fingerprint: deviceFingerprint(fingerprintInputFromHeaders(phone)),
    },
  });
} catch (error) {
  console.log(
    'stolen cookie replayed from the attacker phone:',
    error instanceof SessionKitError ? error.code : error,
  );
}
console.log('session state now:', (await manager.get(issued.session.id))?.state);
const summary = await events.summarizeUser('ada@example.com', { now: Date.now() });
console.log(
  'security summary:',
  JSON.stringify({ riskySessions: summary.riskySessions, events: summary.recentEvents.length }),
);
