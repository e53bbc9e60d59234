// SPDX-License-Identifier: GPL-2.0-only
// N sequential fetch() calls (undici: keep-alive, TLS through node's own OpenSSL), one line per
// call: "<status> <seconds>", as the client timed it.
//
//   NODE_TLS_REJECT_UNAUTHORIZED=0 node node_fetch_client.js URL N
'use strict';
const [url, n] = process.argv.slice(2);

(async () => {
  for (let i = 0; i < Number(n); i++) {
    const t0 = process.hrtime.bigint();
    const res = await fetch(`${url}/items/${i}?fetch`);
    await res.text();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`${res.status} ${s.toFixed(6)}`);
  }
})();
