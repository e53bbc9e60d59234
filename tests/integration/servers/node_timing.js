// SPDX-License-Identifier: GPL-2.0-only
// The timing log of the Node servers (node_http.js, express_app.js): one line per request,
//
//   METHOD TARGET STATUS MS LOWER_MS
//
// MS runs from the 'request' event (in the tick that read the head) to the return of the
// response's last socket write: the server's own measure. LOWER_MS ends just before that last
// write instead: both of its ends lie inside the interval sloprobe measures (from the read
// that returned the head to the return of the last write), so it can only be shorter than
// that interval, whatever the scheduler does; the test uses it as a lower bound.
//
// Why not simply the response's 'finish' event: Node emits it from the write's callback,
// which was seen to run up to 9 ms after the write on a busy machine. The write itself is
// synchronous (libuv tries the syscall at once; these responses are small enough never to
// wait for buffer space), so the stamps around _writeGeneric bracket the syscall.
'use strict';
const fs = require('fs');
const net = require('net');

const writeGeneric = net.Socket.prototype._writeGeneric;
net.Socket.prototype._writeGeneric = function (...args) {
  this.conformanceBeforeWrite = process.hrtime.bigint();
  const r = writeGeneric.apply(this, args);
  this.conformanceAfterWrite = process.hrtime.bigint();
  return r;
};

module.exports = function timingLog(path) {
  const fd = fs.openSync(path, 'a');
  return (req, res) => {
    const t0 = process.hrtime.bigint();
    const socket = req.socket; // res.socket is already detached when 'finish' runs
    res.on('finish', () => {
      // 'finish' comes after the last write of this response and before the next request's.
      const ms = Number(socket.conformanceAfterWrite - t0) / 1e6;
      const lower = Number(socket.conformanceBeforeWrite - t0) / 1e6;
      const target = req.originalUrl || req.url;
      fs.writeSync(fd, `${req.method} ${target} ${res.statusCode} ${ms.toFixed(3)} ` +
                       `${lower.toFixed(3)}\n`);
    });
  };
};
