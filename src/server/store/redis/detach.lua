-- detach(room, session_id, node_id): the connection is gone; present for the grace, streams not
-- live. Only by the node the session is attached on (a stale node cannot detach a session that
-- moved to another node).
local r, sid, node = ARGV[4], ARGV[5], ARGV[6]
local s = redis.call('HMGET', K_sess(sid), 'r', 'a', 'node')
if s[1] == r and s[2] == '1' and s[3] == node then
  redis.call('HSET', K_sess(sid), 'a', '0')
  set_live(r, sid, false)
end
return reply(true)
