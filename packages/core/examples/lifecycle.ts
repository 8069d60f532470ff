/**
 * The whole lifecycle on the in-memory store: create, validate, refresh, step up, detect refresh-token theft,
 * revoke. Run: `node lifecycle.js` (compiled) or `npx tsx lifecycle.ts`.
 */
import {
  AccessTokenKeyRing,
  MemoryStore,
  SessionKitError,
  SessionManager,
  systemClock,
} from '@sessionkit/core';

const accessTokens = await AccessTokenKeyRing.generate({
  issuer: 'https://example.test',
  audience: 'example-api',
  ttlMs: 5 * 60_000,
  clock: systemClock,
});
const manager = new SessionManager({
  store: new MemoryStore(),
  accessTokens,
  config: { maxSessionsPerUser: 5 },
});
manager.events.subscribe((event) => console.log(`  event: ${event.type}`));
await manager.start();

const context = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' };
console.log('1. create');
const login = await manager.create({ userId: 'alice', deviceLabel: 'Firefox on Linux', context });
console.log(`   session ${login.session.id}, token ${login.token.slice(0, 10)}…`);

console.log('2. validate (full tier: one store read) and (fast tier: the access token, no store read)');
const full = await manager.validate(login.token, { context });
const fast = await manager.validate(login.accessToken, { tier: 'fast' });
console.log(`   full: user ${full.userId} aal ${full.aal} via ${full.source}; fast: via ${fast.source}`);

console.log('3. refresh: the refresh token rotates');
const refreshed = await manager.refresh(login.refreshToken, { context });
console.log(`   new refresh token differs: ${refreshed.refreshToken !== login.refreshToken}`);

console.log('4. step up to AAL 2: the session, refresh and access tokens are all re-issued');
const stepped = await manager.stepUp(login.session.id, { aal: 2, context });
console.log(
  `   old token still valid? ${await manager.validate(login.token).then(
    () => true,
    () => false,
  )}`,
);
await manager.validate(stepped.token, { requiredAal: 2, maxAuthAgeMs: 15 * 60_000 });

console.log('5. the user refreshes with the new token; a thief then replays a refresh token from before');
await manager.refresh(stepped.refreshToken, { context });
await manager.refresh(login.refreshToken).catch((error: unknown) => {
  if (error instanceof SessionKitError) console.log(`   rejected: ${error.code}`);
});
console.log(`   session now: ${(await manager.get(login.session.id))?.state}`);

console.log('6. a new login, then revoke it');
const second = await manager.create({ userId: 'alice', context });
await manager.revoke(second.session.id, { reason: 'logout', by: 'user' });
await manager.validate(second.token).catch((error: unknown) => {
  if (error instanceof SessionKitError) console.log(`   rejected: ${error.code}`);
});
console.log(`7. alice's sessions: ${JSON.stringify(await manager.stats('alice'))}`);
await manager.close();
