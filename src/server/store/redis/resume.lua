-- resume(room, session_id, user_id, last_msg_id, node_id, grace_ms, replay_age_ms)
local r, sid, uid, last, node = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8]
local grace, age = tonumber(ARGV[9]), tonumber(ARGV[10])
local t = redis.call('GET', K_tomb(sid))
if t then
  local code, msg = split2(t)
  return reply({ kicked = { code = tonumber(code), msg = msg } })
end
local s = redis.call('HMGET', K_sess(sid), 'r', 'u')
if s[1] ~= r or s[2] ~= uid then return reply({ gone = true }) end
redis.call('HSET', K_sess(sid), 'a', '1', 'node', node)
redis.call('ZADD', K_DL, NOW + grace, sid)
emit(r, { k = 'res', sid = sid, node = node })
set_live(r, sid, true)
local missed = {}
for _, e in ipairs(redis.call('LRANGE', K_replay(r), 0, -1)) do
  local m = cjson.decode(e)
  if NOW - m.at <= age and m.id > last and is_for(m, sid, uid) then missed[#missed + 1] = e end
end
return reply({ resumed = { snap = snapshot(r), missed = missed } })
