import { describe, expect, it } from 'vitest';
import { secureSessionId, secureSessionResponse, skippedReason } from '../src/dbsc-headers.js';

const ID = 'AbCdEfGhIjKlMnOpQrStUv';
const JWS = 'eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJjdiJ9.c2ln';

describe('DBSC structured headers', () => {
  it('reads Sec-Secure-Session-Id as the draft sf-string and as the bare value Chromium sends', () => {
    expect(secureSessionId(`"${ID}"`)).toBe(ID);
    expect(secureSessionId(`"${ID}";foo=1`)).toBe(ID);
    expect(secureSessionId(ID)).toBe(ID);
    for (const bad of [
      undefined,
      '',
      '""',
      '"a b"',
      '"unterminated',
      'a,b',
      `"${'a'.repeat(129)}"`,
      '"\\q"',
    ]) {
      expect(secureSessionId(bad)).toBeUndefined();
    }
  });

  it('reads Secure-Session-Response quoted or bare, and nothing that is not a compact JWS', () => {
    expect(secureSessionResponse(`"${JWS}"`)).toBe(JWS);
    expect(secureSessionResponse(JWS)).toBe(JWS);
    for (const bad of [undefined, '"a.b"', 'a.b.c.d', `"${JWS}`, `${'a'.repeat(9000)}.b.c`]) {
      expect(secureSessionResponse(bad)).toBeUndefined();
    }
  });

  it('finds the skip reason given for one session in a Secure-Session-Skipped list', () => {
    const header = `unreachable;session_identifier="123", quota_exceeded;session_identifier="${ID}"`;
    expect(skippedReason(header, ID)).toBe('quota_exceeded');
    expect(skippedReason(header, '123')).toBe('unreachable');
    expect(skippedReason(header, 'other')).toBeUndefined();
    expect(skippedReason(`server_error;session_identifier="a\\"b"`, 'a"b')).toBe('server_error');
  });

  it('ignores unknown reasons and malformed lists instead of failing', () => {
    for (const bad of [
      undefined,
      '',
      `made_up;session_identifier="${ID}"`,
      `unreachable;session_identifier=${ID}`,
      `unreachable;session_identifier="${ID}`,
      `"string";session_identifier="${ID}"`,
      `unreachable, ,;session_identifier="${ID}"`,
      `unreachable;session_identifier="${ID}"${' '.repeat(9000)}`,
    ]) {
      expect(skippedReason(bad, ID)).toBeUndefined();
    }
  });
});
