# SPDX-License-Identifier: GPL-2.0-only
"""A test HTTP/1.1 server with known latencies, for the integration tests.

  /items/<n>      sleeps ITEM_MS (50 ms, or the ITEM_MS environment variable) then answers
                  200, Content-Length framing
  /wait/<ms>      sleeps <ms> milliseconds then answers 200
  /unframed-<ms>  200 with no Content-Length and the connection kept open: "part one" at
                  once, "part two" <ms> later (a response of unknown length, ended by
                  sloprobe at the next request, the close or --quiet-ms of silence)
  /gate           waits (30 s at most) until the file GATE_FILE exists, then answers 200
  /health         answers 200 at once
  /missing/<n>    404
  /boom           500
  /drop           closes the connection without answering
  /chunked/<n>    200, n chunks of 1 KiB with Transfer-Encoding: chunked, 20 ms apart
  /big            200, 1 MiB body
  /slow-close     HTTP/1.0-style: no Content-Length, body ends at close (after 30 ms)
  POST /echo      reads the body (Content-Length), answers 201 with its length

With TLS_CERT=FILE and TLS_KEY=FILE it speaks HTTPS (Python's ssl module: OpenSSL).

Run: python3 httpserver.py PORT [WORKERS]  (prints "ready" when listening). With WORKERS > 1
the socket is bound once and WORKERS forked processes accept on it (prefork, like gunicorn).

With TIMING_LOG=FILE, the server appends one line "<METHOD> <target> <seconds>" per request:
its own time, from the moment its read of the request line returned to the moment it began
its last write. That time is inside the latency sloprobe measures (from the request's arrival,
at or before that read, to the end of the last write), as sloprobe's is inside the client's:
the tests bound sloprobe's figures by the two.
"""
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ITEM_MS = float(os.environ.get("ITEM_MS", "50"))
TIMING_LOG = os.environ.get("TIMING_LOG")
GATE_FILE = os.environ.get("GATE_FILE")


class TimedWriter:
    """The handler's wfile, noting when its last write began."""

    def __init__(self, w):
        self.w, self.t_write = w, None

    def write(self, b):
        self.t_write = time.monotonic()
        return self.w.write(b)

    def flush(self):
        return self.w.flush()

    def __getattr__(self, name):
        return getattr(self.w, name)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else Nagle + delayed ACK add 40 ms the server never sees

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        if TIMING_LOG:
            self.wfile = TimedWriter(self.wfile)

    def parse_request(self):
        # Called as soon as the read of the request line has returned.
        self.t_read = time.monotonic()
        return super().parse_request()

    def handle_one_request(self):
        self.t_read = None
        if TIMING_LOG:
            self.wfile.t_write = None
        super().handle_one_request()
        if TIMING_LOG and self.t_read is not None and self.wfile.t_write is not None:
            took = self.wfile.t_write - self.t_read
            with open(TIMING_LOG, "a") as f:
                f.write("%s %s %.6f\n" % (self.command, self.path, took))

    def reply(self, code, body=b"ok\n", close=False):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("/items/"):
            time.sleep(ITEM_MS / 1000.0)
            self.reply(200, b'{"id": 1}\n')
        elif path.startswith("/wait/"):
            time.sleep(int(path.rsplit("/", 1)[1]) / 1000.0)
            self.reply(200)
        elif path.startswith("/unframed-"):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"part one\n")
            time.sleep(int(path.rsplit("-", 1)[1]) / 1000.0)
            self.wfile.write(b"part two\n")
        elif path == "/gate":
            for _ in range(3000):
                if os.path.exists(GATE_FILE):
                    break
                time.sleep(0.01)
            self.reply(200)
        elif path == "/health":
            self.reply(200)
        elif path.startswith("/missing/"):
            self.reply(404, b"not found\n")
        elif path == "/drop":
            self.close_connection = True  # hang up without an answer
        elif path == "/boom":
            self.reply(500, b"error\n")
        elif path.startswith("/chunked/"):
            n = int(path.rsplit("/", 1)[1])
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(n):
                time.sleep(0.02)
                chunk = b"x" * 1024
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/big":
            self.reply(200, b"y" * (1 << 20))
        elif path == "/slow-close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"part one\n")
            self.wfile.flush()
            time.sleep(0.03)
            self.wfile.write(b"part two\n")
            self.close_connection = True
        else:
            self.reply(404, b"no route\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        self.reply(201, b"%d\n" % len(body))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def main():
    port = int(sys.argv[1])
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    srv = Server(("127.0.0.1", port), Handler)
    if os.environ.get("TLS_CERT"):
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.environ["TLS_CERT"], os.environ["TLS_KEY"])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    children = []
    for _ in range(workers - 1):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            srv.serve_forever()
            os._exit(0)
        children.append(pid)
    if children:
        def stop(*_):
            for pid in children:
                os.kill(pid, signal.SIGTERM)
            os._exit(0)
        signal.signal(signal.SIGTERM, stop)
        print("workers", " ".join(str(p) for p in children), flush=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
