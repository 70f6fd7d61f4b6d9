-- publish(room, session_id, channel, stream_id, extra_info)
local r, sid, ch, id, extra = ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
local s = redis.call('HMGET', K_sess(sid), 'r', 'u', 'n', 'a')
if s[1] ~= r then return reply({ err = @NOT_LOGIN_ROOM@ }) end
if redis.call('SISMEMBER', K_FORBID, id) == 1 then return reply({ err = @PUBLISHER_FORBIDDEN@ }) end
local owner = redis.call('HGET', K_OWNERS, id)
local v = owner and redis.call('HGET', K_streams(r), id)
if owner then
  if owner ~= r .. '\n' .. sid or not v then return reply({ err = @PUBLISHER_STREAM_ID_TAKEN@ }) end
  local rec = cjson.decode(v)
  if rec.ch ~= ch then return reply({ err = @PUBLISHER_CHANNEL_BUSY@ }) end
  -- Published again by its owner (after a reconnect): nothing changes for others unless the
  -- extra info did.
  if rec.x ~= extra then
    rec.x = extra
    redis.call('HSET', K_streams(r), id, cjson.encode(rec))
    emit(r, { k = 'sx', st = { id = id, u = rec.u, x = extra } })
  end
  return reply({ ok = true })
end
for _, o in ipairs(streams_of(r, sid)) do
  if o[2].ch == ch then return reply({ err = @PUBLISHER_CHANNEL_BUSY@ }) end
end
local rec = { id = id, u = { i = s[2], n = s[3] }, x = extra, sid = sid, ch = ch, live = (s[4] == '1'), ct = NOW }
redis.call('HSET', K_streams(r), id, cjson.encode(rec))
redis.call('HSET', K_OWNERS, id, r .. '\n' .. sid)
emit(r, { k = 'sadd', rec = rec })
return reply({ ok = true })
