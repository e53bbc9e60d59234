# SPDX-License-Identifier: GPL-2.0-only
"""An HTTP API whose requests do a known sequence of things, for test_exemplars.py.

    exemplarapp.py HTTP_PORT PG_PORT REDIS_PORT PROVIDER_PORT

A thread per connection (http.server.ThreadingHTTPServer) reads the request and does, in
this order:
  GET /orders/<id>[?slow=1]
      1 Redis GET orders:<id> (a miss: the key is never set),
      1 query LIST (with ?slow=1 it sleeps 0.2 s in the database, else 0),
      20 queries ONE, one per id LIST returned (an N+1),
      1 outbound GET http://127.0.0.1:PROVIDER_PORT/price/ok.
Each request's own time (from the return of the read of its request line to before its
response is written) goes to the file in $TIMING_LOG as "<path> <seconds>" lines.
Prints "ready" once it serves.
"""
import http.client
import http.server
import os
import re
import sys
import threading
import time

import psycopg2.pool
import redis

PORT, PG, REDIS, PROVIDER = (int(a) for a in sys.argv[1:5])
DSN = "host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable" % PG
LIST = "select id from items, (select pg_sleep(%s)) s order by id limit 20"
ONE = "select name from items where id = %s"

pool = psycopg2.pool.ThreadedConnectionPool(1, 8, DSN)
R = redis.Redis(host="127.0.0.1", port=REDIS, socket_timeout=10)
LOG = open(os.environ["TIMING_LOG"], "a") if os.environ.get("TIMING_LOG") else None
LOG_LOCK = threading.Lock()


def order(oid, slow):
    R.get("orders:%s" % oid)
    conn = pool.getconn()
    conn.autocommit = True
    try:
        cur = conn.cursor()
        cur.execute(LIST, (0.2 if slow else 0,))
        ids = [r[0] for r in cur.fetchall()]
        names = []
        for i in ids:
            cur.execute(ONE, (i,))
            names.append(cur.fetchone()[0])
    finally:
        pool.putconn(conn)
    c = http.client.HTTPConnection("127.0.0.1", PROVIDER, timeout=10)
    c.request("GET", "/price/ok")
    c.getresponse().read()
    c.close()
    return names


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def parse_request(self):
        self.t0 = time.monotonic()
        return super().parse_request()

    def do_GET(self):
        m = re.fullmatch(r"/orders/(\d+)(\?slow=1)?", self.path)
        if not m:
            self.send_error(404)
            return
        body = ("%d\n" % len(order(m.group(1), bool(m.group(2))))).encode()
        if LOG:
            with LOG_LOCK:
                LOG.write("%s %.6f\n" % (self.path, time.monotonic() - self.t0))
                LOG.flush()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


R.ping()
srv = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
srv.daemon_threads = True
print("ready", flush=True)
srv.serve_forever()
