-- A streaming server's check (nginx auth_request) for each segment: round-robin over live SRM
-- sessions ("sessionId token" per line of the file given as the first script argument), each
-- request naming a segment of the session's content in X-Original-URI, as nginx sends it, with
-- the device's Client-Token (the check is bound to the device by default).
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
  local uri = "/hls/100001V3D/720p/seg-" .. (counter % 1000) .. ".ts?sessionId=" .. entry[1]
  local headers = {["X-Original-URI"] = uri, ["Client-Token"] = entry[2]}
  return wrk.format("GET", "/streaming/nginx/auth", headers, "")
end

dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
