import { hashSecret, newSecret, newSessionId } from '../opaque-token.js';
import type { SessionRecord } from '../session-record.js';
import { randomToken } from '../token-crypto.js';

const HOUR = 3_600_000;

/** A valid record with every field a store must round-trip; ids are random so runs never collide. */
export function sampleRecord(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now();
  return {
    id: newSessionId(),
    userId: `user-${randomToken(9)}`,
    state: 'active',
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: now + HOUR,
    absoluteExpiresAt: now + 12 * HOUR,
    aal: 1,
    authenticatedAt: now,
    secretHash: hashSecret(newSecret()),
    refresh: { familyId: randomToken(16), generation: 0, currentHash: hashSecret(newSecret()) },
    device: { label: 'Firefox on Linux', userAgent: 'Mozilla/5.0', firstIpHash: randomToken(32) },
    version: 1,
    metadata: { plan: 'pro', nested: { list: [1, 'two', null, true] } },
    ...overrides,
  };
}
