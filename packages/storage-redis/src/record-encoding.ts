import type { SessionRecord } from '@sessionkit/core';
import { StoreCorruptError } from '@sessionkit/core';
import { parseStoredSession } from '@sessionkit/core/store';

/*
 * The stored form of a record is one Redis string: a header of the fields the Lua scripts read or change,
 * then the rest of the record as JSON.
 *
 *   =active|=3|=1732400000000|...|=2|=<currentHash>|||...|{"createdAt":...,"device":{...},"metadata":{...}}
 *
 * Each header field is `=value`, or empty when absent; values are digits, base64url, a state name or
 * percent-encoded text, so none contains `|`. The scripts edit the header and copy the JSON untouched: they
 * never re-encode JSON (Redis' cjson would turn `[]` into `{}` and round long numbers). A string, unlike a hash,
 * stays one allocation however long the user agent is. The id and user id are not stored: both are in the key.
 *
 * `fr` held hashes of retired refresh tokens before tokens carried a verified generation. It is written empty and
 * cleared by the next rotation, and kept in the layout so that values written before still decode.
 */
export const HEADER_FIELDS = [
  'st',
  'v',
  'ls',
  'ie',
  'ae',
  'ra',
  'rr',
  't',
  'p',
  'fi',
  'fg',
  'fc',
  'fp',
  'ft',
  'fs',
  'fr',
];

export function encodeRecord(record: SessionRecord): string {
  const { refresh } = record;
  const header: (string | number | undefined)[] = [
    record.state,
    record.version,
    record.lastSeenAt,
    record.idleExpiresAt,
    record.absoluteExpiresAt,
    record.revokedAt,
    record.revokeReason === undefined ? undefined : encodeText(record.revokeReason),
    record.tenantId === undefined ? undefined : encodeText(record.tenantId),
    record.parentId,
    refresh?.familyId,
    refresh?.generation,
    refresh?.currentHash,
    refresh?.previousHash,
    refresh?.rotatedAt,
    refresh?.sealedSuccessor,
    undefined, // fr
  ];
  const body = {
    createdAt: record.createdAt,
    aal: record.aal,
    authenticatedAt: record.authenticatedAt,
    secretHash: record.secretHash,
    device: record.device,
    transfer: record.transfer,
    metadata: record.metadata,
  };
  return `${header.map((value) => (value === undefined ? '' : `=${value}`)).join('|')}|${JSON.stringify(body)}`;
}

/** Percent-encoding keeps free text (reasons, tenant ids) clear of the `|` separator. */
export function encodeText(text: string): string {
  return encodeURIComponent(text);
}

/**
 * Rebuilds a record and validates it with core's schema: a corrupted or foreign value is `store.corrupt`, never
 * a crash and never a silently wrong session.
 */
export function decodeRecord(id: string, userId: string, raw: string): SessionRecord {
  const header: (string | undefined)[] = [];
  let position = 0;
  for (let i = 0; i < HEADER_FIELDS.length; i += 1) {
    const bar = raw.indexOf('|', position);
    if (bar < 0) throw new StoreCorruptError('Stored session value has no complete header');
    header.push(bar === position ? undefined : raw.slice(position + 1, bar));
    position = bar + 1;
  }
  const [st, v, ls, ie, ae, ra, rr, t, p, fi, fg, fc, fp, ft, fs] = header;
  const body = parseBody(raw.slice(position));
  // One object literal of fixed shape (absent fields as undefined, which the schema treats as absent): V8 keeps
  // it on one hidden class, and validating it costs half of what a spread-and-extend object does.
  return parseStoredSession({
    id,
    userId,
    tenantId: t === undefined ? undefined : decodeText(t),
    state: st,
    createdAt: body.createdAt,
    lastSeenAt: integer(ls),
    idleExpiresAt: integer(ie),
    absoluteExpiresAt: integer(ae),
    aal: body.aal,
    authenticatedAt: body.authenticatedAt,
    secretHash: body.secretHash,
    refresh:
      fi === undefined
        ? undefined
        : {
            familyId: fi,
            generation: integer(fg),
            currentHash: fc,
            previousHash: fp,
            rotatedAt: ft === undefined ? undefined : integer(ft),
            sealedSuccessor: fs,
          },
    device: body.device,
    parentId: p,
    revokedAt: ra === undefined ? undefined : integer(ra),
    revokeReason: rr === undefined ? undefined : decodeText(rr),
    transfer: body.transfer,
    version: integer(v),
    metadata: body.metadata,
  });
}

function parseBody(json: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(json);
  } catch (cause) {
    throw new StoreCorruptError('Stored session body is not valid JSON', { cause });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new StoreCorruptError('Stored session body is not an object');
  }
  return body as Record<string, unknown>;
}

function decodeText(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch (cause) {
    throw new StoreCorruptError('Stored session text field is not percent-encoded', { cause });
  }
}

/** Digits become a number; anything else is passed on unchanged so the schema rejects it (`''` is not 0). */
function integer(value: string | undefined): unknown {
  return value !== undefined && /^\d{1,16}$/.test(value) ? Number(value) : value;
}
