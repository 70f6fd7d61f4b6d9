-- join(room, user_id, user_name, client_id, session_id, max_members, node_id, grace_ms, new_room_session_id)
local r, uid, name, client, sid = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local maxm, node, grace, newrsid = tonumber(ARGV[9]), ARGV[10], tonumber(ARGV[11]), ARGV[12]
-- A retry of a join that already went through (its answer was lost): the same answer, no change.
local cur = redis.call('HMGET', K_sess(sid), 'r', 'u')
if cur[1] == r and cur[2] == uid then return reply({ joined = snapshot(r) }) end
-- The member limit first, so a refused login changes nothing (the same user's own slot counts as
-- free: it is replaced).
if room_exists(r) then
  local mx = tonumber(redis.call('HGET', K_room(r), 'max') or '0')
  if mx > 0 and redis.call('HLEN', K_members(r)) >= mx and redis.call('HEXISTS', K_members(r), uid) == 0 then
    return reply({ full = true })
  end
end
-- nil: nobody replaced here; false: replaced under the same name; a user: the old name.
local replaced = nil
local owner = redis.call('HGET', K_user(uid), 'c')
if owner then
  local other = owner ~= client
  for _, s in ipairs(redis.call('ZRANGE', K_usess(uid), 0, -1)) do
    local sr = redis.call('HMGET', K_sess(s), 'r', 'n')
    if sr[1] then
      local code, msg, why = 0, '', 'logout'
      if other then code, msg, why = @DUP_CODE@, '@DUP_MSG@', 'replaced' end
      if sr[1] == r then
        if sr[2] ~= name then replaced = { i = uid, n = sr[2] } else replaced = false end
        remove_session(s, why, code, msg, true)
      elseif other then
        remove_session(s, why, code, msg, false)
      end
    end
  end
end
if not room_exists(r) then
  redis.call('HSET', K_room(r), 'rsid', newrsid, 'max', maxm)
  redis.call('PERSIST', K_room(r))
end
redis.call('HSET', K_members(r), uid, sid .. '\n' .. name)
redis.call('SADD', K_ROOMS, r)
if replaced == nil then
  emit(r, { k = 'add', u = { i = uid, n = name }, sid = sid })
elseif replaced == false then
  -- Replaced under the same name: nobody sees anything (an event only for ordering).
  emit(r, { k = 'res', sid = sid, node = node })
else
  emit(r, { k = 'ren', old = replaced, new = { i = uid, n = name }, sid = sid })
end
redis.call('HSET', K_sess(sid), 'r', r, 'u', uid, 'n', name, 'c', client, 'a', '1', 'node', node)
redis.call('ZADD', K_DL, NOW + grace, sid)
redis.call('HSET', K_user(uid), 'c', client)
local n = redis.call('HINCRBY', K_user(uid), 'n', 1)
redis.call('ZADD', K_usess(uid), n, sid)
return reply({ joined = snapshot(r) })
