import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../src/errors.js';
import type { OpaqueTokenKind } from '../src/opaque-token.js';
import { formatToken, newSecret, newSessionId, parseToken } from '../src/opaque-token.js';

const kinds: OpaqueTokenKind[] = ['session', 'refresh', 'transfer'];

function outcome(value: unknown, kind: OpaqueTokenKind): 'valid' | 'invalid' {
  try {
    const parsed = parseToken(value, kind);
    expect(formatToken(kind, parsed.sessionId, parsed.secret)).toBe(value);
    return 'valid';
  } catch (error) {
    // Any other error class escaping the parser is a bug the property must catch.
    expect(error).toBeInstanceOf(InvalidTokenError);
    return 'invalid';
  }
}

describe('token parser properties', () => {
  it('any string yields a typed error or a valid result, never another throw', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.constantFrom(...kinds), (value, kind) => {
        outcome(value, kind);
      }),
      { numRuns: 5000 },
    );
  });

  it('any JSON-ish value yields a typed error or a valid result', () => {
    fc.assert(
      fc.property(fc.anything(), fc.constantFrom(...kinds), (value, kind) => {
        outcome(value, kind);
      }),
      { numRuns: 2000 },
    );
  });

  it('near-miss mutations of real tokens are rejected unless they stay well formed', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        fc.nat({ max: 70 }),
        fc.string({ minLength: 1, maxLength: 2 }),
        (kind, at, insert) => {
          const token = formatToken(kind, newSessionId(), newSecret());
          const mutated = token.slice(0, at) + insert + token.slice(at);
          expect(outcome(mutated, kind)).toBe('invalid');
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('round-trips every minted token and refuses it as another kind', () => {
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.constantFrom(...kinds), (kind, other) => {
        const token = formatToken(kind, newSessionId(), newSecret());
        expect(outcome(token, kind)).toBe('valid');
        if (other !== kind) expect(outcome(token, other)).toBe('invalid');
      }),
      { numRuns: 500 },
    );
  });
});
