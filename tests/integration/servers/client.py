# SPDX-License-Identifier: GPL-2.0-only
"""The conformance matrix's client: known requests, each timed and described, so that the test
knows what really went over the wire. Prints one line per request:

  <method> <target> <status> <seconds> <connection> <framing>

Every target carries a query string unique to the request (?q=<pid>.<n>), which the servers
log with the path: the test pairs each log line with its client line by it, as servers with
several workers log in the order they finish, not in the order of the requests. sloprobe
drops query strings from routes, so they change no row.

seconds runs from the first request byte sent to the last response byte received; the last
byte is where the framing says (Content-Length, the chunked terminator) or, for a response
with neither, the last byte of the body this API promises (its length is known for every
path), not the close that follows: a server may take its time to close, and that is not part
of its latency. connection numbers the TCP connections this process opened (a new one means
the server closed the last); framing is length, chunked or close.

  client.py seq PORT PATH...               HTTP/1.1 keep-alive, one connection while the
                                           server keeps it open
  client.py http10 PORT PATH...            HTTP/1.0 with Connection: close, one connection each
  client.py post PORT SIZE PIECES COUNT    COUNT x POST /echo, a SIZE-byte body sent in PIECES
                                           writes 5 ms apart, one connection each

A raw-socket client (not http.client) because it has to stop its clock at the last body byte
of responses that end at the close. A body of the wrong length fails the run.
"""
import itertools
import os
import re
import socket
import sys
import time

CHUNK_LINE = 101  # /stream/<n> sends n lines of 100 bytes and a newline
_serial = itertools.count(1)


def tagged(path):
    return "%s?q=%d.%d" % (path, os.getpid(), next(_serial))


def expected_body(method, path, size=0):
    if method == "POST":
        return len(b"%d\n" % size)
    m = re.match(r"^/(delay|stream)/(\d+)$", path)
    if m and m.group(1) == "delay":
        return len(b"delayed %s\n" % m.group(2).encode())
    if m:
        return CHUNK_LINE * int(m.group(2))
    if path.startswith("/missing/"):
        return len(b"not found\n")
    if path == "/boom":
        return len(b"boom\n")
    sys.exit("no such path in the API: " + path)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def more(self):
        d = self.s.recv(65536)
        if not d:
            raise EOFError("the server closed the connection mid-response")
        self.buf += d

    def take(self, n):
        while len(self.buf) < n:
            self.more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def line(self):
        while b"\r\n" not in self.buf:
            self.more()
        out, self.buf = self.buf.split(b"\r\n", 1)
        return out

    def at_eof(self):
        """Returns once the server has closed; fails on bytes after the response."""
        while not self.buf:
            d = self.s.recv(65536)
            if not d:
                return
            self.buf += d
        sys.exit("bytes after the response: %r" % self.buf[:80])

    def close(self):
        self.s.close()


def read_response(c, want_len, t0):
    """(status, seconds, framing, keep-alive, body) of one response read from c."""
    status_line = c.line()
    version, status = status_line.split(b" ")[0], int(status_line.split(b" ")[1])
    headers = {}
    while True:
        h = c.line()
        if not h:
            break
        k, _, v = h.partition(b":")
        headers[k.strip().lower()] = v.strip().lower()
    conn_hdr = headers.get(b"connection", b"")
    if b"chunked" in headers.get(b"transfer-encoding", b""):
        framing, body = "chunked", b""
        while True:
            size = int(c.line().split(b";")[0], 16)
            if size == 0:
                while c.line():  # trailers, then the empty line that ends the message
                    pass
                break
            body += c.take(size)
            c.take(2)
    elif b"content-length" in headers:
        framing, body = "length", c.take(int(headers[b"content-length"]))
    else:
        framing, body = "close", c.take(want_len)
    seconds = time.monotonic() - t0
    if len(body) != want_len:
        sys.exit("%d body bytes, the API sends %d" % (len(body), want_len))
    keep = (framing != "close" and b"close" not in conn_hdr
            and (version != b"HTTP/1.0" or b"keep-alive" in conn_hdr))
    if framing == "close":
        c.at_eof()
    return status, seconds, framing, keep, body


def report(method, path, status, seconds, conn, how):
    print(method, path, status, "%.6f" % seconds, conn, how, flush=True)


def seq(port, paths):
    c, n = None, 0
    for p in paths:
        if c is None:
            c, n = Conn(port), n + 1
        target = tagged(p)
        t = time.monotonic()
        c.s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (target, port)).encode())
        status, sec, how, keep, _ = read_response(c, expected_body("GET", p), t)
        report("GET", target, status, sec, n, how)
        if not keep:
            c.close()
            c = None
    if c:
        c.close()


def http10(port, paths):
    for n, p in enumerate(paths, 1):
        c, target = Conn(port), tagged(p)
        t = time.monotonic()
        c.s.sendall(("GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
                     % (target, port)).encode())
        status, sec, how, _, _ = read_response(c, expected_body("GET", p), t)
        report("GET", target, status, sec, n, how)
        if how != "close":
            c.at_eof()  # the server hangs up, as asked
        c.close()


def post(port, size, pieces, count):
    body = b"z" * size
    step = (size + pieces - 1) // pieces
    for n in range(1, count + 1):
        c, target = Conn(port), tagged("/echo")
        t = time.monotonic()
        c.s.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: "
                     "application/octet-stream\r\nContent-Length: %d\r\n\r\n"
                     % (target, port, size)).encode())
        for i in range(0, size, step):
            time.sleep(0.005)
            c.s.sendall(body[i:i + step])
        status, sec, how, _, got = read_response(c, expected_body("POST", "/echo", size), t)
        report("POST", target, status, sec, n, how)
        if got != b"%d\n" % size:
            sys.exit("the server read %r of a %d-byte body" % (got, size))
        c.close()


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "seq":
        seq(port, sys.argv[3:])
    elif cmd == "http10":
        http10(port, sys.argv[3:])
    elif cmd == "post":
        post(port, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit("unknown workload " + cmd)


if __name__ == "__main__":
    main()
