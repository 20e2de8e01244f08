-- SRM keep-alive: round-robin over live sessions ("sessionId token" per line of the file given
-- as the first script argument).
local sessions = {}
local counter = 0

init = function(args)
  for line in io.lines(args[1]) do
    local sid, token = line:match("(%S+) (%S+)")
    sessions[#sessions + 1] = {sid, token}
  end
end

request = function()
  local entry = sessions[(counter % #sessions) + 1]
  counter = counter + 1
  return wrk.format("PUT", "/srm/sessions/" .. entry[1], {["Client-Token"] = entry[2]}, "")
end

dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
