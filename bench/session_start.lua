-- sessionStart: the seed's body, every request creates a new session for a new viewer (its own
-- analytics.visitorId, so visitor linking does real work without every request queueing on one
-- person's profile).
local counter = 0
local head = '{"playerTime":{"playhead":0,"ts":1509045324153},"eventType":"sessionStart",' ..
  '"params":{"media.playerName":"sample-html5-api-player","analytics.trackingServer":"example.sc.omtrdc.net",' ..
  '"analytics.reportSuite":"example-rsid","analytics.visitorId":"visitor-'
local tail = '","media.contentType":"VOD",' ..
  '"media.length":60.39333333333333,"media.id":"MA API Sample Player",' ..
  '"visitor.marketingCloudOrgId":"0123456789ABCDEF@AdobeOrg","media.name":"ClickMe",' ..
  '"media.channel":"sample-channel","media.sdkVersion":"va-api-0.0.0","analytics.enableSSL":false},' ..
  '"customMetadata":{"myCustomData":"value-1","myCustomData2":"value-2"}}'

request = function()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
    head .. tostring(counter) .. "-" .. tostring(math.random(1, 1000000000)) .. tail)
end

-- the RESULT line: report.lua beside this script
dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "report.lua")
