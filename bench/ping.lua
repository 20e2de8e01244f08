-- Ping events on live sessions: round-robin over the session ids in the file given as the
-- first script argument; each round moves every session's ts by 1 s and its playhead by 1.
local sids = {}
local counter = 0

init = function(args)
  for line in io.lines(args[1]) do sids[#sids + 1] = line end
end

request = function()
  local sid = sids[(counter % #sids) + 1]
  local round = math.floor(counter / #sids) + 1
  counter = counter + 1
  local body = string.format('{"playerTime":{"playhead":%d,"ts":%d},"eventType":"ping"}',
    round, 1700000000000 + round * 1000)
  return wrk.format("POST", "/api/v1/sessions/" .. sid .. "/events",
    {["Content-Type"] = "application/json"}, body)
end

-- the RESULT line: report.lua beside this script
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
