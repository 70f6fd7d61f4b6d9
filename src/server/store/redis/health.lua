-- health(candidate): the epoch (created from `candidate` and Redis's clock if there is none: a
-- fresh or emptied Redis) and the time.
local e = CUR_EPOCH
if not e then
  redis.call('SET', P .. ':epoch', ARGV[4] .. ':' .. NOW, 'NX')
  e = redis.call('GET', P .. ':epoch')
end
return { 'OK', cjson.encode({ epoch = e, now = NOW }) }
