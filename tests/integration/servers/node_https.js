// SPDX-License-Identifier: GPL-2.0-only
// One handler behind two listeners, HTTPS (Node's `https`: OpenSSL linked into the node
// executable, fed from memory by Node itself) and its cleartext twin (`http`):
//
//   node node_https.js TLS_PORT PLAIN_PORT CERT KEY LOG
//
// /items/<n> answers after ITEM_MS (30) ms, anything else 404. LOG gets one line per request,
// "PORT TARGET LOWER_MS": from the 'request' event (after the read that returned the head) to
// just before the response is written, which lies inside what sloprobe measures.
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');

const [tlsPort, plainPort, cert, key, logPath] = process.argv.slice(2);
const itemMs = Number(process.env.ITEM_MS || 30);
const log = fs.openSync(logPath, 'a');

function handler(port) {
  return (req, res) => {
    const t0 = process.hrtime.bigint();
    const answer = (code, body) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      fs.writeSync(log, `${port} ${req.url} ${ms.toFixed(3)}\n`);
      res.writeHead(code, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
      res.end(body);
    };
    if (req.url.startsWith('/items/'))
      setTimeout(() => answer(200, '{"id": 1}\n'), itemMs);
    else
      answer(404, 'no route\n');
  };
}

let ready = 0;
const up = () => {
  if (++ready === 2)
    console.log('ready');
};
https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) },
                   handler(tlsPort)).listen(Number(tlsPort), '127.0.0.1', up);
http.createServer(handler(plainPort)).listen(Number(plainPort), '127.0.0.1', up);
