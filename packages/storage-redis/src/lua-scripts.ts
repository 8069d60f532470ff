import { DPOP_METADATA_KEY } from '@sessionkit/core/store';
import { HEADER_FIELDS } from './record-encoding.js';

/*
 * The store's server-side steps. Each script touches only one user's keys: KEYS[1] is the user's `all` index,
 * KEYS[2] the `live` index, and record keys are ARGV[1] (the user's record prefix) plus a session id. All of them
 * carry the `{userId}` hash tag, so on Redis Cluster every script runs inside one slot. Liveness decisions use
 * the caller's `now` (the contract's clock); index pruning uses the server's clock, which is the clock key TTLs
 * expire by, so an index never drops an id whose record Redis still holds.
 *
 * Records are strings of `header|json` (record-encoding.ts): the scripts edit header fields and copy the JSON.
 */

const HELPERS = `
local FIELDS = {${HEADER_FIELDS.map((field) => `'${field}'`).join(', ')}}

-- The client maps SKCORRUPT replies to store.corrupt: a script never acts on a value it cannot read.
local function corrupt(key)
  error({err = 'SKCORRUPT stored session value ' .. key .. ' is malformed'})
end

local function decode(key, raw)
  local record, position = {}, 1
  for i = 1, #FIELDS do
    local bar = string.find(raw, '|', position, true)
    if not bar then corrupt(key) end
    if bar > position then record[FIELDS[i]] = string.sub(raw, position + 1, bar - 1) end
    position = bar + 1
  end
  record.body = string.sub(raw, position)
  if not (record.st and tonumber(record.v) and tonumber(record.ie) and tonumber(record.ae)) then corrupt(key) end
  if record.fc and not tonumber(record.fg) then corrupt(key) end
  return record
end

local function encode(record)
  local parts = {}
  for i = 1, #FIELDS do
    local value = record[FIELDS[i]]
    parts[i] = value and ('=' .. value) or ''
  end
  return table.concat(parts, '|') .. '|' .. record.body
end

local function load(key)
  local raw = redis.call('GET', key)
  if not raw then return nil end
  return decode(key, raw)
end

local function serverNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Drops ids whose records have passed their deadline (Redis has already expired the records themselves).
local function prune(allKey, liveKey)
  local dead = redis.call('ZRANGEBYSCORE', allKey, '-inf', serverNow())
  for i = 1, #dead, 500 do
    local last = math.min(i + 499, #dead)
    redis.call('ZREM', allKey, unpack(dead, i, last))
    redis.call('ZREM', liveKey, unpack(dead, i, last))
  end
end

-- The indexes live exactly as long as the longest-lived record they name.
local function fitIndexTtl(allKey, liveKey)
  local last = redis.call('ZRANGE', allKey, -1, -1, 'WITHSCORES')
  if last[2] then
    local at = string.format('%d', tonumber(last[2]))
    redis.call('PEXPIREAT', allKey, at)
    redis.call('PEXPIREAT', liveKey, at)
  end
end

-- core's isLive: in use (isInUse, IN_USE_STATES: active or suspended) and before both deadlines.
local function isLive(record, now)
  return (record.st == 'active' or record.st == 'suspended')
    and now < (tonumber(record.ie) or 0) and now < (tonumber(record.ae) or 0)
end

-- Writes the revoked copy; the key keeps its TTL (a revoked record is kept until its deadline).
local function revoke(key, liveKey, id, record, now, reason)
  record.st, record.ra, record.rr = 'revoked', now, reason
  record.v = string.format('%d', tonumber(record.v) + 1)
  local value = encode(record)
  redis.call('SET', key, value, 'KEEPTTL')
  redis.call('ZREM', liveKey, id)
  return value
end
`;

/**
 * ARGV: recordPrefix, id, now, maxSessions, onLimit, evictReason, deadline, createdAt, countsAsLive, value,
 * encodedTenantId|''.
 * KEYS[3]: the new record. Replies {'exists'}, {'limit'} or {'ok', {{id, value}, ...evicted}}.
 *
 * Counting reads no record: an id is in `live` only while its record is active or suspended, and `all` scores it
 * by its record's deadline, min(idle, absolute), which is also its key's expiry; so after `prune` an id is live
 * while that deadline is after `now`. A key that vanished otherwise (DEL, maxmemory eviction) is found when it
 * would be evicted, or before a rejection, and dropped from the count.
 */
export const CREATE_SCRIPT = `${HELPERS}
local allKey, liveKey, recordKey = KEYS[1], KEYS[2], KEYS[3]
local prefix, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
prune(allKey, liveKey)
if redis.call('EXISTS', recordKey) == 1 then return {'exists'} end
local alive = {}
local ids = redis.call('ZRANGE', liveKey, 0, -1)
if #ids > 0 then
  local deadlines = redis.call('ZMSCORE', allKey, unpack(ids))
  for i, sid in ipairs(ids) do
    local deadline = tonumber(deadlines[i])
    if deadline and now < deadline then
      alive[#alive + 1] = sid
    else
      redis.call('ZREM', liveKey, sid)
    end
  end
end
local evicted = {}
-- Only the user's sessions of the new session's tenant count. Records are read only when all the user's live
-- sessions together would pass the limit: below it, one tenant's share is below it too.
if ARGV[9] == '1' and #alive + 1 > tonumber(ARGV[4]) then
  local same = {}
  for _, sid in ipairs(alive) do
    local record = load(prefix .. sid)
    if not record then
      redis.call('ZREM', liveKey, sid)
    elseif (record.t or '') == ARGV[11] then
      same[#same + 1] = {sid, record}
    end
  end
  -- Every victim is read before any is written: a script error does not roll back what it already wrote.
  local victims = {}
  for i = 1, #same + 1 - tonumber(ARGV[4]) do victims[i] = same[i] end
  if #victims > 0 and ARGV[5] == 'reject' then return {'limit'} end
  for i, victim in ipairs(victims) do
    evicted[i] = {victim[1], revoke(prefix .. victim[1], liveKey, victim[1], victim[2], ARGV[3], ARGV[6])}
  end
end
redis.call('SET', recordKey, ARGV[10], 'PXAT', ARGV[7])
redis.call('ZADD', allKey, ARGV[7], id)
if ARGV[9] == '1' then redis.call('ZADD', liveKey, ARGV[8], id) end
fitIndexTtl(allKey, liveKey)
return {'ok', evicted}
`;

/**
 * Compare-and-set. ARGV: recordPrefix, id, expectedVersion, deadline, createdAt, countsAsLive, value.
 * Replies {'missing'}, {'revoked'}, {'conflict'} or {'ok', previousAbsoluteDeadline, previousParentId|''}.
 */
export const UPDATE_SCRIPT = `${HELPERS}
local allKey, liveKey, recordKey = KEYS[1], KEYS[2], KEYS[3]
local id = ARGV[2]
prune(allKey, liveKey)
local current = load(recordKey)
if not current then return {'missing'} end
if current.st == 'revoked' then return {'revoked'} end
if current.v ~= ARGV[3] then return {'conflict'} end
redis.call('SET', recordKey, ARGV[7], 'PXAT', ARGV[4])
redis.call('ZADD', allKey, ARGV[4], id)
if ARGV[6] == '1' then
  redis.call('ZADD', liveKey, ARGV[5], id)
else
  redis.call('ZREM', liveKey, id)
end
fitIndexTtl(allKey, liveKey)
return {'ok', current.ae or '0', current.p or ''}
`;

/**
 * core's decideRotation, re-stated server-side. ARGV: recordPrefix, id, now, presentedHash, successorHash,
 * sealedSuccessor, graceMs, idleExpiresAt, reuseReason, presentedGeneration ('' unless its MAC verified),
 * presentedJkt ('' without a DPoP proof).
 * Replies {'unknown'} or {outcome, value} with outcome rotated | grace | reused | inactive | key-mismatch.
 *
 * The DPoP binding is in the record's JSON (its metadata), which the scripts otherwise only copy. It is decoded,
 * read-only, only when its text names the binding's key: an unbound session's rotation decodes nothing. The key
 * needs no escaping in JSON, so a body without that text has no binding.
 */
export const ROTATE_SCRIPT = `${HELPERS}
local allKey, liveKey, recordKey = KEYS[1], KEYS[2], KEYS[3]
local id, now, presented = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local presentedGeneration = tonumber(ARGV[10])

-- core's boundJkt: the thumbprint in the record's metadata, or nil for an unbound session.
local function boundJkt(record)
  if not string.find(record.body, ${JSON.stringify(JSON.stringify(DPOP_METADATA_KEY))}, 1, true) then return nil end
  local ok, body = pcall(cjson.decode, record.body)
  if not ok or type(body) ~= 'table' then corrupt(recordKey) end
  if type(body.metadata) ~= 'table' then return nil end
  local jkt = body.metadata[${JSON.stringify(DPOP_METADATA_KEY)}]
  if type(jkt) == 'string' then return jkt end
  return nil
end

prune(allKey, liveKey)
local raw = redis.call('GET', recordKey)
if not raw then return {'unknown'} end
local record = decode(recordKey, raw)
if not record.fc then return {'unknown'} end
local isCurrent = record.fc == presented
local isPrevious = not isCurrent and record.fp == presented
local inGrace = isPrevious and now - (tonumber(record.ft) or 0) <= tonumber(ARGV[7])
local isReplaced = not isCurrent and not inGrace
  and (isPrevious or (presentedGeneration ~= nil and presentedGeneration < tonumber(record.fg)))
if not (isCurrent or inGrace or isReplaced) then return {'unknown'} end
-- Before the state and the reuse rule: a caller without the bound key learns nothing and changes nothing.
local bound = boundJkt(record)
if bound and (ARGV[11] == '' or bound ~= ARGV[11]) then return {'key-mismatch', raw} end
if not isLive(record, now) then return {'inactive', raw} end
if isReplaced then return {'reused', revoke(recordKey, liveKey, id, record, ARGV[3], ARGV[9])} end
if inGrace then return {'grace', raw} end
local idle = string.format('%d', math.min(tonumber(ARGV[8]), tonumber(record.ae)))
record.ls, record.ie, record.ft = ARGV[3], idle, ARGV[3]
record.fg = string.format('%d', tonumber(record.fg) + 1)
record.fc, record.fp, record.fs, record.fr = ARGV[5], presented, ARGV[6], nil
record.v = string.format('%d', tonumber(record.v) + 1)
local value = encode(record)
redis.call('SET', recordKey, value, 'PXAT', idle)
redis.call('ZADD', allKey, idle, id)
fitIndexTtl(allKey, liveKey)
return {'rotated', value}
`;

/**
 * Revokes the given sessions of one user, leaving already revoked ones unchanged. ARGV: recordPrefix, now,
 * reason, ids... Replies {{id, changed (0|1), value}, ...} for the ids that exist.
 */
export const REVOKE_IDS_SCRIPT = `${HELPERS}
local allKey, liveKey = KEYS[1], KEYS[2]
prune(allKey, liveKey)
local out = {}
for i = 4, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  local raw = redis.call('GET', key)
  if raw then
    local record = decode(key, raw)
    if record.st == 'revoked' then
      out[#out + 1] = {ARGV[i], 0, raw}
    else
      out[#out + 1] = {ARGV[i], 1, revoke(key, liveKey, ARGV[i], record, ARGV[2], ARGV[3])}
    end
  end
end
return out
`;

/**
 * Revokes every not-yet-revoked session of a user but one, optionally in one tenant. ARGV: recordPrefix, now,
 * reason, exceptId|'', encodedTenantId|''. Replies {{id, value}, ...} for those it revoked.
 */
export const REVOKE_USER_SCRIPT = `${HELPERS}
local allKey, liveKey = KEYS[1], KEYS[2]
prune(allKey, liveKey)
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', allKey, 0, -1)) do
  if sid ~= ARGV[4] then
    local key = ARGV[1] .. sid
    local record = load(key)
    if record and record.st ~= 'revoked' and (ARGV[5] == '' or record.t == ARGV[5]) then
      out[#out + 1] = {sid, revoke(key, liveKey, sid, record, ARGV[2], ARGV[3])}
    end
  end
end
return out
`;

/** Every stored record of a user, after pruning. ARGV: recordPrefix. Replies {{id, value}, ...}. */
export const LIST_SCRIPT = `${HELPERS}
local allKey, liveKey = KEYS[1], KEYS[2]
prune(allKey, liveKey)
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', allKey, 0, -1)) do
  local raw = redis.call('GET', ARGV[1] .. sid)
  if raw then out[#out + 1] = {sid, raw} end
end
return out
`;
