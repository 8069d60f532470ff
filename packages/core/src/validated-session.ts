import type { AccessTokenClaims } from './access-token.js';
import { DBSC_METADATA_KEY } from './dbsc-binding.js';
import { deepFreeze } from './deep-freeze.js';
import { boundJkt } from './dpop-binding.js';
import type { Aal, SessionRecord } from './session-record.js';
import { expiresAt } from './session-record.js';
import type { SessionView } from './session-view.js';
import { toView } from './session-view.js';

/**
 * The answer of a validation, read-only: answers for unchanged inputs (a verified token, a stored record the
 * store shares) are built once and shared, deeply frozen, between the requests that present them.
 */
export interface ValidatedSession {
  readonly sessionId: string;
  readonly userId: string;
  readonly tenantId?: string;
  readonly aal: Aal;
  readonly authenticatedAt: number;
  readonly expiresAt: number;
  readonly source: 'access-token' | 'cache' | 'store';
  /** The thumbprint of the DPoP key the session (or the access token) is bound to: present it with a proof. */
  readonly dpopJkt?: string;
  /** Bound to a device key (DBSC): a cookie request must also bring the short-lived bound cookie. */
  readonly deviceBound?: true;
  /** Present when the store (or the local copy of it) was read. */
  readonly session?: SessionView;
  readonly warnings: readonly string[];
}

/** The fast tier's answer for a verified access token: its claims, no store read. */
export function accessTokenAnswer(claims: AccessTokenClaims): ValidatedSession {
  return {
    sessionId: claims.sid,
    userId: claims.sub,
    ...(claims.tenantId === undefined ? {} : { tenantId: claims.tenantId }),
    aal: claims.aal,
    authenticatedAt: claims.authenticatedAt ?? claims.authTime * 1000,
    expiresAt: claims.exp * 1000,
    source: 'access-token',
    ...(claims.jkt === undefined ? {} : { dpopJkt: claims.jkt }),
    warnings: [],
  };
}

function recordResult(
  record: SessionRecord,
  source: ValidatedSession['source'],
  warnings: string[],
): ValidatedSession {
  const dpopJkt = boundJkt(record);
  return {
    sessionId: record.id,
    userId: record.userId,
    ...(record.tenantId === undefined ? {} : { tenantId: record.tenantId }),
    aal: record.aal,
    authenticatedAt: record.authenticatedAt,
    expiresAt: expiresAt(record),
    source,
    ...(dpopJkt === undefined ? {} : { dpopJkt }),
    ...(record.metadata[DBSC_METADATA_KEY] === undefined ? {} : { deviceBound: true as const }),
    session: toView(record),
    warnings,
  };
}

/**
 * Answers shared between requests, keyed by the verified claims or the frozen record they were built from
 * (stores that keep decoded records hand out the same frozen object while it is unchanged): building the
 * answer and its view per request was most of what a cached validation allocated.
 */
export class SharedAnswers {
  readonly #tokenAnswers = new WeakMap<AccessTokenClaims, ValidatedSession>();
  readonly #cacheAnswers = new WeakMap<SessionRecord, ValidatedSession>();
  readonly #storeAnswers = new WeakMap<SessionRecord, ValidatedSession>();

  forToken(claims: AccessTokenClaims): ValidatedSession {
    let answer = this.#tokenAnswers.get(claims);
    if (!answer) {
      answer = deepFreeze(accessTokenAnswer(claims));
      this.#tokenAnswers.set(claims, answer);
    }
    return answer;
  }

  /** A frozen record without warnings has one answer per source; anything else is answered afresh. */
  forRecord(record: SessionRecord, source: 'cache' | 'store', warnings: string[]): ValidatedSession {
    if (warnings.length > 0 || !Object.isFrozen(record)) return recordResult(record, source, warnings);
    const answers = source === 'cache' ? this.#cacheAnswers : this.#storeAnswers;
    let answer = answers.get(record);
    if (!answer) {
      answer = deepFreeze(recordResult(record, source, []));
      answers.set(record, answer);
    }
    return answer;
  }
}
