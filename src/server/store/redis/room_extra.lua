-- room_extra(room, session_id, key, value): one key per room.
local r, sid, key, value = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local s = redis.call('HMGET', K_sess(sid), 'r', 'u', 'n')
if s[1] ~= r or not room_exists(r) then return reply({ err = @ROOM_ID_INCORRECT@ }) end
local cur = redis.call('HGET', K_room(r), 'xk')
if cur and cur ~= key then return reply({ err = @ROOM_EXTRA_INFO_EXCEED_KEYS@ }) end
local u = { i = s[2], n = s[3] }
redis.call('HSET', K_room(r), 'xk', key, 'xv', value, 'xu', cjson.encode(u), 'xt', NOW)
emit(r, { k = 'rx', info = { key = key, value = value, u = u, t = NOW }, sid = sid })
return reply({ t = NOW })
