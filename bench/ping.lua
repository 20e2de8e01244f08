-- Ping events on live sessions: round-robin over the session ids in the file given as the
-- first script argument; each round moves every session's ts by 1 s and its playhead by 1.
-- The second argument (a number of rounds) starts this run's clock after every earlier run's,
-- so each run's pings are new events, not late copies of the last run's.
local sids = {}
local counter = 0
local offset = 0

init = function(args)
  for line in io.lines(args[1]) do sids[#sids + 1] = line end
  offset = tonumber(args[2] or "0")
end

request = function()
  local sid = sids[(counter % #sids) + 1]
  local round = math.floor(counter / #sids) + 1
  counter = counter + 1
  local body = string.format('{"playerTime":{"playhead":%d,"ts":%d},"eventType":"ping"}',
    round, 1700000000000 + (offset + round) * 1000)
  return wrk.format("POST", "/api/v1/sessions/" .. sid .. "/events",
    {["Content-Type"] = "application/json"}, body)
end

-- the RESULT line: report.lua beside this script
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
