// Logs MassiveMusic preview plays with node-oauth, the signer of 7digital's own JavaScript
// client, exactly as an application using it would. Prints {status, body} as JSON.
//
//   node massivemusic.js <package> <base-url> <key> <secret> <form|json|query> <trackId>
"use strict";

const [, , pkg, base, key, secret, mode, trackId] = process.argv;
const { OAuth } = require(pkg);
const oauth = new OAuth(null, null, key, secret, "1.0", null, "HMAC-SHA1");
const url = `${base}/1.2/user/preview/log?country=GB`;
const played = new Date(Date.now() - 60_000).toISOString();
const entry = {
  userId: "node-user",
  country: "GB",
  trackId: Number(trackId),
  playMode: "online",
  dateTimePlayed: played,
  totalTimePlayed: 30,
  userAgent: `${pkg}/${mode}`,
};

function done(error, data, response) {
  const status = response ? response.statusCode : error && error.statusCode;
  process.stdout.write(JSON.stringify({ status, body: String(data ?? (error && error.data)) }));
}

if (mode === "form") {
  // One log as form fields; country in the query (as the page requires) and in the body.
  const fields = Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, String(v)]));
  oauth.post(url, null, null, fields, done);
} else if (mode === "json") {
  oauth.post(url, null, null, JSON.stringify({ logs: [entry] }), "application/json", done);
} else if (mode === "query") {
  // The signature in the query string instead of the Authorization header.
  const signed = oauth.signUrl(url, null, null, "POST");
  fetch(signed, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ logs: [entry] }),
  }).then(async (response) => {
    process.stdout.write(JSON.stringify({ status: response.status, body: await response.text() }));
  });
} else {
  throw new Error(`unknown mode ${mode}`);
}
