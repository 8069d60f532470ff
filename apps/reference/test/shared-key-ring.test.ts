import { AccessTokenKeyRing, ManualClock } from '@sessionkit/core';
import { newSessionId } from '@sessionkit/core/store';
import { generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { SharedKeyRing } from '../src/shared-key-ring.js';
import { forgeAccessToken } from './secrets-helpers.js';

const subject = { userId: 'alice', sessionId: newSessionId(), aal: 1 as const, authenticatedAt: 0 };

describe('SharedKeyRing', () => {
  it('reloads once for a key id it does not know, at most once per interval, never for a known one', async () => {
    const clock = new ManualClock(Date.now());
    const options = {
      issuer: 'sessionkit-reference',
      audience: 'sessionkit-reference',
      ttlMs: 300_000,
      clock,
    };
    // Stands for the shared table: another instance rotates it.
    const shared = await AccessTokenKeyRing.generate(options);
    let reloads = 0;
    const ring: SharedKeyRing = new SharedKeyRing(
      options,
      async () => {
        reloads += 1;
        await ring.load(await shared.exportPrivateJwks());
      },
      10_000,
    );
    await ring.load(await shared.exportPrivateJwks());

    await shared.rotate();
    const { token } = await shared.sign(subject);
    await expect(ring.verify(token)).resolves.toMatchObject({ sub: 'alice' });
    expect(reloads).toBe(1);
    expect(ring.signingKey.kid).toBe(shared.signingKey.kid);

    const attacker = await generateKeyPair('EdDSA');
    const madeUp = (kid: string) =>
      forgeAccessToken({
        key: attacker.privateKey,
        alg: 'EdDSA',
        kid,
        sub: 'alice',
        sid: subject.sessionId,
        now: clock.now(),
      });
    await expect(ring.verify(await madeUp('made-up-1'))).rejects.toMatchObject({ code: 'token.invalid' });
    expect(reloads).toBe(1);
    clock.advance(10_000);
    await expect(ring.verify(await madeUp(ring.signingKey.kid))).rejects.toMatchObject({
      code: 'token.invalid',
    });
    expect(reloads).toBe(1);
    await expect(ring.verify(await madeUp('made-up-2'))).rejects.toMatchObject({ code: 'token.invalid' });
    expect(reloads).toBe(2);
  });
});
