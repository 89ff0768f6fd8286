import { Script } from './client.js'

// Key layout under the prefix P (see keys.ts). Every script gets P as ARGV[1] and builds the other
// names itself, so that it can reach the sessions an index lists. A script runs atomically: no
// other command sees a session half created or half deleted. (It names keys that are not passed as
// KEYS, so it needs a single Redis server or one primary, not a cluster.)

// Removes one session and every index entry of it; 1 if it was indexed (live or expired but not yet
// cleaned up), else 0. Redis may already have expired the hash: the two reference hashes still
// say which index sets list the session.
const DROP = `
local function drop(p, id)
  local identitySet = redis.call('HGET', p .. 'session-identity-set', id)
  redis.call('DEL', p .. 'session:' .. id)
  -- Out of the sorted sets in any case: an entry left there would be examined by every cleanup.
  redis.call('ZREM', p .. 'sessions-by-expiry', id)
  redis.call('ZREM', p .. 'sessions-by-last-seen', id)
  if not identitySet then return 0 end
  local providerSet = redis.call('HGET', p .. 'session-provider-set', id)
  redis.call('SREM', identitySet, id)
  if providerSet then redis.call('SREM', providerSet, id) end
  redis.call('HDEL', p .. 'session-identity-set', id)
  redis.call('HDEL', p .. 'session-provider-set', id)
  return 1
end
`

/**
 * ARGV: P, id, identity set key, provider set key or '', expiresAtMs, lastSeenAtMs, then the hash's
 * field/value pairs. The hash expires at the session's absolute end (PEXPIREAT).
 */
export const CREATE = new Script(`
local p, id, identitySet, providerSet = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local key = p .. 'session:' .. id
if redis.call('EXISTS', key) == 1 or redis.call('HEXISTS', p .. 'session-identity-set', id) == 1 then
  return redis.error_reply('ERR_SESSION_EXISTS')
end
redis.call('HSET', key, unpack(ARGV, 7))
redis.call('PEXPIREAT', key, ARGV[5])
redis.call('ZADD', p .. 'sessions-by-expiry', ARGV[5], id)
redis.call('ZADD', p .. 'sessions-by-last-seen', ARGV[6], id)
redis.call('SADD', identitySet, id)
redis.call('HSET', p .. 'session-identity-set', id, identitySet)
if providerSet ~= '' then
  redis.call('SADD', providerSet, id)
  redis.call('HSET', p .. 'session-provider-set', id, providerSet)
end
return 1
`)

/** ARGV: P, id, lastSeenAtMs. Only forwards; a missing session is left missing (no partial hash). */
export const TOUCH = new Script(`
local p, id, seen = ARGV[1], ARGV[2], ARGV[3]
local key = p .. 'session:' .. id
local current = redis.call('HGET', key, 'last_seen_at')
if not current or tonumber(current) >= tonumber(seen) then return 0 end
redis.call('HSET', key, 'last_seen_at', seen)
redis.call('ZADD', p .. 'sessions-by-last-seen', 'XX', seen, id)
return 1
`)

/** ARGV: P, id. */
export const DELETE = new Script(`${DROP}
return drop(ARGV[1], ARGV[2])
`)

/** ARGV: P, index set key. Deletes every session the set lists; returns how many were indexed. */
export const DELETE_LISTED = new Script(`${DROP}
local p, set = ARGV[1], ARGV[2]
local count = 0
for _, id in ipairs(redis.call('SMEMBERS', set)) do count = count + drop(p, id) end
redis.call('DEL', set)
return count
`)

/**
 * ARGV: P, nowMs, idle limit (last seen strictly before it), batch size. Deletes up to a batch of
 * sessions past their absolute end (whose hashes Redis has usually expired already: this cleans
 * their index entries: both sorted sets, the identity and provider sets, the reference hashes) and
 * idle ones, a batch in all. Returns { deleted, examined }; examined below the batch size means
 * nothing is left to clean.
 */
export const DELETE_EXPIRED = new Script(`${DROP}
local p, now, idleBefore, batch = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local expired = redis.call('ZRANGEBYSCORE', p .. 'sessions-by-expiry', '-inf', now, 'LIMIT', 0, batch)
local count = 0
for _, id in ipairs(expired) do count = count + drop(p, id) end
local examined = #expired
if examined < batch then
  local idle = redis.call('ZRANGEBYSCORE', p .. 'sessions-by-last-seen', '-inf', '(' .. idleBefore, 'LIMIT', 0, batch - examined)
  for _, id in ipairs(idle) do count = count + drop(p, id) end
  examined = examined + #idle
end
return { count, examined }
`)

/** ARGV: lease key, holder token. Deletes the lease only if this holder still has it. */
export const RELEASE_LEASE = new Script(`
if redis.call('GET', ARGV[1]) == ARGV[2] then return redis.call('DEL', ARGV[1]) end
return 0
`)
