import { describe, expect, it } from 'vitest';
import { VaultKeyRing } from '../src/index.js';
import { codeOf } from './helpers.js';

describe('vault key ring (AES-256-GCM via WebCrypto)', () => {
  const a = { id: 'a', secret: VaultKeyRing.generateSecret() };
  const b = { id: 'b', secret: VaultKeyRing.generateSecret() };

  it('seals with the current key, opens with any known key, binds the context', async () => {
    const ring = await VaultKeyRing.create({ keys: [a, b], currentKeyId: 'b' });
    expect(ring.keyIds).toEqual(['a', 'b']);
    const sealed = await ring.seal('hello', 'session-1');
    expect(sealed.startsWith('b.')).toBe(true);
    expect(await ring.seal('hello', 'session-1')).not.toBe(sealed);
    expect(await ring.open(sealed, 'session-1')).toEqual({ plaintext: 'hello', keyId: 'b' });
    expect(await codeOf(ring.open(sealed, 'session-2'))).toBe('store.corrupt');
    const onlyA = await VaultKeyRing.create({ keys: [a] });
    expect(await codeOf(onlyA.open(sealed, 'session-1'))).toBe('store.corrupt');
  });

  it('refuses altered and malformed envelopes', async () => {
    const ring = await VaultKeyRing.create({ keys: [a] });
    const [kid, iv, body] = (await ring.seal('secret', 's')).split('.') as [string, string, string];
    const flipped = body.slice(0, -2) + (body.at(-2) === 'A' ? 'B' : 'A') + body.at(-1);
    for (const envelope of [
      `${kid}.${iv}.${flipped}`,
      `${kid}.${iv}`,
      `${kid}.${iv}.${body}.x`,
      `${kid}.AAAA.${body}`,
      `${kid}.${iv}.AAAA`,
      '',
    ]) {
      expect(await codeOf(ring.open(envelope, 's'))).toBe('store.corrupt');
    }
  });

  it('validates its configuration', async () => {
    const cases = [
      { keys: [] },
      { keys: [{ id: 'a', secret: 'short' }] },
      { keys: [a, { ...b, id: 'a' }] },
      { keys: [a], currentKeyId: 'missing' },
      { keys: [{ id: 'not valid!', secret: a.secret }] },
    ];
    for (const input of cases) expect(await codeOf(VaultKeyRing.create(input))).toBe('input.invalid');
  });
});
