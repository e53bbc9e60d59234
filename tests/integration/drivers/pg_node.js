// SPDX-License-Identifier: GPL-2.0-only
// Known PostgreSQL workloads from node-postgres (npm pg, pinned in tests/integration/node), each
// call timed by the client itself, for tests/integration/test_conformance_pg.py.
//
//     node pg_node.js MODE PORT WORKLOAD N OUT
//
// MODE: stock (pg as shipped) | writev (the same driver over a socket that corks each tick).
// WORKLOAD: sleep N (N x "select pg_sleep($1)" with 0.05) | prepared N (N executions of the
// named statement {name: 'q1'}). OUT gets {"calls": [ms...]}, the client's own timing.
//
// What goes on the wire (strace -f -e trace=write,writev,sendto,sendmsg,read,recvfrom, pg
// 8.13.1 on node 20):
//   stock   pg writes each message with its own stream.write(), so one parameterized query is
//           five write() syscalls: Parse (28 bytes for pg_sleep), Bind (25), Describe (7),
//           Execute (10), Sync (5); the answer comes in one read() of 75 bytes. A named
//           statement sends Parse only on its first execution (34 bytes for q1), then
//           Bind/Describe/Execute/Sync (24+7+10+5).
//   writev  node's net.Socket flushes what was written while corked with one writev(): the
//           messages of a query leave in ONE writev with one message per iovec: pg_sleep is
//           5 iovecs, 75 bytes; q1 is 5 iovecs, 105 bytes on its first run, then 4 iovecs
//           (Bind/Describe/Execute/Sync), 46 bytes. That is the layout of drivers that batch
//           a query's messages in one syscall; it goes through pg's documented `stream`
//           option, the protocol code is the driver's own.
'use strict';

const net = require('net');
const path = require('path');
const fs = require('fs');
const { Client } = require(path.join(__dirname, '..', 'node', 'node_modules', 'pg'));

const [mode, port, workload, nStr, out] = process.argv.slice(2);
const N = Number(nStr);

// Same statements as drivers/pg_python.py: the test matches rows by them.
const SLEEP_SQL = 'select pg_sleep($1)';
const PREPARED_SQL = 'select $1::int + 1 as prepared_v, pg_sleep(0.01)';
// Run once before the timed calls under another fingerprint: the first query of a driver
// loads code that no wire latency contains.
const WARMUP_SQL = 'select $1::float8 as warmup';

function corkedSocket() {
  const s = new net.Socket();
  // Installed at 'connect' (before pg's own listener sends the startup message): connect()
  // puts Socket.prototype.write back on the instance, undoing an earlier override.
  s.once('connect', () => {
    const write = s.write;
    // Everything pg writes in one tick (one query's messages) goes out together at uncork.
    s.write = function (...args) {
      if (!s.writableCorked) {
        s.cork();
        process.nextTick(() => s.uncork());
      }
      return write.apply(s, args);
    };
  });
  return s;
}

function msSince(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function main() {
  const config = { host: '127.0.0.1', port: Number(port), user: 'postgres', database: 'postgres' };
  if (mode === 'writev') config.stream = corkedSocket;
  else if (mode !== 'stock') throw new Error('unknown mode ' + mode);
  const c = new Client(config);
  await c.connect();
  await c.query(WARMUP_SQL, [1.0]);
  const calls = [];
  for (let i = 0; i < N; i++) {
    const t0 = process.hrtime.bigint();
    if (workload === 'sleep') await c.query(SLEEP_SQL, [0.05]);
    else if (workload === 'prepared')
      await c.query({ name: 'q1', text: PREPARED_SQL, values: [i] });
    else throw new Error('unknown workload ' + workload);
    calls.push(msSince(t0));
  }
  await c.end();
  fs.writeFileSync(out, JSON.stringify({ calls }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
