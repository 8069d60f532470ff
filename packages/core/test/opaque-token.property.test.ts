import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidTokenError } from '../src/errors.js';
import type { OpaqueTokenKind } from '../src/opaque-token.js';
import { formatToken, joinRefreshToken, newSecret, newSessionId, parseToken } from '../src/opaque-token.js';
import { formatRefreshToken } from '../src/refresh-token.js';

const kinds: OpaqueTokenKind[] = ['session', 'refresh', 'transfer'];
const key = randomBytes(32);

// Rebuilds the text from the parsed fields alone, so a round trip proves the parse kept every field.
function roundTrip(value: unknown, kind: OpaqueTokenKind): string {
  if (kind === 'refresh') return joinRefreshToken(parseToken(value, 'refresh'));
  const parsed = parseToken(value, kind);
  return formatToken(kind, parsed.sessionId, parsed.secret);
}

function mint(kind: OpaqueTokenKind, generation = 0): string {
  return kind === 'refresh'
    ? formatRefreshToken(key, newSessionId(), generation, newSecret())
    : formatToken(kind, newSessionId(), newSecret());
}

function outcome(value: unknown, kind: OpaqueTokenKind): 'valid' | 'invalid' {
  try {
    expect(roundTrip(value, kind)).toBe(value);
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
        fc.nat({ max: 110 }),
        fc.string({ minLength: 1, maxLength: 2 }),
        (kind, at, insert) => {
          const token = mint(kind);
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
        const token = mint(kind);
        expect(outcome(token, kind)).toBe('valid');
        if (other !== kind) expect(outcome(token, other)).toBe('invalid');
      }),
      { numRuns: 500 },
    );
  });

  it('a refresh token carries any generation up to 2^48 - 1 and parses it back', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (generation) => {
        const token = mint('refresh', generation);
        expect(token).toHaveLength(105);
        expect(parseToken(token, 'refresh').generation).toBe(generation);
      }),
      { numRuns: 1000 },
    );
  });
});
