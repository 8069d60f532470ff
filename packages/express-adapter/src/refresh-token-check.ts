import type { SessionManager, SessionRecord } from '@sessionkit/core';
import { digestsEqual } from '@sessionkit/core';
import { hashSecret, isLive, parseToken } from '@sessionkit/core/store';

/**
 * The live session whose current refresh token this is, without rotating it (introspection and revocation
 * must not consume the token). Anything else, including a retired token, is undefined.
 */
export async function sessionOfRefreshToken(
  manager: SessionManager,
  token: string,
  now: number,
): Promise<SessionRecord | undefined> {
  let parsed: { sessionId: string; secret: string };
  try {
    parsed = parseToken(token, 'refresh');
  } catch {
    return undefined;
  }
  const record = await manager.store.get(parsed.sessionId);
  if (!record?.refresh || !isLive(record, now)) return undefined;
  return digestsEqual(record.refresh.currentHash, hashSecret(parsed.secret)) ? record : undefined;
}
