-- read(what, ...): snapshot(room) | messages(room, after_id, replay_age_ms) | rooms() | seq(room)
local what = ARGV[4]
if what == 'snapshot' then
  return reply({ snap = snapshot(ARGV[5]) })
elseif what == 'messages' then
  local after, age = tonumber(ARGV[6]), tonumber(ARGV[7])
  local out = {}
  for _, e in ipairs(redis.call('LRANGE', K_replay(ARGV[5]), 0, -1)) do
    local m = cjson.decode(e)
    if m.id > after and NOW - m.at <= age then out[#out + 1] = e end
  end
  return reply({ list = out })
elseif what == 'rooms' then
  local out = {}
  for _, r in ipairs(redis.call('SMEMBERS', K_ROOMS)) do
    out[#out + 1] = { r, redis.call('HLEN', K_members(r)), redis.call('HLEN', K_streams(r)) }
  end
  return reply({ list = out })
elseif what == 'seq' then
  return reply({ seq = tonumber(redis.call('HGET', K_room(ARGV[5]), 'seq') or '0') })
end
return redis.error_reply('unknown read ' .. what)
