import type { SessionManager, SessionRecord, ValidatedSession, ValidateOptions } from '@sessionkit/core';
import { digestsEqual, SessionKitError } from '@sessionkit/core';
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

/**
 * The session a session or access token proves at `tier`, or undefined for a token that proves none. Only a
 * store that cannot answer throws: the OAuth endpoints must then say 503, never "inactive" or "revoked".
 */
export async function sessionOfToken(
  manager: SessionManager,
  token: string,
  tier: ValidateOptions['tier'],
): Promise<ValidatedSession | undefined> {
  try {
    // The calling server's IP and user agent say nothing about the token holder: no context.
    return await manager.validate(token, tier === undefined ? {} : { tier });
  } catch (error) {
    if (
      error instanceof SessionKitError &&
      error.code !== 'store.unavailable' &&
      error.code !== 'store.corrupt'
    ) {
      return undefined;
    }
    throw error;
  }
}
