-- send(room, from_session|"", from_user_id, from_user_name, kind, content, client_seq|"", to (JSON
--      array), replay_max, replay_age_ms, broadcasts_per_sec, barrages_per_sec, recent_sends)
local r, fs, fuid, fname, kind, content = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local cseq = tonumber(ARGV[10])
local to = cjson.decode(ARGV[11])
local rmax, rage, bps, gps, keep = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16])
local kr = K_room(r)
if not room_exists(r) then return reply({ err = @MESSAGE_ROOM_NOT_JOINED@ }) end
local ks = nil
if fs ~= '' then
  ks = K_sess(fs)
  if redis.call('HGET', ks, 'r') ~= r then return reply({ err = @MESSAGE_ROOM_NOT_JOINED@ }) end
end
-- A seq this client already sent: the first answer, nothing sent again. Kept per client id, not
-- per session: a send whose answer was lost is resent after the reconnect, and when that was a
-- fresh login (the grace passed) the new session must still recognise it (contract §7.1, each
-- message once). A client without an id is keyed by its session. Forgotten TOMB_TTL after the
-- client's last send.
local sends, kc = nil, nil
if ks and cseq then
  local client = redis.call('HGET', ks, 'c') or ''
  if client == '' then kc = P .. ':cs:s:' .. fs else kc = P .. ':cs:c:' .. client end
  sends = cjson.decode(redis.call('GET', kc) or '[]')
  for _, e in ipairs(sends) do
    if e[1] == cseq then
      if e[2] == 0 then return reply({ id = e[3] }) end
      return reply({ err = e[2] })
    end
  end
end
local verdict = 0
if kind == 'broadcast' then
  if ks then
    local times = cjson.decode(redis.call('HGET', ks, 'bc') or '[]')
    local keep_t = {}
    for _, t in ipairs(times) do if NOW - t < 1000 then keep_t[#keep_t + 1] = t end end
    if #keep_t >= bps then
      verdict = @MESSAGE_RATE_LIMITED@
    else
      keep_t[#keep_t + 1] = NOW
    end
    redis.call('HSET', ks, 'bc', cjson.encode(keep_t))
  end
elseif kind == 'barrage' then
  local w = redis.call('HMGET', kr, 'bw_t', 'bw_n')
  local wt, wn = tonumber(w[1] or '0'), tonumber(w[2] or '0')
  if not w[1] or NOW - wt >= 1000 then wt, wn = NOW, 0 end
  if wn >= gps then
    verdict = @MESSAGE_RATE_LIMITED@
  else
    wn = wn + 1
  end
  redis.call('HSET', kr, 'bw_t', wt, 'bw_n', wn)
end
local id = 0
if verdict == 0 then
  id = redis.call('HINCRBY', kr, 'mid', 1)
  local m = { kind = kind, c = content, id = id, t = NOW, u = { i = fuid, n = fname }, fs = fs, to = to, at = NOW }
  if kind ~= 'barrage' then
    local kq = K_replay(r)
    redis.call('RPUSH', kq, cjson.encode(m))
    redis.call('LTRIM', kq, -rmax, -1)
    while true do
      local oldest = redis.call('LINDEX', kq, 0)
      if not oldest or NOW - cjson.decode(oldest).at <= rage then break end
      redis.call('LPOP', kq)
    end
  end
  emit(r, { k = 'msg', m = m })
end
if sends then
  sends[#sends + 1] = { cseq, verdict, id }
  while #sends > keep do table.remove(sends, 1) end
  redis.call('SET', kc, cjson.encode(sends), 'PX', @TOMB_TTL_MS@)
end
if verdict ~= 0 then return reply({ err = verdict }) end
return reply({ id = id })
