/*
 * The store's server-side steps. Each script touches only one user's keys: KEYS[1] is the user's `all` index,
 * KEYS[2] the `live` index, and record keys are ARGV[1] (the user's record prefix) plus a session id. All of them
 * carry the `{userId}` hash tag, so on Redis Cluster every script runs inside one slot. Liveness decisions use
 * the caller's `now` (the contract's clock); index pruning uses the server's clock, which is the clock key TTLs
 * expire by, so an index never drops an id whose record Redis still holds.
 *
 * Records are hashes (see record-fields.ts); these scripts only read and write flat fields, never JSON.
 */

const HELPERS = `
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

local function isLive(state, idle, absolute, now)
  return (state == 'active' or state == 'suspended') and idle ~= false and absolute ~= false
    and now < tonumber(idle) and now < tonumber(absolute)
end

local function revokeRecord(key, liveKey, id, now, reason)
  redis.call('HSET', key, 'st', 'revoked', 'ra', now, 'rr', reason)
  redis.call('HINCRBY', key, 'v', 1)
  redis.call('ZREM', liveKey, id)
end
`;

/**
 * ARGV: recordPrefix, id, now, maxSessions, onLimit, evictReason, deadline, createdAt, countsAsLive, fields...
 * KEYS[3]: the new record. Replies {'exists'}, {'limit'} or {'ok', {{id, fields}, ...evicted}}.
 */
export const CREATE_SCRIPT = `${HELPERS}
local allKey, liveKey, recordKey = KEYS[1], KEYS[2], KEYS[3]
local prefix, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
prune(allKey, liveKey)
if redis.call('EXISTS', recordKey) == 1 then return {'exists'} end
local alive = {}
for _, sid in ipairs(redis.call('ZRANGE', liveKey, 0, -1)) do
  local f = redis.call('HMGET', prefix .. sid, 'st', 'ie', 'ae')
  if isLive(f[1], f[2], f[3], now) then
    alive[#alive + 1] = sid
  else
    redis.call('ZREM', liveKey, sid)
  end
end
local evicted = {}
if ARGV[9] == '1' then
  local excess = math.min(#alive + 1 - tonumber(ARGV[4]), #alive)
  if excess > 0 and ARGV[5] == 'reject' then return {'limit'} end
  for i = 1, excess do
    local key = prefix .. alive[i]
    revokeRecord(key, liveKey, alive[i], ARGV[3], ARGV[6])
    evicted[#evicted + 1] = {alive[i], redis.call('HGETALL', key)}
  end
end
redis.call('HSET', recordKey, unpack(ARGV, 10))
redis.call('PEXPIREAT', recordKey, ARGV[7])
redis.call('ZADD', allKey, ARGV[7], id)
if ARGV[9] == '1' then redis.call('ZADD', liveKey, ARGV[8], id) end
fitIndexTtl(allKey, liveKey)
return {'ok', evicted}
`;

/**
 * Compare-and-set. ARGV: recordPrefix, id, expectedVersion, deadline, createdAt, countsAsLive, fields...
 * Replies {'missing'}, {'revoked'}, {'conflict'} or {'ok', previousAbsoluteDeadline, previousParentId|''}.
 */
export const UPDATE_SCRIPT = `${HELPERS}
local allKey, liveKey, recordKey = KEYS[1], KEYS[2], KEYS[3]
local id = ARGV[2]
prune(allKey, liveKey)
local f = redis.call('HMGET', recordKey, 'st', 'v', 'ae', 'p')
if not f[1] then return {'missing'} end
if f[1] == 'revoked' then return {'revoked'} end
if f[2] ~= ARGV[3] then return {'conflict'} end
redis.call('DEL', recordKey)
redis.call('HSET', recordKey, unpack(ARGV, 7))
redis.call('PEXPIREAT', recordKey, ARGV[4])
redis.call('ZADD', allKey, ARGV[4], id)
if ARGV[6] == '1' then
  redis.call('ZADD', liveKey, ARGV[5], id)
else
  redis.call('ZREM', liveKey, id)
end
fitIndexTtl(allKey, liveKey)
return {'ok', f[3], f[4] or ''}
`;

/**
 * core's decideRotation, re-stated server-side. ARGV: recordPrefix, id, now, presentedHash, successorHash,
 * sealedSuccessor, graceMs, idleExpiresAt, reuseReason, retiredKept.
 * Replies {'unknown'} or {outcome, fields} with outcome rotated | grace | reused | inactive.
 */
export const ROTATE_SCRIPT = `${HELPERS}
local allKey, liveKey, recordKey = KEYS[1], KEYS[2], KEYS[3]
local id, now, presented = ARGV[2], tonumber(ARGV[3]), ARGV[4]
prune(allKey, liveKey)
local f = redis.call('HMGET', recordKey, 'st', 'ie', 'ae', 'fc', 'fp', 'ft', 'fr', 'fg')
if not f[1] or not f[4] then return {'unknown'} end
local retired = f[7] or ''
local isCurrent = f[4] == presented
local isPrevious = f[5] == presented
local isRetired = string.find(',' .. retired .. ',', ',' .. string.sub(presented, 1, 22) .. ',', 1, true) ~= nil
  or (isPrevious and now - (tonumber(f[6]) or 0) > tonumber(ARGV[7]))
if not (isCurrent or isPrevious or isRetired) then return {'unknown'} end
if not isLive(f[1], f[2], f[3], now) then return {'inactive', redis.call('HGETALL', recordKey)} end
if isRetired then
  revokeRecord(recordKey, liveKey, id, ARGV[3], ARGV[9])
  return {'reused', redis.call('HGETALL', recordKey)}
end
if isPrevious then return {'grace', redis.call('HGETALL', recordKey)} end
if f[5] then
  local kept = {string.sub(f[5], 1, 22)}
  for hash in string.gmatch(retired, '[^,]+') do
    if #kept >= tonumber(ARGV[10]) then break end
    kept[#kept + 1] = hash
  end
  retired = table.concat(kept, ',')
end
local idle = string.format('%d', math.min(tonumber(ARGV[8]), tonumber(f[3])))
redis.call('HSET', recordKey, 'ls', ARGV[3], 'ie', idle, 'fg', string.format('%d', tonumber(f[8]) + 1),
  'fc', ARGV[5], 'fp', presented, 'ft', ARGV[3], 'fs', ARGV[6], 'fr', retired)
redis.call('HINCRBY', recordKey, 'v', 1)
redis.call('PEXPIREAT', recordKey, idle)
redis.call('ZADD', allKey, idle, id)
fitIndexTtl(allKey, liveKey)
return {'rotated', redis.call('HGETALL', recordKey)}
`;

/**
 * Revokes the given sessions of one user, leaving already revoked ones unchanged. ARGV: recordPrefix, now,
 * reason, ids... Replies {{id, changed (0|1), fields}, ...} for the ids that exist.
 */
export const REVOKE_IDS_SCRIPT = `${HELPERS}
local allKey, liveKey = KEYS[1], KEYS[2]
prune(allKey, liveKey)
local out = {}
for i = 4, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  local state = redis.call('HGET', key, 'st')
  if state then
    local changed = 0
    if state ~= 'revoked' then
      revokeRecord(key, liveKey, ARGV[i], ARGV[2], ARGV[3])
      changed = 1
    end
    out[#out + 1] = {ARGV[i], changed, redis.call('HGETALL', key)}
  end
end
return out
`;

/**
 * Revokes every not-yet-revoked session of a user but one, optionally in one tenant. ARGV: recordPrefix, now,
 * reason, exceptId|'', tenantId|''. Replies {{id, fields}, ...} for those it revoked.
 */
export const REVOKE_USER_SCRIPT = `${HELPERS}
local allKey, liveKey = KEYS[1], KEYS[2]
prune(allKey, liveKey)
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', allKey, 0, -1)) do
  if sid ~= ARGV[4] then
    local key = ARGV[1] .. sid
    local f = redis.call('HMGET', key, 'st', 't')
    if f[1] and f[1] ~= 'revoked' and (ARGV[5] == '' or f[2] == ARGV[5]) then
      revokeRecord(key, liveKey, sid, ARGV[2], ARGV[3])
      out[#out + 1] = {sid, redis.call('HGETALL', key)}
    end
  end
end
return out
`;

/** Every stored record of a user, after pruning. ARGV: recordPrefix. Replies {{id, fields}, ...}. */
export const LIST_SCRIPT = `${HELPERS}
local allKey, liveKey = KEYS[1], KEYS[2]
prune(allKey, liveKey)
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', allKey, 0, -1)) do
  local fields = redis.call('HGETALL', ARGV[1] .. sid)
  if #fields > 0 then out[#out + 1] = {sid, fields} end
end
return out
`;
