import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { MemoryStore } from '../src/memory-store.js';
import { joinRefreshToken, newSecret, parseToken } from '../src/opaque-token.js';
import { formatRefreshToken, verifiedGeneration } from '../src/refresh-token.js';
import { serverKeys } from '../src/server-keys.js';
import { SessionManager } from '../src/session-manager.js';
import { hmacSha256 } from '../src/token-crypto.js';
import { codeOf, eventTypes, harness } from './helpers.js';

const SECRET = 's'.repeat(32);

/** Refreshes `count` times and returns every refresh token the session was given, oldest first. */
async function rotate(manager: SessionManager, first: string, count: number): Promise<string[]> {
  const tokens = [first];
  for (let i = 0; i < count; i += 1) {
    tokens.push((await manager.refresh(tokens[i])).refreshToken);
  }
  return tokens;
}

function instances(secrets: (string | undefined)[]) {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const store = new MemoryStore({ now: () => clock.now() });
  return secrets.map(
    (secret) => new SessionManager({ store, clock, config: secret === undefined ? {} : { secret } }),
  );
}

describe('refresh-token reuse detection', () => {
  it('revokes the session when a token 25 rotations old is replayed, with nothing kept per old token', async () => {
    const { manager, store, events } = await harness({ secret: SECRET });
    const issued = await manager.create({ userId: 'alice' });
    const tokens = await rotate(manager, issued.refreshToken ?? '', 25);
    expect(parseToken(tokens[25], 'refresh').generation).toBe(25);
    expect(Object.keys((await store.get(issued.session.id))?.refresh ?? {}).sort()).toEqual([
      'currentHash',
      'familyId',
      'generation',
      'previousHash',
      'rotatedAt',
      'sealedSuccessor',
    ]);
    expect(await codeOf(manager.refresh(tokens[1]))).toBe('token.reuse_detected');
    expect(eventTypes(events)).toContain('token.reuse_detected');
    expect(await codeOf(manager.validate(issued.token))).toBe('session.revoked');
    expect(await codeOf(manager.refresh(tokens[25]))).toBe('session.revoked');
  });

  it('revokes nothing for a forged token naming an old generation (bad MAC)', async () => {
    const { manager } = await harness({ secret: SECRET });
    const issued = await manager.create({ userId: 'alice' });
    const tokens = await rotate(manager, issued.refreshToken ?? '', 5);
    const sessionId = issued.session.id;
    const forged = joinRefreshToken({ sessionId, secret: newSecret(), generation: 1, mac: 'A'.repeat(22) });
    expect(await codeOf(manager.refresh(forged))).toBe('token.invalid');
    // A real old token with its generation field edited no longer carries a valid MAC either.
    const real = parseToken(tokens[2], 'refresh');
    expect(await codeOf(manager.refresh(joinRefreshToken({ ...real, generation: 1 })))).toBe('token.invalid');
    // The pre-generation format `rt_<id>.<secret>` is not a refresh token any more.
    expect(await codeOf(manager.refresh(`rt_${sessionId}.${newSecret()}`))).toBe('token.invalid');
    await expect(manager.validate(issued.token)).resolves.toBeDefined();
    await expect(manager.refresh(tokens[5])).resolves.toBeDefined();
  });

  it('revokes nothing for a well-formed token minted under another server secret', async () => {
    const { manager } = await harness({ secret: SECRET });
    const issued = await manager.create({ userId: 'alice' });
    const tokens = await rotate(manager, issued.refreshToken ?? '', 3);
    const foreignKey = serverKeys({ secret: 'x'.repeat(32) }).refreshMac;
    const foreign = formatRefreshToken(foreignKey, issued.session.id, 0, newSecret());
    expect(await codeOf(manager.refresh(foreign))).toBe('token.invalid');
    await expect(manager.refresh(tokens[3])).resolves.toBeDefined();
  });

  it('instances sharing `secret` recognise each other’s old tokens', async () => {
    const [a, b] = instances([SECRET, SECRET]) as [SessionManager, SessionManager];
    const issued = await a.create({ userId: 'alice' });
    const first = issued.refreshToken ?? '';
    const second = (await b.refresh(first)).refreshToken;
    const third = (await a.refresh(second)).refreshToken;
    await b.refresh(third);
    expect(await codeOf(b.refresh(first))).toBe('token.reuse_detected');
    expect(await codeOf(a.validate(issued.token))).toBe('session.revoked');
  });

  it('without a shared secret, any instance rotates the current token but only its issuer proves an old one', async () => {
    const [a, b] = instances([undefined, undefined]) as [SessionManager, SessionManager];
    const issued = await a.create({ userId: 'alice' });
    const first = issued.refreshToken ?? '';
    const tokens = await rotate(b, first, 3);
    expect(await codeOf(b.refresh(first))).toBe('token.invalid');
    await expect(a.validate(issued.token)).resolves.toBeDefined();
    expect(await codeOf(a.refresh(first))).toBe('token.reuse_detected');
    expect(await codeOf(b.refresh(tokens[3]))).toBe('session.revoked');
  });

  it('the MAC fails for any change to the id, secret, generation or MAC', async () => {
    const key = serverKeys({ secret: SECRET }).refreshMac;
    const token = formatRefreshToken(key, 'A'.repeat(22), 7, newSecret());
    expect(verifiedGeneration(key, parseToken(token, 'refresh'))).toBe(7);
    for (let at = 3; at < token.length; at += 1) {
      if (token[at] === '.') continue;
      const swapped = token[at] === 'a' ? 'b' : 'a';
      const changed = parseToken(`${token.slice(0, at)}${swapped}${token.slice(at + 1)}`, 'refresh');
      expect(verifiedGeneration(key, changed)).toBeUndefined();
    }
  });
});

describe('the server secret', () => {
  it('must be at least 32 characters', () => {
    expect(() => new SessionManager({ store: new MemoryStore(), config: { secret: 'short' } })).toThrow(
      /secret/,
    );
  });

  it('keys IP hashes when ipHashKey is unset (with a derived key, not itself); ipHashKey still wins', () => {
    const [a, b, other] = instances([SECRET, SECRET, 'o'.repeat(32)]) as SessionManager[];
    const ip = '203.0.113.7';
    expect(a?.hashIp(ip)).toBe(b?.hashIp(ip));
    expect(a?.hashIp(ip)).not.toBe(other?.hashIp(ip));
    expect(a?.hashIp(ip)).not.toBe(hmacSha256(SECRET, ip));
    const explicit = new SessionManager({
      store: new MemoryStore(),
      config: { secret: SECRET, ipHashKey: 'k'.repeat(32) },
    });
    expect(explicit.hashIp(ip)).toBe(hmacSha256('k'.repeat(32), ip));
  });
});
