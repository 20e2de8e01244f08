-- SRM setup: round-robin over devices (one Client-Token per line of the file given as the first
-- script argument). Each device's next setup replaces its previous session, as back-to-back
-- episodes do, so the account never hits its limit.
local tokens = {}
local counter = 0

init = function(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
end

request = function()
  local token = tokens[(counter % #tokens) + 1]
  counter = counter + 1
  return wrk.format("POST", "/srm/sessions",
    {["Content-Type"] = "application/json", ["Client-Token"] = token},
    '{"content":{"contentID":"100001V3D","contentType":"COD"}}')
end

dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
