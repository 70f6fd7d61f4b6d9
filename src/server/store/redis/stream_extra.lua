-- stream_extra(room, session_id, channel, extra_info)
local r, sid, ch, extra = ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7]
for _, o in ipairs(streams_of(r, sid)) do
  if o[2].ch == ch then
    if o[2].x ~= extra then
      o[2].x = extra
      redis.call('HSET', K_streams(r), o[1], cjson.encode(o[2]))
      emit(r, { k = 'sx', st = { id = o[1], u = o[2].u, x = extra } })
    end
    return reply({ ok = true })
  end
end
return reply({ err = @PUBLISHER_NOT_PUBLISHING@ })
