// SPDX-License-Identifier: GPL-2.0-only
// Node's own `http` module serving the conformance API, in one of two framings:
//
//   node node_http.js PORT LOG fixed      every response carries Content-Length, /stream too
//   node node_http.js PORT LOG streamed   res.write() then res.end(): Transfer-Encoding chunked
//
// LOG gets one line per request (node_timing.js): the time from the 'request' event to the
// return of the last socket write, and a lower bound that ends just before that write.
//
// How Node writes (strace -f -e trace=write,writev,sendto,sendmsg,sendfile, Node 20):
//   - a body in one call (res.end(body); Content-Length, set by us or by Node): one writev,
//     [head + body, ""] (an empty second iovec);
//   - fixed /stream: write(head + first chunk), write(chunk) ..., writev [last chunk, ""];
//   - streamed /stream (chunked): writev [head + "65", "\r\n", data, "\r\n"], then per
//     chunk writev ["65", "\r\n", data, "\r\n"], and the last chunk's writev carries the
//     terminator as its own iovec: ["65", "\r\n", data, "\r\n", "0\r\n\r\n"];
//   - HTTP/1.0 /stream: no chunking, no length: write(head + data), writev [data, ""], close.
'use strict';
const http = require('http');
const timingLog = require('./node_timing');

const [port, logPath, mode] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
if (!port || !logPath || !['fixed', 'streamed'].includes(mode)) {
  console.error('usage: node_http.js PORT LOG fixed|streamed');
  process.exit(2);
}
const timed = timingLog(logPath);
const CHUNK = 'c'.repeat(100) + '\n';

// One body in one call: in the fixed mode with an explicit length, in the streamed mode the
// way most handlers do it, res.end(body) and no length set by the handler (Node adds one).
function answer(res, status, body) {
  if (mode === 'fixed')
    res.writeHead(status, { 'Content-Type': 'text/plain',
                            'Content-Length': Buffer.byteLength(body) });
  else
    res.statusCode = status;
  res.end(body);
}

function stream(res, n) {
  if (mode === 'fixed')
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': n * CHUNK.length });
  else
    res.writeHead(200, { 'Content-Type': 'text/plain' });
  let i = 0;
  const next = () => {
    res.write(CHUNK);
    if (++i < n)
      return setTimeout(next, 10);
    res.end(); // the end of the body right after its last chunk, as the other servers do
  };
  setTimeout(next, 10);
}

const server = http.createServer((req, res) => {
  timed(req, res);
  const path = req.url.split('?')[0];
  let m;
  if (req.method === 'POST' && path === '/echo') {
    let n = 0;
    req.on('data', (d) => { n += d.length; });
    req.on('end', () => answer(res, 201, `${n}\n`));
  } else if ((m = path.match(/^\/delay\/(\d+)$/))) {
    setTimeout(() => answer(res, 200, `delayed ${m[1]}\n`), Number(m[1]));
  } else if ((m = path.match(/^\/stream\/(\d+)$/))) {
    stream(res, Number(m[1]));
  } else if (path.startsWith('/missing/')) {
    answer(res, 404, 'not found\n');
  } else if (path === '/boom') {
    answer(res, 500, 'boom\n');
  } else {
    answer(res, 404, 'no route\n');
  }
});
server.keepAliveTimeout = 30000;
server.listen(port, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
