-- refresh(grace_ms, session_id, age_ms, session_id, age_ms, ...): heartbeats in one batch. Each
-- deadline becomes (now - age + grace) if that is later; sessions that are gone are not re-added.
local grace = tonumber(ARGV[4])
local args = {}
local n = 0
for i = 5, #ARGV, 2 do
  args[#args + 1] = NOW - tonumber(ARGV[i + 1]) + grace
  args[#args + 1] = ARGV[i]
  if #args >= 1000 then
    n = n + redis.call('ZADD', K_DL, 'XX', 'GT', 'CH', unpack(args))
    args = {}
  end
end
if #args > 0 then n = n + redis.call('ZADD', K_DL, 'XX', 'GT', 'CH', unpack(args)) end
return reply(n)
