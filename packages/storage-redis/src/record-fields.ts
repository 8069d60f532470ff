import type { SessionRecord } from '@sessionkit/core';
import { parseStoredSession, StoreCorruptError } from '@sessionkit/core';

/*
 * A record is stored as a Redis hash with one short field per top-level value (nested objects as JSON), never
 * as one JSON document: the Lua scripts then change state, version, deadlines and the refresh chain with HSET
 * and never re-encode JSON (Redis' cjson would turn `[]` into `{}` and round long numbers). The id and user id
 * are not stored: both are part of the key. Names are short because every byte is paid per session.
 */

type Field = [name: string, value: string | number];

/** Flat `field, value, ...` arguments for HSET. */
export function toHashFields(record: SessionRecord): (string | number)[] {
  const fields: Field[] = [
    ['st', record.state],
    ['v', record.version],
    ['ca', record.createdAt],
    ['ls', record.lastSeenAt],
    ['ie', record.idleExpiresAt],
    ['ae', record.absoluteExpiresAt],
    ['al', record.aal],
    ['au', record.authenticatedAt],
    ['sh', record.secretHash],
    ['d', JSON.stringify(record.device)],
    ['m', JSON.stringify(record.metadata)],
  ];
  if (record.tenantId !== undefined) fields.push(['t', record.tenantId]);
  if (record.parentId !== undefined) fields.push(['p', record.parentId]);
  if (record.revokedAt !== undefined) fields.push(['ra', record.revokedAt]);
  if (record.revokeReason !== undefined) fields.push(['rr', record.revokeReason]);
  if (record.transfer !== undefined) fields.push(['x', JSON.stringify(record.transfer)]);
  const { refresh } = record;
  if (refresh) {
    fields.push(['fi', refresh.familyId], ['fg', refresh.generation], ['fc', refresh.currentHash]);
    if (refresh.previousHash !== undefined) fields.push(['fp', refresh.previousHash]);
    if (refresh.rotatedAt !== undefined) fields.push(['ft', refresh.rotatedAt]);
    if (refresh.sealedSuccessor !== undefined) fields.push(['fs', refresh.sealedSuccessor]);
    // Hashes are base64url, so a comma cannot occur inside one; '' stands for an empty list.
    if (refresh.retiredHashes !== undefined) fields.push(['fr', refresh.retiredHashes.join(',')]);
  }
  return fields.flat();
}

/** HGETALL as Lua returns it (`field, value, ...`) → the object ioredis would give. */
export function pairsToFields(flat: readonly string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return fields;
}

/**
 * Rebuilds and validates a record with core's schema: a corrupted or foreign hash is `store.corrupt`, never a
 * crash and never a silently wrong session.
 */
export function fromHashFields(id: string, userId: string, fields: Record<string, string>): SessionRecord {
  const record: Record<string, unknown> = {
    id,
    userId,
    state: fields.st,
    version: integer(fields.v),
    createdAt: integer(fields.ca),
    lastSeenAt: integer(fields.ls),
    idleExpiresAt: integer(fields.ie),
    absoluteExpiresAt: integer(fields.ae),
    aal: integer(fields.al),
    authenticatedAt: integer(fields.au),
    secretHash: fields.sh,
    device: json(fields.d, 'd'),
    metadata: json(fields.m, 'm'),
  };
  if (fields.t !== undefined) record.tenantId = fields.t;
  if (fields.p !== undefined) record.parentId = fields.p;
  if (fields.ra !== undefined) record.revokedAt = integer(fields.ra);
  if (fields.rr !== undefined) record.revokeReason = fields.rr;
  if (fields.x !== undefined) record.transfer = json(fields.x, 'x');
  if (fields.fi !== undefined) {
    const refresh: Record<string, unknown> = {
      familyId: fields.fi,
      generation: integer(fields.fg),
      currentHash: fields.fc,
    };
    if (fields.fp !== undefined) refresh.previousHash = fields.fp;
    if (fields.ft !== undefined) refresh.rotatedAt = integer(fields.ft);
    if (fields.fs !== undefined) refresh.sealedSuccessor = fields.fs;
    if (fields.fr !== undefined) refresh.retiredHashes = fields.fr === '' ? [] : fields.fr.split(',');
    record.refresh = refresh;
  }
  return parseStoredSession(record);
}

/** Digits become a number; anything else is passed on unchanged so the schema rejects it (`''` is not 0). */
function integer(value: string | undefined): unknown {
  return value !== undefined && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
}

function json(value: string | undefined, field: string): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (cause) {
    throw new StoreCorruptError(`Stored session field "${field}" is not valid JSON`, { cause });
  }
}
