# SPDX-License-Identifier: GPL-2.0-only
"""Servers and clients whose TCP trouble is known, for test_saturation.py; 127.0.0.1 only.

  tcpload.py server PORT BACKLOG ACCEPT_MS SECONDS  listen(BACKLOG); one worker accepts a
      connection every ACCEPT_MS, answers one HTTP/1.0 request and closes; prints "ready"
  tcpload.py linger PORT N                          accepts N connections and closes each with
      SO_LINGER 0 (a reset) once the client's request arrived; prints "ready"
  tcpload.py ramp PORT STEPS TIMEOUT_S LOG          STEPS like 2,4,8: that many clients at
      once, one step a second; each connects (TIMEOUT_S), sends a request, reads the answer;
      LOG gets one JSON line: {"ok": N, "connect_failed": N, "other_failed": N}
  tcpload.py refused PORT N LOG                     N connects to a closed port; LOG: the
      number refused
  tcpload.py requests PORT N LOG                    N requests one after the other; LOG: the
      number answered
"""
import json
import socket
import struct
import sys
import threading
import time


def serve(port, backlog, accept_ms, seconds):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(backlog)
    s.settimeout(0.2)
    print("ready", flush=True)
    end = time.time() + seconds
    while time.time() < end:
        try:
            c, _ = s.accept()
        except socket.timeout:
            continue
        c.settimeout(2)
        try:
            c.recv(4096)
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except OSError:
            pass
        c.close()
        time.sleep(accept_ms / 1000)


def linger(port, n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    print("ready", flush=True)
    for _ in range(n):
        c, _ = s.accept()
        c.settimeout(5)
        c.recv(1)  # the request is there; the rest stays unread
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()


def one(port, timeout, res, lock):
    c = socket.socket()
    c.settimeout(timeout)
    try:
        c.connect(("127.0.0.1", port))
    except OSError:
        with lock:
            res["connect_failed"] += 1
        c.close()
        return
    try:
        c.sendall(b"GET /x HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            b = c.recv(4096)
            if not b:
                break
            data += b
        key = "ok" if data.startswith(b"HTTP/1.0 200") else "other_failed"
    except OSError:
        key = "other_failed"
    with lock:
        res[key] += 1
    c.close()


def ramp(port, steps, timeout, log):
    res = {"ok": 0, "connect_failed": 0, "other_failed": 0}
    lock = threading.Lock()
    threads = []
    for n in steps:
        step = [threading.Thread(target=one, args=(port, timeout, res, lock)) for _ in range(n)]
        for t in step:
            t.start()
        threads += step
        time.sleep(1)
    for t in threads:
        t.join()
    with open(log, "w") as f:
        f.write(json.dumps(res) + "\n")


def refused(port, n, log):
    k = 0
    for _ in range(n):
        c = socket.socket()
        try:
            c.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            k += 1
        c.close()
    with open(log, "w") as f:
        f.write("%d\n" % k)


def requests(port, n, log):
    k = 0
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            c.sendall(b"GET /x HTTP/1.0\r\n\r\n")
            k += c.recv(4096).startswith(b"HTTP/1.0 200")
        except ConnectionResetError:
            k += 0
        c.close()
    with open(log, "w") as f:
        f.write("%d\n" % k)


def main(a):
    if a[0] == "server":
        serve(int(a[1]), int(a[2]), float(a[3]), float(a[4]))
    elif a[0] == "linger":
        linger(int(a[1]), int(a[2]))
    elif a[0] == "ramp":
        ramp(int(a[1]), [int(x) for x in a[2].split(",")], float(a[3]), a[4])
    elif a[0] == "refused":
        refused(int(a[1]), int(a[2]), a[3])
    elif a[0] == "requests":
        requests(int(a[1]), int(a[2]), a[3])
    else:
        sys.exit("tcpload.py: unknown mode " + a[0])


if __name__ == "__main__":
    main(sys.argv[1:])
