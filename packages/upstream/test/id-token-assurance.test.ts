import { describe, expect, it } from 'vitest';
import { idTokenAssurance } from '../src/index.js';
import { codeOf } from './helpers.js';

const base = { sub: 'u1', iss: 'https://idp.example', aud: 'app', iat: 1, exp: 2 };

describe('idTokenAssurance', () => {
  it('trusts an email only when email_verified is the boolean true', () => {
    const email = 'bob@example.com';
    expect(idTokenAssurance({ ...base, email, email_verified: true })).toMatchObject({
      email,
      emailVerified: true,
    });
    for (const verified of [undefined, false, 'true', 1, null, {}]) {
      const claims =
        verified === undefined ? { ...base, email } : { ...base, email, email_verified: verified };
      expect([verified, idTokenAssurance(claims)]).toEqual([
        verified,
        { email, emailVerified: false, aal: 1 },
      ]);
    }
  });

  it('ignores a malformed email, verified or not', () => {
    for (const email of ['not-an-address', 42, ['bob@example.com'], `${'x'.repeat(250)}@example.com`]) {
      expect(idTokenAssurance({ ...base, email, email_verified: true })).toEqual({
        email: undefined,
        emailVerified: false,
        aal: 1,
      });
    }
    expect(idTokenAssurance(base)).toEqual({ email: undefined, emailVerified: false, aal: 1 });
  });

  it('reads AAL 2 from an RFC 8176 second-factor amr value', () => {
    for (const amr of [['mfa'], ['pwd', 'otp'], ['hwk', 'user'], ['swk', 'pin']]) {
      expect([amr, idTokenAssurance({ ...base, amr }).aal]).toEqual([amr, 2]);
    }
    for (const amr of [['pwd'], [], ['pwd', 'kba'], 'mfa', [['mfa']], [42]]) {
      expect([amr, idTokenAssurance({ ...base, amr }).aal]).toEqual([amr, 1]);
    }
  });

  it('reads AAL 2 from an acr only when the app names it, and lets the app choose its amr values', () => {
    const acr = 'urn:example:acr:mfa';
    expect(idTokenAssurance({ ...base, acr }).aal).toBe(1);
    expect(idTokenAssurance({ ...base, acr }, { aal2Acr: [acr] }).aal).toBe(2);
    expect(idTokenAssurance({ ...base, acr: 'urn:example:acr:pwd' }, { aal2Acr: [acr] }).aal).toBe(1);
    expect(idTokenAssurance({ ...base, acr: [acr] }, { aal2Acr: [acr] }).aal).toBe(1);
    expect(idTokenAssurance({ ...base, amr: ['otp'] }, { secondFactorAmr: ['hwk'] }).aal).toBe(1);
    expect(idTokenAssurance({ ...base, amr: ['hwk'] }, { secondFactorAmr: ['hwk'] }).aal).toBe(2);
  });

  it('reads auth_time in ms when it is a whole number of seconds, and nothing otherwise', () => {
    expect(idTokenAssurance({ ...base, auth_time: 1_700_000_000 }).authenticatedAt).toBe(1_700_000_000_000);
    for (const authTime of [undefined, -1, 1.5, '1700000000', null]) {
      expect([authTime, idTokenAssurance({ ...base, auth_time: authTime }).authenticatedAt]).toEqual([
        authTime,
        undefined,
      ]);
    }
  });

  it('refuses malformed options with input.invalid', async () => {
    expect(await codeOf((async () => idTokenAssurance(base, { aal2Acr: [''] }))())).toBe('input.invalid');
  });
});
