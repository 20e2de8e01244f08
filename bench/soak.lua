-- The soak's requests, prepared by bench/soak.py: one request per line of the file given as the
-- first script argument (method, path, headers as "name: value" joined by \1, body; fields
-- separated by tabs), sent in order from the line given as the second argument, one request
-- per connection every third argument's milliseconds (so the rate is steady, not the most the
-- server can take).
local lines = {}
local counter = 0
local pause_ms = 100

init = function(args)
  local first = tonumber(args[2])
  pause_ms = tonumber(args[3])
  local n = 0
  for line in io.lines(args[1]) do
    n = n + 1
    if n > first then
      lines[#lines + 1] = line
    end
  end
end

delay = function()
  return pause_ms
end

request = function()
  counter = counter + 1
  local line = lines[counter] or lines[#lines]
  local method, path, head, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  local headers = {}
  for pair in head:gmatch("[^\1]+") do
    local name, value = pair:match("^([^:]+): (.*)$")
    headers[name] = value
  end
  return wrk.format(method, path, headers, body)
end

dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
