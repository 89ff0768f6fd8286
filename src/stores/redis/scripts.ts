import { Script } from './client.js'

// Every script declares every key it touches in KEYS, and all of them are keys of one shard (see
// layout.ts), hence of one hash slot: a Redis Cluster runs it on the primary that serves the slot,
// and a single Redis runs it as before. A script runs atomically: no other command sees a session
// half created or half deleted.
//
// Deleting sessions found through an index takes two steps: a READ_* script lists the candidates and
// the index sets their reference hash names (so that the caller can declare those keys), then DROP
// deletes them, checking again that each still qualifies and still names the same sets.

/**
 * KEYS: session hash, by-expiry, by-last-seen, refs, identity set[, provider set].
 * ARGV: id, expiresAtMs, lastSeenAtMs, then the hash's field/value pairs. The hash expires at the
 * session's absolute end (PEXPIREAT).
 */
export const CREATE = new Script(`
local id = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('HEXISTS', KEYS[4], 'i:' .. id) == 1 then
  return redis.error_reply('ERR_SESSION_EXISTS')
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], id)
redis.call('ZADD', KEYS[3], ARGV[3], id)
redis.call('SADD', KEYS[5], id)
redis.call('HSET', KEYS[4], 'i:' .. id, KEYS[5])
if KEYS[6] then
  redis.call('SADD', KEYS[6], id)
  redis.call('HSET', KEYS[4], 'p:' .. id, KEYS[6])
end
return 1
`)

/** KEYS: session hash, by-last-seen. ARGV: id, lastSeenAtMs. Only forwards; a missing session stays missing. */
export const TOUCH = new Script(`
local id, seen = ARGV[1], ARGV[2]
local current = redis.call('HGET', KEYS[1], 'last_seen_at')
if not current or tonumber(current) >= tonumber(seen) then return 0 end
redis.call('HSET', KEYS[1], 'last_seen_at', seen)
redis.call('ZADD', KEYS[2], 'XX', seen, id)
return 1
`)

// Appends each id with the index sets its reference hash names ('' for none): { id, identity set, provider set, ... }.
const WITH_REFS = `
local function withRefs(refs, ids, out)
  for _, id in ipairs(ids) do
    out[#out + 1] = id
    out[#out + 1] = redis.call('HGET', refs, 'i:' .. id) or ''
    out[#out + 1] = redis.call('HGET', refs, 'p:' .. id) or ''
  end
  return out
end
`

/** KEYS: refs. ARGV: ids. Returns { 0, id, identity set, provider set, ... }. */
export const READ_REFS = new Script(`${WITH_REFS}
return withRefs(KEYS[1], ARGV, { 0 })
`)

/**
 * KEYS: an index set, refs. ARGV: limit. Up to `limit` sessions the set lists:
 * { examined, id, identity set, provider set, ... }.
 */
export const READ_LISTED = new Script(`${WITH_REFS}
local ids = redis.call('SRANDMEMBER', KEYS[1], tonumber(ARGV[1]))
return withRefs(KEYS[2], ids, { #ids })
`)

/**
 * KEYS: by-expiry, by-last-seen, refs. ARGV: nowMs, idle limit (last seen strictly before it), limit.
 * Up to `limit` entries past their absolute end, then idle ones, a limit in all:
 * { examined, id, identity set, provider set, ... } (an id in both lists is listed once, counted twice).
 */
export const READ_EXPIRED = new Script(`${WITH_REFS}
local now, idleBefore, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit)
local examined = #ids
if examined < limit then
  local seen = {}
  for _, id in ipairs(ids) do seen[id] = true end
  local idle = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. idleBefore, 'LIMIT', 0, limit - examined)
  examined = examined + #idle
  for _, id in ipairs(idle) do
    if not seen[id] then ids[#ids + 1] = id end
  end
end
return withRefs(KEYS[3], ids, { examined })
`)

/**
 * KEYS: by-expiry, by-last-seen, refs, then the session hashes and index sets named below.
 * ARGV: mode ('one', 'listed' or 'expired'), nowMs, idle limit, the listed set's KEYS position (or 0),
 * n, then n times: id, its hash's KEYS position, its identity set's and provider set's KEYS positions
 * as READ_* found them (0 for none).
 *
 * Deletes each session and every index entry of it, unless (mode 'expired') it is no longer past
 * its end or idle (touched meanwhile), or its reference hash now names other sets than the caller
 * declared ('changed': the caller reads again). Redis may already have expired the hash: the
 * reference hash still says which sets list the session. Returns { deleted (were indexed),
 * changed, members left in the listed set }.
 */
export const DROP = new Script(`
local mode, now, idleBefore = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local listed, n = tonumber(ARGV[4]), tonumber(ARGV[5])
local byExpiry, byLastSeen, refs = KEYS[1], KEYS[2], KEYS[3]
local deleted, changed = 0, 0
local function declared(position)
  if position == 0 then return false end
  return KEYS[position]
end
for k = 0, n - 1 do
  local at = 6 + k * 4
  local id = ARGV[at]
  local identitySet = redis.call('HGET', refs, 'i:' .. id)
  local providerSet = redis.call('HGET', refs, 'p:' .. id)
  local due = true
  if mode == 'expired' then
    local ends = redis.call('ZSCORE', byExpiry, id)
    local seen = redis.call('ZSCORE', byLastSeen, id)
    due = (ends and tonumber(ends) <= now) or (seen and tonumber(seen) < idleBefore) or false
  end
  if due then
    if identitySet ~= declared(tonumber(ARGV[at + 2])) or providerSet ~= declared(tonumber(ARGV[at + 3])) then
      changed = changed + 1
    else
      redis.call('DEL', KEYS[tonumber(ARGV[at + 1])])
      -- Out of the sorted sets in any case: an entry left there would be examined by every cleanup.
      redis.call('ZREM', byExpiry, id)
      redis.call('ZREM', byLastSeen, id)
      if listed > 0 then redis.call('SREM', KEYS[listed], id) end
      if identitySet then
        redis.call('SREM', identitySet, id)
        if providerSet then redis.call('SREM', providerSet, id) end
        redis.call('HDEL', refs, 'i:' .. id, 'p:' .. id)
        deleted = deleted + 1
      end
    end
  end
end
local left = 0
if listed > 0 then left = redis.call('SCARD', KEYS[listed]) end
return { deleted, changed, left }
`)

/** KEYS: the lease. ARGV: holder token. Deletes the lease only if this holder still has it. */
export const RELEASE_LEASE = new Script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)
