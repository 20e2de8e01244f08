-- A streaming server's check (nginx auth_request) for each segment: round-robin over live SRM
-- sessions ("sessionId token" per line of the file given as the first script argument), each
-- request naming a segment of the session's content in X-Original-URI, as nginx sends it.
local sessions = {}
local counter = 0

init = function(args)
  for line in io.lines(args[1]) do
    local sid = line:match("(%S+) %S+")
    sessions[#sessions + 1] = sid
  end
end

request = function()
  local sid = sessions[(counter % #sessions) + 1]
  counter = counter + 1
  local uri = "/hls/100001V3D/720p/seg-" .. (counter % 1000) .. ".ts?sessionId=" .. sid
  return wrk.format("GET", "/streaming/nginx/auth", {["X-Original-URI"] = uri}, "")
end

dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
