-- sessionStart: the seed's body, every request creates a new session.
wrk.method = "POST"
wrk.path = "/api/v1/sessions"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"playerTime":{"playhead":0,"ts":1509045324153},"eventType":"sessionStart",' ..
  '"params":{"media.playerName":"sample-html5-api-player","analytics.trackingServer":"example.sc.omtrdc.net",' ..
  '"analytics.reportSuite":"example-rsid","analytics.visitorId":"visitor-42","media.contentType":"VOD",' ..
  '"media.length":60.39333333333333,"media.id":"MA API Sample Player",' ..
  '"visitor.marketingCloudOrgId":"0123456789ABCDEF@AdobeOrg","media.name":"ClickMe",' ..
  '"media.channel":"sample-channel","media.sdkVersion":"va-api-0.0.0","analytics.enableSSL":false},' ..
  '"customMetadata":{"myCustomData":"value-1","myCustomData2":"value-2"}}'

done = function(summary, latency, requests)
  io.write(string.format('RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
