// SPDX-License-Identifier: GPL-2.0-only
// Express 4 (from tests/integration/node/node_modules) serving the conformance API: res.send()
// for the fixed routes (Express sets Content-Length and an ETag), res.write()/res.end() for
// /stream (chunked), express.raw() reading the POST body.
//
//   node express_app.js PORT LOG
//
// LOG: one line per request (node_timing.js): from the first middleware, in the tick that
// read the head, to the return of the last socket write, and a lower bound that ends just
// before that write.
//
// How it writes: Express sits on Node's http, so the layout is Node's (see node_http.js):
//   - res.send(): one writev [head + body, ""] with Content-Length;
//   - /stream (chunked): writev [head + "65", "\r\n", data, "\r\n"], then per chunk
//     writev ["65", "\r\n", data, "\r\n"]; the last one ends with the terminator as its own
//     iovec: [..., data, "\r\n", "0\r\n\r\n"];
//   - HTTP/1.0 /stream: write(head + data), writev [data, ""], then the close.
'use strict';
const path = require('path');
const timingLog = require('./node_timing');
const express = require(path.join(__dirname, '..', 'node', 'node_modules', 'express'));

const [port, logPath] = [Number(process.argv[2]), process.argv[3]];
if (!port || !logPath) {
  console.error('usage: express_app.js PORT LOG');
  process.exit(2);
}
const timed = timingLog(logPath);
const CHUNK = 'c'.repeat(100) + '\n';
const app = express();
app.set('etag', false); // no hashing of bodies: it would only add time the log also sees

app.use((req, res, next) => {
  timed(req, res);
  next();
});

app.get('/delay/:ms(\\d+)', (req, res) => {
  setTimeout(() => res.type('text').send(`delayed ${req.params.ms}\n`), Number(req.params.ms));
});

app.get('/stream/:n(\\d+)', (req, res) => {
  const n = Number(req.params.n);
  res.type('text');
  let i = 0;
  const next = () => {
    res.write(CHUNK);
    if (++i < n)
      return setTimeout(next, 10);
    res.end();
  };
  setTimeout(next, 10);
});

app.get('/missing/:id', (req, res) => res.status(404).type('text').send('not found\n'));
app.get('/boom', (req, res) => res.status(500).type('text').send('boom\n'));
app.post('/echo', express.raw({ type: '*/*', limit: '10mb' }), (req, res) => {
  res.status(201).type('text').send(`${req.body.length}\n`);
});

const server = app.listen(port, '127.0.0.1', () => console.log('ready'));
server.keepAliveTimeout = 30000;
process.on('SIGTERM', () => process.exit(0));
