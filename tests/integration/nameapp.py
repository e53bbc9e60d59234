# SPDX-License-Identifier: GPL-2.0-only
"""An HTTP server that renames itself first, as any local user can:

    nameapp.py PORT NAME

prctl(PR_SET_NAME, NAME) (its process name, what /proc/PID/comm shows, cut to 15 bytes), then
200 "ok" to every GET, one thread. Prints "ready" once it serves.
"""
import ctypes
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

PR_SET_NAME = 15


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    port, name = int(sys.argv[1]), sys.argv[2].encode("utf-8", "surrogateescape")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0):
        sys.exit("prctl: errno %d" % ctypes.get_errno())
    server = HTTPServer(("127.0.0.1", port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
