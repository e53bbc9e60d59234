# SPDX-License-Identifier: GPL-2.0-only
"""HTTP/1.x server latency from the syscall tracepoints, against a real server and clients."""
import json
import os
import subprocess

import pytest

from conftest import (HERE, SLOPROBE, Server, client, free_port, nearest_rank, record, sh,
                      within_truth)

ITEM_S = 0.050


# Its p50 is compared with the server's and the clients' timers: run alone (conftest.py:
# serial) so that the host's load does not widen the gap between them.
@pytest.mark.serial
def test_known_workload_counts_and_latency(tmp_path, server):
    """23 x /items/<n> taking 50 ms and 31 x /health, keep-alive and not, curl, wrk, python."""
    url = "http://127.0.0.1:%d" % server.port
    script = "\n".join([
        client("keepalive", server.port, "/items/", 1, 12) + " > %s/ka.txt" % tmp_path,
        # A new connection (and process) per request: no keep-alive; curl's own timer.
        "for i in $(seq 13 23); do curl -sf -o /dev/null -w '%%{http_code} %%{time_total}\\n' "
        "%s/items/$i >> %s/curl.txt; done" % (url, tmp_path),
        # curl reuses one connection for several URLs.
        "curl -sf " + " ".join("-o /dev/null %s/health" % url for _ in range(16)),
        "WRK_REQUESTS=15 WRK_PATH=/health wrk -t1 -c1 -d2s -s %s/stop_after.lua %s >/dev/null"
        % (HERE, url),
    ])
    run = record(tmp_path, ["-q", "--port", str(server.port)], sh(script))

    items = run.row("/items/{id}")
    assert items["count"] == 23
    assert items["status"] == {"200": 23}
    assert items["errors"] == {"4xx": 0, "5xx": 0, "5xx_ratio": 0}
    assert items["aborted"] == 0 and items["unfinished"] == 0
    # Truth from outside: the server's log of its own time for each request (it sleeps 50 ms)
    # and the clients' timers (clients.py, curl -w). sloprobe's server time contains the
    # server's and is inside the clients'; latency, from the request's arrival, adds the
    # moments before the server read it, still inside the clients'.
    server_ms = server.times_ms("/items/")
    client_ms = [float(l.split()[1]) * 1000 for name in ("ka.txt", "curl.txt")
                 for l in open(tmp_path / name)]
    assert len(server_ms) == 23 and len(client_ms) == 23
    assert min(server_ms) >= 50.0
    srv50, cli50 = nearest_rank(server_ms, 50), nearest_rank(client_ms, 50)
    server_p50 = items["server_ms"]["p50"]
    assert within_truth(server_p50, srv50, cli50), (server_p50, srv50, cli50)
    p50 = items["latency_ms"]["p50"]
    assert within_truth(p50, srv50, cli50), (p50, srv50, cli50)
    assert server_p50 <= p50 * (1 + 1 / 128), (server_p50, p50)
    assert items["histogram"]["count"] == 23
    assert sum(b[2] for b in items["histogram"]["buckets"]) == 23

    health = run.row("/health")
    assert health["count"] == 31
    assert health["status"] == {"200": 31}
    assert health["latency_ms"]["p99"] < 50

    assert len(run.report["http"]) == 2
    for r in run.report["http"]:
        assert r["service"] == "python3:%d" % server.port
        assert r["comm"] == "python3" and r["port"] == server.port
        assert r["pids"] == [server.pid]
        assert r["container"] is None


def test_status_codes_counted(tmp_path, server):
    script = "\n".join([
        client("keepalive", server.port, "/missing/", 1, 7),
        client("path", server.port, "/boom", 5),
        client("path", server.port, "/health", 3),
    ])
    run = record(tmp_path, ["-q", "--port", str(server.port)], sh(script))
    missing = run.row("/missing/{id}")
    assert missing["count"] == 7 and missing["status"] == {"404": 7}
    assert missing["errors"]["4xx"] == 7 and missing["errors"]["5xx"] == 0
    boom = run.row("/boom")
    assert boom["count"] == 5 and boom["status"] == {"500": 5}
    assert boom["errors"]["5xx"] == 5 and boom["errors"]["5xx_ratio"] == 1
    assert run.row("/health")["errors"] == {"4xx": 0, "5xx": 0, "5xx_ratio": 0}


def test_framing_chunked_large_close_pipelined_post(tmp_path, server):
    url = "http://127.0.0.1:%d" % server.port
    script = "\n".join([
        client("path", server.port, "/chunked/5", 3),
        client("path", server.port, "/big", 3),
        "curl -sf -o /dev/null %s/slow-close; curl -sf -o /dev/null %s/slow-close" % (url, url),
        client("pipeline", server.port, "/health", 4),
        client("post", server.port, 200000, 8),
    ])
    run = record(tmp_path, ["-q", "--port", str(server.port)], sh(script))

    chunked = run.row("/chunked/{id}")
    assert chunked["count"] == 3 and chunked["end_inferred"] == 0
    # Five chunks written 20 ms apart: the response ends with the last one, not the first.
    assert chunked["latency_ms"]["min"] >= 100
    assert chunked["ttfb_ms"]["max"] < chunked["latency_ms"]["min"]

    big = run.row("/big")
    assert big["count"] == 3 and big["status"] == {"200": 3} and big["incomplete"] == 0

    close = run.row("/slow-close")
    assert close["count"] == 2
    assert close["latency_ms"]["min"] >= 30  # the second write, 30 ms after the first

    health = run.row("/health")
    assert health["count"] == 4 and health["status"] == {"200": 4}
    assert health["pipelined"] >= 1

    echo = run.row("/echo", "POST")
    assert echo["count"] == 1 and echo["status"] == {"201": 1}


def test_connection_closed_mid_request_is_aborted(tmp_path, server):
    url = "http://127.0.0.1:%d" % server.port
    script = "\n".join([
        # The server hangs up without answering: aborted, not a latency sample.
        "curl -s -o /dev/null %s/drop || true" % url,
        "curl -s -o /dev/null %s/drop || true" % url,
        # The client sends half a head and hangs up: the server takes EOF as the end of the
        # head and answers; one request, not an orphan response.
        client("partial", server.port),
        client("path", server.port, "/health", 2),
    ])
    run = record(tmp_path, ["-q", "--port", str(server.port)], sh(script))
    assert run.row("/health")["count"] == 2
    drop = run.row("/drop")
    assert drop["count"] == 0 and drop["aborted"] == 2 and drop["status"] == {}
    assert drop["histogram"]["count"] == 0
    partial = run.row("/items/{id}")
    assert partial["count"] + partial["aborted"] == 1
    assert run.report["http_parser"]["responses_without_request"] == 0


def test_pid_filter_that_excludes_the_server_yields_no_rows(tmp_path, server):
    other = subprocess.Popen(["sleep", "60"])
    try:
        run = record(tmp_path, ["-q", "-p", str(other.pid)],
                     sh(client("path", server.port, "/health", 10)))
        assert run.report["http"] == []
        assert run.report["filters"]["pids"] == [other.pid]
        # Control: the same workload with the server's pid is seen.
        run = record(tmp_path, ["-q", "-p", str(server.pid)],
                     sh(client("path", server.port, "/health", 10)))
        assert run.row("/health")["count"] == 10
    finally:
        other.kill()
        other.wait()


def test_multi_worker_server_is_one_service(tmp_path):
    srv = Server(workers=3)
    try:
        url = "http://127.0.0.1:%d/health" % srv.port
        # New connections spread over the workers that accept them.
        script = "for i in $(seq 1 40); do curl -sf -o /dev/null %s; done" % url
        run = record(tmp_path, ["-q", "--port", str(srv.port)], sh(script))
        row = run.row("/health")
        assert row["count"] == 40
        assert row["service"] == "python3:%d" % srv.port
        assert set(row["pids"]) <= {srv.pid} | set(srv.workers)
        assert len(row["pids"]) >= 2
    finally:
        srv.stop()


def test_container_from_cgroup(tmp_path):
    """A server in a cgroup named the way Docker names them is reported as that container."""
    cid = os.urandom(32).hex()
    root = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
    cg = os.path.join(root, "system.slice", "docker-%s.scope" % cid)
    os.makedirs(cg)
    srv = outside = None
    try:
        srv = Server(cgroup=cg)
        outside = Server()
        script = "\n".join([client("path", srv.port, "/health", 6),
                            client("path", outside.port, "/health", 4)])
        run = record(tmp_path, ["-q", "--cgroup", cg], sh(script))
        row = run.row("/health")
        assert row["count"] == 6
        assert row["container"] == cid and row["runtime"] == "docker"
        assert row["service"] == "%s:%d" % (cid[:12], srv.port)
        assert row["cgroup"] == "/system.slice/docker-%s.scope" % cid
    finally:
        for s in (srv, outside):
            if s:
                s.stop()
        os.rmdir(cg)


def test_routes_patterns_cardinality_and_privacy(tmp_path, server):
    script = "\n".join([
        client("path", server.port, "/items/5?token=hunter2secret", 3),
        client("keepalive", server.port, "/missing/name-", 1, 150),
        client("path", server.port, "/missing/v1/users/42/orders", 2),
    ])
    run = record(tmp_path, ["-q", "--port", str(server.port), "--route-limit", "100",
                            "--route", "/missing/v1/users/{user}/orders"], sh(script))
    assert "hunter2secret" not in json.dumps(run.report["http"])
    assert run.row("/items/{id}")["count"] == 3
    assert run.row("/missing/v1/users/{user}/orders")["count"] == 2
    rows = run.rows()
    names = [r for r in rows if r["route"].startswith("/missing/name-")]
    collapsed = run.row("/missing/{*}")
    # 100 distinct values are kept, then the position collapses: nothing is lost.
    assert len(names) == 100
    assert sum(r["count"] for r in names) + collapsed["count"] == 150
    assert run.report["http_parser"]["route_positions_collapsed"] == 1


def test_finished_request_reaches_live_view_on_idle_keepalive(tmp_path, server):
    """One request, then the connection stays open and silent: the row shows in an interval."""
    run = record(tmp_path, ["-i", "0.5", "--port", str(server.port)],
                 sh(client("idle", server.port, "/items/9", 2.5)))
    out = run.out
    assert out.startswith("Tracing HTTP servers (port %d) while /bin/sh runs... "
                          "Hit Ctrl-C to end." % server.port)
    intervals = out.split("\n\n")
    live = [i for i in intervals if "/items/{id}" in i and "Summary" not in i]
    assert live, out
    row = [l for l in live[0].splitlines() if "/items/{id}" in l][0].split()
    assert row[0] == "GET" and row[2] == "1"
    # The live view fits 100 columns (the report's path, pytest's, is as long as it is).
    for line in out.splitlines():
        assert len(line) <= 100 or line.startswith("Report written to "), line
    assert "METHOD  ROUTE" in out
    assert "events " in out and "dropped 0" in out
    assert "Summary:" in out


def test_second_connect_on_one_socket_is_one_connection(tmp_path, server):
    """ab (APR) connects non-blocking, gets EINPROGRESS and calls connect() again: the socket
    must stay one tracked connection, or every connection leaks an entry until the table is
    full and requests are lost. A small --max-conns makes a leak show within the run."""
    n = 3000
    run = record(tmp_path, ["-q", "--port", str(server.port), "--max-conns", "512"],
                 ["ab", "-q", "-n", str(n), "-c", "10", "http://127.0.0.1:%d/health" % server.port])
    health = run.row("/health")
    assert health["count"] == n and health["status"] == {"200": n}
    assert health["aborted"] == 0 and health["unfinished"] == 0
    conns = run.report["connections"]
    # Both ends are traced (ab's side is an outbound connection on the filtered port).
    assert conns["evicted"] == 0, conns
    assert conns["peak"] <= 40, conns
    # Every connection once (n of ab's, n accepted) and all of them closed: no leak. ab may
    # open a connection or two it closes unused as it stops (seen 1 run in 8: 6002 = 6002,
    # requests still 3000), at most one per concurrent client.
    assert conns["opened"] == conns["closed"], conns
    assert 2 * n <= conns["opened"] <= 2 * (n + 10), conns
    assert len(run.report["http"]) == 1


BUSY_JS = r"""
// One thread, 4 ms of CPU per request: a server of known capacity (250 requests/s).
const http = require('http');
http.createServer((req, res) => {
  const t = process.hrtime.bigint();
  while (process.hrtime.bigint() - t < 4000000n) {}
  res.end('ok');
}).listen(+process.argv[2], '127.0.0.1', () => console.log('ready'));
"""


def wrk_p50_ms(out):
    """wrk --latency's 50 % line, in ms."""
    for line in out.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == "50%":
            v = f[1]
            for unit, k in (("us", 1e-3), ("ms", 1.0), ("s", 1e3)):
                if v.endswith(unit):
                    return float(v[:-len(unit)]) * k
    raise AssertionError("no 50%% line in wrk output: %s" % out)


# Compared with wrk's own percentiles on saturated cores: run alone (conftest.py: serial).
@pytest.mark.serial
def test_latency_from_arrival_under_saturation(tmp_path):
    """A single-threaded server at 4 ms per request, driven by 1, 4 and 8 connections: the
    client waits ~4 ms x connections, most of it in the socket's receive queue. Latency from
    the request's arrival matches what wrk measures at every step; the server's own time stays
    ~4 ms and the wait is ~0 below capacity."""
    (tmp_path / "busy.js").write_text(BUSY_JS)
    port = free_port()
    srv = subprocess.Popen(["node", str(tmp_path / "busy.js"), str(port)],
                           stdout=subprocess.PIPE, text=True)
    try:
        assert srv.stdout.readline().strip() == "ready"
        steps = {"one": 1, "four": 4, "eight": 8}
        script = "\n".join(
            "wrk -t1 -c%d -d3s --latency http://127.0.0.1:%d/%s > %s/%s.txt" % (
                c, port, name, tmp_path, name) for name, c in steps.items())
        # And one ramp on one route, for the saturation finder: 1, 4, 8 connections.
        script += "\n" + "\n".join(
            "wrk -t1 -c%d -d3s http://127.0.0.1:%d/ramp > /dev/null" % (c, port)
            for c in (1, 4, 8))
        run = record(tmp_path, ["-q", "--port", str(port)], sh(script))
        for name, c in steps.items():
            row = run.row("/" + name)
            client = wrk_p50_ms((tmp_path / ("%s.txt" % name)).read_text())
            p50, server, wait = (row["latency_ms"]["p50"], row["server_ms"]["p50"],
                                 row["wait_ms"]["p50"])
            # wrk's time includes its own loopback, parsing and the wait for its thread to run
            # again (2 cores shared with the server and the tracer: 13.04 vs 14.28 ms seen at
            # 4 connections): sloprobe's is at most that, and within 10 % of it. The server's
            # own time (4 ms) is far below either.
            assert p50 <= client * 1.0079 + 0.5, (name, p50, client)
            assert p50 >= client * 0.90 - 0.5, (name, p50, client)
            assert 3.9 <= server <= 6.0, (name, server)
            if c == 1:
                assert wait < 0.5, (name, wait)
            else:
                assert wait >= (c - 2) * 4.0, (name, wait)
        assert run.report["definitions"]["latency_from"] == "arrival"
        # Throughput is flat from the first connection (the server is at capacity at once):
        # the saturation point is where requests began to queue, in the 4-connection step.
        out = subprocess.run([SLOPROBE, "report", str(tmp_path / "report.json")],
                             capture_output=True, text=True, timeout=30).stdout
        sat = [l for l in out.splitlines() if "GET /ramp" in l and "at capacity from" in l]
        assert len(sat) == 1, out
        # Three 3 s steps before the ramp, then 3 s at 1 connection: 4 connections from ~12 s.
        t = float(sat[0].split("at capacity from t=")[1].split()[0])
        assert 11 <= t <= 16, sat[0]
        # The old definition is one option away: the server's time only.
        run = record(tmp_path, ["-q", "--port", str(port), "--latency-from", "read"],
                     ["wrk", "-t1", "-c8", "-d2s", "http://127.0.0.1:%d/eight" % port])
        assert run.row("/eight")["latency_ms"]["p50"] <= 6.0
        assert run.report["definitions"]["latency_from"] == "read"
    finally:
        srv.terminate()
        srv.wait(10)
