-- kick(room, code, message, all, user_id...): admin KickoutUser (all = "0") or CloseRoom ("1").
local r, code, msg, all = ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7]
local uids = {}
if all == '1' then
  uids = redis.call('HKEYS', K_members(r))
else
  for i = 8, #ARGV do uids[#uids + 1] = ARGV[i] end
end
for _, uid in ipairs(uids) do
  local sid = member(r, uid)
  if sid then remove_session(sid, 'kicked', code, msg, false) end
end
return reply(true)
