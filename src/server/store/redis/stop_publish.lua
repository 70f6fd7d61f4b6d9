-- stop_publish(room, session_id, stream_id)
local r, sid, id = ARGV[4], ARGV[5], ARGV[6]
if redis.call('HGET', K_OWNERS, id) == r .. '\n' .. sid then remove_stream(r, id, @DR_STOPPED@) end
return reply(true)
