import { MemoryStore, SessionManager } from '@sessionkit/core';
import { describe, expect, it } from 'vitest';
import { Auditor, IpHasher, MemoryLedger, redactJson, redactText } from '../src/index.js';
import { collectingSink } from './support/collecting-sink.js';
import { integrityKeys, ipKeys } from './support/keys.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

describe('IP addresses', () => {
  it('are stored only as HMAC-SHA-256 under a key id, never in the clear or as a plain hash', () => {
    const hasher = new IpHasher({ keys: ipKeys });
    const info = hasher.fromAddress('203.0.113.7');
    expect(info).toEqual({
      hash: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      keyId: 'ip-2026-01',
      source: 'request',
    });
    expect(JSON.stringify(info)).not.toContain('203.0.113');
    // Same address, same hash (so "same network as before" still works); other key, other hash.
    expect(hasher.fromAddress('203.0.113.7')?.hash).toBe(info?.hash);
    const other = new IpHasher({
      keys: { currentKeyId: 'k', keys: { k: 'another-key-0123456789abcdef0123456789' } },
    });
    expect(other.fromAddress('203.0.113.7')?.hash).not.toBe(info?.hash);
  });

  it('normalise equivalent spellings and keep a coarse prefix only when configured', () => {
    const hasher = new IpHasher({ keys: ipKeys, keepPrefix: true });
    expect(hasher.fromAddress('::ffff:203.0.113.7')?.hash).toBe(hasher.fromAddress('203.0.113.7')?.hash);
    expect(hasher.fromAddress('2001:DB8:1:2::7')?.hash).toBe(
      hasher.fromAddress('2001:db8:1:2:0:0:0:7')?.hash,
    );
    expect(hasher.fromAddress('203.0.113.7')?.prefix).toBe('203.0.113.0/24');
    expect(hasher.fromAddress('2001:db8:abcd:12::1')?.prefix).toBe('2001:db8:abcd::/48');
    expect(new IpHasher({ keys: ipKeys }).fromAddress('203.0.113.7')?.prefix).toBeUndefined();
    expect(hasher.fromAddress('not an address')).toBeUndefined();
  });

  it('rotate: new records use the new key, old hashes stay findable through every key in the ring', () => {
    const before = new IpHasher({ keys: ipKeys });
    const rotated = new IpHasher({
      keys: {
        currentKeyId: 'ip-2026-07',
        keys: { ...ipKeys.keys, 'ip-2026-07': 'rotated-key-0123456789abcdef0123456789ab' },
      },
    });
    const old = before.fromAddress('198.51.100.9');
    const fresh = rotated.fromAddress('198.51.100.9');
    expect(fresh?.keyId).toBe('ip-2026-07');
    expect(fresh?.hash).not.toBe(old?.hash);
    expect(rotated.digests('198.51.100.9')).toEqual(
      expect.arrayContaining([
        { keyId: 'ip-2026-01', hash: old?.hash },
        { keyId: 'ip-2026-07', hash: fresh?.hash },
      ]),
    );
  });
});

describe('redaction', () => {
  it('removes JWTs, our session, refresh and transfer tokens, bearer values, passwords, secrets and emails', () => {
    const sessionToken = `${'A'.repeat(22)}.${'b'.repeat(43)}`;
    const refreshTail = `.00000000002a.${'M'.repeat(22)}`;
    const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl';
    const text = [
      `token ${sessionToken}`,
      `refresh rt_${sessionToken}`,
      `rotated refresh rt_${sessionToken}${refreshTail}, then`,
      `transfer tc_${'x'.repeat(30)}`,
      `Authorization: Bearer ${jwt}`,
      'authorization: Bearer opaque-api-value-123',
      `jwt=${jwt}`,
      'password=hunter2 secret: s3cr3t api_key=AKIA123',
      'contact alice.smith+tag@example.co.uk now',
    ].join('\n');
    const redacted = redactText(text);
    for (const leaked of [
      sessionToken,
      jwt,
      'hunter2',
      's3cr3t',
      'AKIA123',
      'alice.smith',
      'xxxxxxxx',
      'opaque-api-value',
      refreshTail,
    ]) {
      expect(redacted).not.toContain(leaked);
    }
    expect(redacted).toContain('rotated refresh [token], then');
    expect(redacted).toContain('[token]');
    expect(redacted).toContain('[email]');
    expect(redacted).toContain('Bearer [redacted]');
    // SQL text columns refuse NUL; it never reaches a sink.
    expect(redactText('plain\u0000word')).toBe('plainword');
    expect(redactText('request-42')).toBe('request-42');
  });

  it('blanks values under secret-looking keys at any depth and leaves ordinary values alone', () => {
    expect(
      redactJson({
        limiter: 'login',
        nested: { password: 'hunter2', refreshToken: 'anything', otp: '123456', footprint: 'kept' },
        list: ['bob@example.org', 42],
      }),
    ).toEqual({
      limiter: 'login',
      nested: { password: '[redacted]', refreshToken: '[redacted]', otp: '[redacted]', footprint: 'kept' },
      list: ['[email]', 42],
    });
  });
});

describe('what the auditor writes', () => {
  it('holds no raw IP, user agent, token or email; parses the agent to browser, OS and device type', async () => {
    const sink = collectingSink();
    const auditor = new Auditor({
      ledger: new MemoryLedger({ keys: integrityKeys }),
      sinks: [sink],
      ip: { keys: ipKeys, keepPrefix: true },
    });
    const manager = new SessionManager({ store: new MemoryStore() });
    auditor.attach(manager.events);
    const issued = await manager.create({
      userId: 'u1',
      deviceLabel: 'carol@example.com laptop',
      context: { ip: '203.0.113.7', userAgent: FIREFOX, requestId: 'req-1' },
    });
    auditor.record('auth.login_failed', {
      userId: 'u1',
      ip: '198.51.100.23',
      userAgent: IPHONE,
      reason: `bad password for carol@example.com, token ${issued.token}`,
      details: { method: 'password', password: 'hunter2', note: `refresh ${issued.refreshToken}` },
    });
    await auditor.flush();
    const written = JSON.stringify(sink.records);
    for (const leaked of [
      '203.0.113.7',
      '198.51.100.23',
      FIREFOX,
      IPHONE,
      issued.token,
      'hunter2',
      'carol@example.com',
    ]) {
      expect(written).not.toContain(leaked);
    }
    const [created, failed] = sink.records;
    expect(created).toMatchObject({
      action: 'session.created',
      requestId: 'req-1',
      ip: { source: 'engine', keyId: 'ip-2026-01' },
      device: { browser: 'Firefox 128', os: 'Linux', type: 'desktop', label: '[email] laptop' },
    });
    expect(created?.ip?.prefix).toBeUndefined();
    expect(failed).toMatchObject({
      action: 'auth.login_failed',
      ip: { source: 'request', prefix: '198.51.100.0/24' },
      device: { browser: 'Safari 17', os: 'iOS 17', type: 'mobile' },
      reason: 'bad password for [email], token [token]',
      details: { method: 'password', password: '[redacted]', note: 'refresh [token]' },
    });
    await auditor.close();
  });
});
