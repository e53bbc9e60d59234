# SPDX-License-Identifier: GPL-2.0-only
"""Known Redis workloads from real drivers, for tests/integration/test_redis.py.

    redisclients.py PORT WORKLOAD [N]

Every command the workload sends on purpose is timed by the client and logged to stdout as
"<VERB> <seconds>" (a pipeline: one line "PIPELINE <n> <seconds> <wire seconds>", the wire time
from the first send's start to the last receive's end: redis-py packs the commands before it
sends and parses replies after its last read, time the server never sees). WORKLOAD:
    hits         SET user:<i>:plan (EX 600) for i in 1..30, then GET user:<i>:plan for i in
                 1..40: 30 hits, 10 misses (75 %)
    nottl N      N x SET page:<i> without a TTL
    pipeline N   one pipeline (no transaction) of N x SET bench:<i>, read at once
    blpop N      N x BLPOP on an empty list with a 0.05 s timeout: ~50 ms each, nil
    errors       GET on a list (WRONGTYPE), an unknown command (ERR), then PING
    multi        MULTI; SET tx:1; GET tx:1; INCR tx:n; EXEC (redis-py transaction pipeline)
    repeat N     N x GET cfg:flags (the same key, one connection)
    resp3 N      HELLO 3, then N x HGETALL h:<i> (maps), half of them missing
    heavy        SADD of 1500 members to big:set, SMEMBERS of it, KEYS big:*, a SET and a GET
                 of a 200 KiB value (blob:1)
Prints "done" on success; any failure is an exception (exit status 1).
"""
import socket
import sys
import time

import redis

PORT, WORKLOAD = int(sys.argv[1]), sys.argv[2]
N = int(sys.argv[3]) if len(sys.argv) > 3 else 1


def timed(verb, fn, *args):
    t = time.monotonic()
    r = fn(*args)
    print(verb, "%.6f" % (time.monotonic() - t), flush=True)
    return r


class WireTimer:
    """A socket that notes when its first send started and its last receive ended."""

    def __init__(self, sock):
        self._sock, self.first_send, self.last_recv = sock, None, None

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def sendall(self, data):
        if self.first_send is None:
            self.first_send = time.monotonic()
        return self._sock.sendall(data)

    def recv(self, n):
        data = self._sock.recv(n)
        self.last_recv = time.monotonic()
        return data

    def recv_into(self, buf, *args):
        n = self._sock.recv_into(buf, *args)
        self.last_recv = time.monotonic()
        return n


class WireTimedConnection(redis.Connection):
    def _connect(self):
        self.wire = WireTimer(super()._connect())
        return self.wire


def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def read_reply(f):
    """One RESP2/RESP3 reply from a buffered socket file (enough for HELLO and maps)."""
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t in b"+-:_,#(":
        return line
    if t in b"$=!":
        n = int(rest)
        return line + (f.read(n + 2) if n >= 0 else b"")
    if t in b"*~>%|":
        n = int(rest)
        k = 2 * n if t in b"%|" else n
        return line + b"".join(read_reply(f) for _ in range(max(k, 0)))
    raise ValueError("not RESP: %r" % line)


def main():
    r = redis.Redis(host="127.0.0.1", port=PORT, socket_timeout=10)
    r.ping()
    if WORKLOAD == "hits":
        for i in range(1, 31):
            timed("SET", r.set, "user:%d:plan" % i, "pro", 600)
        for i in range(1, 41):
            timed("GET", r.get, "user:%d:plan" % i)
    elif WORKLOAD == "nottl":
        for i in range(N):
            timed("SET", r.set, "page:%d" % i, "x" * 10)
    elif WORKLOAD == "pipeline":
        pool = redis.ConnectionPool(connection_class=WireTimedConnection, host="127.0.0.1",
                                    port=PORT, socket_timeout=10)
        r = redis.Redis(connection_pool=pool)
        r.ping()
        conn = pool.get_connection("PING")
        pool.release(conn)
        p = r.pipeline(transaction=False)
        for i in range(N):
            p.set("bench:%d" % i, "v")
        conn.wire.first_send = None
        t = time.monotonic()
        res = p.execute()
        done = time.monotonic()
        print("PIPELINE", len(res), "%.6f" % (done - t),
              "%.6f" % (conn.wire.last_recv - conn.wire.first_send), flush=True)
        assert len(res) == N
    elif WORKLOAD == "blpop":
        r.delete("empty:list")
        for _ in range(N):
            assert timed("BLPOP", r.blpop, "empty:list", 0.05) is None
    elif WORKLOAD == "errors":
        r.delete("l:1")
        r.rpush("l:1", "a")
        try:
            timed("GET", r.get, "l:1")
        except redis.ResponseError:
            pass
        try:
            timed("NOSUCHCMD", r.execute_command, "NOSUCHCMD", "x")
        except redis.ResponseError:
            pass
        timed("PING", r.ping)
    elif WORKLOAD == "multi":
        p = r.pipeline(transaction=True)
        p.set("tx:1", "a")
        p.get("tx:1")
        p.incr("tx:n")
        t = time.monotonic()
        p.execute()
        print("EXEC", "%.6f" % (time.monotonic() - t), flush=True)
    elif WORKLOAD == "repeat":
        r.set("cfg:flags", "1", ex=600)
        for _ in range(N):
            timed("GET", r.get, "cfg:flags")
    elif WORKLOAD == "resp3":
        # redis-py 4.3 speaks RESP2 only: RESP3 by hand, on a socket of its own.
        for i in range(0, N, 2):
            r.hset("h:%d" % i, mapping={"a": "1", "b": "2"})
        s = socket.create_connection(("127.0.0.1", PORT), timeout=10)
        f = s.makefile("rb")
        s.sendall(resp("HELLO", 3))
        assert read_reply(f).startswith(b"%")
        for i in range(N):
            t = time.monotonic()
            s.sendall(resp("HGETALL", "h:%d" % i))
            read_reply(f)
            print("HGETALL", "%.6f" % (time.monotonic() - t), flush=True)
        s.close()
    elif WORKLOAD == "heavy":
        r.sadd("big:set", *range(1500))
        assert len(timed("SMEMBERS", r.smembers, "big:set")) == 1500
        timed("KEYS", r.keys, "big:*")
        timed("SET", r.set, "blob:1", b"x" * 200 * 1024, 600)
        assert len(timed("GET", r.get, "blob:1")) == 200 * 1024
    else:
        raise SystemExit("unknown workload " + WORKLOAD)
    print("done", flush=True)


main()
