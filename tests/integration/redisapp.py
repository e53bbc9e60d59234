# SPDX-License-Identifier: GPL-2.0-only
"""An HTTP API with a Redis cache, for tests/integration/test_redis.py and test_html_render.py.

    redisapp.py PORT REDIS_PORT [PROVIDER_PORT]

GET /plan/<id>: reads user:<id>:plan twice (a repeated read: the cache's N+1) and cfg:flags
once: 3 Redis calls per request. GET /health: no Redis call. With PROVIDER_PORT (an HTTP
server on 127.0.0.1, test_outbound.py serve), GET /pay/<id>: one outbound call, GET
/shop/charge there, and no Redis call. Prints "ready" once listening.
"""
import http.client
import http.server
import re
import sys

import redis

PORT, REDIS_PORT = int(sys.argv[1]), int(sys.argv[2])
PROVIDER = int(sys.argv[3]) if len(sys.argv) > 3 else None
R = redis.Redis(host="127.0.0.1", port=REDIS_PORT, socket_timeout=10)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        m = re.fullmatch(r"/plan/(\d+)", self.path)
        if m:
            R.get("user:%s:plan" % m.group(1))
            plan = R.get("user:%s:plan" % m.group(1))
            R.get("cfg:flags")
            body = (plan or b"free") + b"\n"
        elif PROVIDER and re.fullmatch(r"/pay/\d+", self.path):
            c = http.client.HTTPConnection("127.0.0.1", PROVIDER, timeout=10)
            c.request("GET", "/shop/charge")
            body = c.getresponse().read()
            c.close()
        elif self.path == "/health":
            body = b"ok\n"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


R.ping()
srv = http.server.HTTPServer(("127.0.0.1", PORT), Handler)
print("ready", flush=True)
srv.serve_forever()
