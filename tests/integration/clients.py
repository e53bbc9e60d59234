# SPDX-License-Identifier: GPL-2.0-only
"""Known HTTP workloads for the integration tests. Prints one line per request:
"<status> <seconds>" as the client measured it.

  clients.py keepalive PORT PATH_PREFIX FIRST COUNT   one connection, PATH_PREFIX<i> for i in range
  clients.py path PORT PATH COUNT                      one connection, the same path COUNT times
  clients.py paths PORT PATH [PATH...]                 one connection, each path once, in order
  clients.py pipeline PORT PATH COUNT                  COUNT requests in one write, then read
  clients.py post PORT SIZE PIECES                     a POST body of SIZE bytes in PIECES writes
  clients.py partial PORT                              half a request head, then close
  clients.py idle PORT PATH SECONDS                    one request, then keep the connection open

With CLIENT_TLS=1, keepalive, path and paths speak HTTPS (no certificate check).
"""
import http.client
import os
import socket
import ssl
import sys
import time


def connection(port):
    if os.environ.get("CLIENT_TLS") == "1":
        return http.client.HTTPSConnection("127.0.0.1", port, timeout=30,
                                           context=ssl._create_unverified_context())
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def keepalive(port, paths):
    conn = connection(port)
    for p in paths:
        t = time.monotonic()
        conn.request("GET", p)
        r = conn.getresponse()
        r.read()
        print(r.status, "%.6f" % (time.monotonic() - t), flush=True)
    conn.close()


def read_response(f):
    """Status of one Content-Length framed response read from f."""
    status = int(f.readline().split()[1])
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    f.read(length)
    return status


def pipeline(port, path, count):
    s = socket.create_connection(("127.0.0.1", port))
    req = ("GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path).encode()
    s.sendall(req * count)
    f = s.makefile("rb")
    for _ in range(count):
        print(read_response(f), "0", flush=True)
    s.close()


def post(port, size, pieces):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = ("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % size).encode()
    s.sendall(head)
    body = b"z" * size
    step = (size + pieces - 1) // pieces
    for i in range(0, size, step):
        time.sleep(0.005)
        s.sendall(body[i:i + step])
    r = http.client.HTTPResponse(s)
    r.begin()
    r.read()
    print(r.status, "0", flush=True)
    s.close()


def partial(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /items/77 HTTP/1.1\r\nHost: t\r\n")
    time.sleep(0.1)
    s.close()
    print("0 0", flush=True)


def idle(port, path, seconds):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    print(r.status, "0", flush=True)
    time.sleep(seconds)
    conn.close()


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "keepalive":
        first, count = int(sys.argv[4]), int(sys.argv[5])
        keepalive(port, ["%s%d" % (sys.argv[3], i) for i in range(first, first + count)])
    elif cmd == "path":
        keepalive(port, [sys.argv[3]] * int(sys.argv[4]))
    elif cmd == "paths":
        keepalive(port, sys.argv[3:])
    elif cmd == "pipeline":
        pipeline(port, sys.argv[3], int(sys.argv[4]))
    elif cmd == "post":
        post(port, int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "partial":
        partial(port)
    elif cmd == "idle":
        idle(port, sys.argv[3], float(sys.argv[4]))
    else:
        sys.exit("unknown workload " + cmd)


if __name__ == "__main__":
    main()
