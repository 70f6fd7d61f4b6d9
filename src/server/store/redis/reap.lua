-- reap(silence_ms, hold_ms, limit): removes sessions whose deadline passed (others see Delete,
-- streams Delete 2). After a silence of every reaper (Redis was down or restarted, or every node
-- was), nothing is reaped for hold_ms, so nodes can send the heartbeats they could not send.
local silence, hold_ms, limit = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local last = tonumber(redis.call('GET', P .. ':reap') or '-1')
redis.call('SET', P .. ':reap', NOW)
if hold_ms > 0 and (last < 0 or NOW - last > silence) then
  redis.call('SET', P .. ':hold', NOW + hold_ms)
end
local hold = tonumber(redis.call('GET', P .. ':hold') or '0')
if NOW < hold then return reply({ held = hold - NOW }) end
local expired = redis.call('ZRANGEBYSCORE', K_DL, '-inf', NOW, 'LIMIT', 0, limit)
for _, sid in ipairs(expired) do
  remove_session(sid, 'grace', 0, '', false)
end
return reply({ reaped = expired })
