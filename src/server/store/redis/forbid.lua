-- forbid(stream_id, "1" forbid | "0" lift)
local id, on = ARGV[4], ARGV[5]
if on == '0' then
  redis.call('SREM', K_FORBID, id)
  return reply(true)
end
redis.call('SADD', K_FORBID, id)
local owner = redis.call('HGET', K_OWNERS, id)
if owner then
  local r = split2(owner)
  remove_stream(r, id, @DR_FORBIDDEN@)
end
return reply(true)
