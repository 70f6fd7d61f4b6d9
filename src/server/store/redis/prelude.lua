-- Shared prelude of every zego-room script (see docs/cluster.md). The store builds each script
-- as this prelude followed by one operation's body, with @NAME@ placeholders replaced by the
-- contract's codes. Calling convention:
--   ARGV[1] key prefix ("<prefix>:<app id>"), ARGV[2] the epoch the caller knows ("*" = skip the
--   check), ARGV[3] the time in ms since the Unix epoch ("" = Redis's own clock, what production
--   uses; tests pass a virtual clock), ARGV[4..] the operation's arguments.
-- Reply: {"EPOCH"} when Redis's epoch is not the caller's (its data was lost: nothing changed),
-- else {"OK", <result as JSON>, <event JSON>...}: every event the operation emitted, in order, each
-- also PUBLISHed on its room's channel.
-- Keys are built here from the prefix (not passed as KEYS): one operation may touch any room
-- (a duplicate login kicks the user everywhere), so this needs a single Redis (or a
-- primary with replicas), not Redis Cluster.
local P = ARGV[1]
local EPOCH = ARGV[2]
local NOW
if ARGV[3] ~= '' then
  NOW = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local CUR_EPOCH = redis.call('GET', P .. ':epoch')
if EPOCH ~= '*' and CUR_EPOCH ~= EPOCH then
  return {'EPOCH'}
end
local EPOCH_MS = NOW
if CUR_EPOCH then
  EPOCH_MS = tonumber(string.match(CUR_EPOCH, ':(%d+)$')) or NOW
end

local function K_room(r) return P .. ':r:{' .. r .. '}' end
local function K_members(r) return P .. ':r:{' .. r .. '}:m' end
local function K_streams(r) return P .. ':r:{' .. r .. '}:s' end
local function K_replay(r) return P .. ':r:{' .. r .. '}:q' end
local function CH(r) return P .. ':c:{' .. r .. '}' end
local function K_sess(s) return P .. ':s:' .. s end
local function K_user(u) return P .. ':u:' .. u end
local function K_usess(u) return P .. ':us:' .. u end
local function K_tomb(s) return P .. ':t:' .. s end
local K_OWNERS = P .. ':st'
local K_FORBID = P .. ':fb'
local K_DL = P .. ':dl'
local K_ROOMS = P .. ':rooms'
-- How long an emptied room keeps its sequence numbers (so they never go back for a node that
-- still listens to it).
local DEAD_ROOM_TTL = 86400000

local STREAM_CODE = { logout = @DR_STOPPED@, destroyed = @DR_DESTROYED@, grace = @DR_GRACE@,
  replaced = @DR_DUPLICATE@, kicked = @DR_KICKED@ }

local EVENTS = {}
local function emit(r, ev)
  ev.room = r
  ev.seq = redis.call('HINCRBY', K_room(r), 'seq', 1)
  local text = cjson.encode(ev)
  redis.call('PUBLISH', CH(r), text)
  EVENTS[#EVENTS + 1] = text
end

local function reply(result)
  local out = { 'OK', cjson.encode(result) }
  for i = 1, #EVENTS do out[#out + 1] = EVENTS[i] end
  return out
end

local function split2(v)
  local i = string.find(v, '\n', 1, true)
  return string.sub(v, 1, i - 1), string.sub(v, i + 1)
end

-- The member entry of a user: session id and user name.
local function member(r, uid)
  local v = redis.call('HGET', K_members(r), uid)
  if not v then return nil, nil end
  return split2(v)
end

local function room_exists(r)
  return redis.call('HEXISTS', K_room(r), 'rsid') == 1
end

-- The room's streams as {id, record} sorted by stream id, optionally only those of one session.
local function streams_of(r, sid)
  local all = redis.call('HGETALL', K_streams(r))
  local out = {}
  for i = 1, #all, 2 do
    local rec = cjson.decode(all[i + 1])
    if sid == nil or rec.sid == sid then out[#out + 1] = { all[i], rec } end
  end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  return out
end

local function snapshot(r)
  local h = redis.call('HMGET', K_room(r), 'rsid', 'seq', 'mid', 'xk', 'xv', 'xu', 'xt')
  if not h[1] then return nil end
  local snap = {
    rsid = h[1], seq = tonumber(h[2] or '0'), mid = tonumber(h[3] or '0'), age = NOW - EPOCH_MS,
    m = redis.call('HGETALL', K_members(r)), s = redis.call('HVALS', K_streams(r)),
  }
  if h[4] then snap.x = { key = h[4], value = h[5], u = cjson.decode(h[6]), t = tonumber(h[7]) } end
  return snap
end

-- An emptied room: everything goes but its sequence numbers (kept a day).
local function drop_room(r)
  local kr = K_room(r)
  local h = redis.call('HMGET', kr, 'seq', 'mid')
  redis.call('DEL', kr, K_members(r), K_streams(r), K_replay(r))
  redis.call('HSET', kr, 'seq', h[1] or '0', 'mid', h[2] or '0')
  redis.call('PEXPIRE', kr, DEAD_ROOM_TTL)
  redis.call('SREM', K_ROOMS, r)
end

local function remove_stream(r, id, code)
  local v = redis.call('HGET', K_streams(r), id)
  if not v then return end
  redis.call('HDEL', K_streams(r), id)
  redis.call('HDEL', K_OWNERS, id)
  emit(r, { k = 'srm', rec = cjson.decode(v), code = code })
end

-- Removes a session and everything it owns (the memory store's remove_session, rule for rule):
-- its streams (Delete with `why`'s code), the member's Delete (unless `replaced`: the same user
-- takes its place in this room), the session's end (`code` ~= 0: it is told it was kicked and a
-- resume is refused later). An emptied room is dropped unless `replaced`.
local function remove_session(sid, why, code, msg, replaced)
  local ks = K_sess(sid)
  local s = redis.call('HMGET', ks, 'r', 'u', 'n')
  local r, uid, name = s[1], s[2], s[3]
  redis.call('ZREM', K_DL, sid)
  if not r then return end
  redis.call('DEL', ks)
  redis.call('ZREM', K_usess(uid), sid)
  if redis.call('ZCARD', K_usess(uid)) == 0 then redis.call('DEL', K_user(uid), K_usess(uid)) end
  if code ~= 0 then redis.call('SET', K_tomb(sid), code .. '\n' .. msg, 'PX', @TOMB_TTL_MS@) end
  if not room_exists(r) then return end
  for _, o in ipairs(streams_of(r, sid)) do
    redis.call('HDEL', K_streams(r), o[1])
    redis.call('HDEL', K_OWNERS, o[1])
    emit(r, { k = 'srm', rec = o[2], code = STREAM_CODE[why] })
  end
  local msid = member(r, uid)
  if msid == sid then
    redis.call('HDEL', K_members(r), uid)
    if not replaced then emit(r, { k = 'rm', u = { i = uid, n = name }, sid = sid, why = why }) end
  end
  emit(r, { k = 'end', sid = sid, code = code, msg = msg })
  if not replaced and redis.call('HLEN', K_members(r)) == 0 then drop_room(r) end
end

local function set_live(r, sid, live)
  for _, o in ipairs(streams_of(r, sid)) do
    if o[2].live ~= live then
      o[2].live = live
      redis.call('HSET', K_streams(r), o[1], cjson.encode(o[2]))
      emit(r, { k = 'live', id = o[1], live = live })
    end
  end
end

-- Is message `m` (decoded) for session `sid` of user `uid`?
local function is_for(m, sid, uid)
  if m.fs == sid then return false end
  if type(m.to) ~= 'table' or #m.to == 0 then return true end
  for _, u in ipairs(m.to) do if u == uid then return true end end
  return false
end

