-- restore(grace_ms, sessions JSON): after Redis lost its data, a node registers its sessions
-- again (same session ids), silently: no events (every node re-reads its rooms afterwards). A
-- session whose user has meanwhile logged in again, or whose stream id is taken, is skipped.
-- Each room's sequence continues above what the node had seen.
local grace = tonumber(ARGV[4])
local list = cjson.decode(ARGV[5])
local skipped = {}
for _, x in ipairs(list) do
  local r, sid, uid = x.r, x.sid, x.u.i
  local kr = K_room(r)
  local ok = redis.call('EXISTS', K_sess(sid)) == 0 and not redis.call('HGET', K_members(r), uid)
  local owner = redis.call('HGET', K_user(uid), 'c')
  if owner and owner ~= x.c then ok = false end
  if ok then
    if not room_exists(r) then
      redis.call('HSET', kr, 'rsid', x.rsid, 'max', x.max)
      redis.call('PERSIST', kr)
    end
    local seq = tonumber(redis.call('HGET', kr, 'seq') or '0')
    if seq < x.seq then redis.call('HSET', kr, 'seq', x.seq) end
    local mid = tonumber(redis.call('HGET', kr, 'mid') or '0')
    if mid < x.mid then redis.call('HSET', kr, 'mid', x.mid) end
    redis.call('HSET', K_members(r), uid, sid .. '\n' .. x.u.n)
    redis.call('SADD', K_ROOMS, r)
    local a = '0'
    if x.a then a = '1' end
    redis.call('HSET', K_sess(sid), 'r', r, 'u', uid, 'n', x.u.n, 'c', x.c, 'a', a, 'node', x.node)
    redis.call('ZADD', K_DL, NOW - x.age + grace, sid)
    redis.call('HSET', K_user(uid), 'c', x.c)
    local n = redis.call('HINCRBY', K_user(uid), 'n', 1)
    redis.call('ZADD', K_usess(uid), n, sid)
    for _, st in ipairs(x.st) do
      if not redis.call('HGET', K_OWNERS, st.id) and redis.call('SISMEMBER', K_FORBID, st.id) == 0 then
        local rec = { id = st.id, u = x.u, x = st.x, sid = sid, ch = st.ch, live = x.a, ct = st.ct }
        redis.call('HSET', K_streams(r), st.id, cjson.encode(rec))
        redis.call('HSET', K_OWNERS, st.id, r .. '\n' .. sid)
      end
    end
  else
    skipped[#skipped + 1] = sid
  end
end
return reply({ skipped = skipped })
