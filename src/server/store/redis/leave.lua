-- leave(room, session_id, why)
local r, sid, why = ARGV[4], ARGV[5], ARGV[6]
if redis.call('HGET', K_sess(sid), 'r') == r then remove_session(sid, why, 0, '', false) end
return reply(true)
