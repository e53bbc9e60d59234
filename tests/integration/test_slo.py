# SPDX-License-Identifier: GPL-2.0-only
"""record --slo: live breach marks, the final verdict, exit status 3, the timeline;
record --routes-from an OpenAPI document."""
import json
import subprocess

import pytest

from conftest import SLOPROBE, client, client_times_ms, nearest_rank, record, sh, within_truth
from test_analyze import DURATIONS_MS
from test_pg import pgclient, psql_sleep

# Per-interval verdicts of timed workloads: tests/run runs them alone (conftest.py: serial).
pytestmark = pytest.mark.serial

HEAD = "apiVersion: sloprobe/v1\nkind: SLO\n"

# 23 requests that take 50 ms each, then 3 answered 500 and 2 answered 404.
def load(port, tmp_path):
    return sh(" && ".join([
        client("keepalive", port, "/items/", 1, 23) + " > %s/ka.txt" % tmp_path,
        client("path", port, "/boom", 3),
        client("path", port, "/missing/1", 2),
    ]))


def slo_file(tmp_path, body):
    p = tmp_path / "slo.yaml"
    p.write_text(HEAD + body)
    return str(p)


def rows(run, name):
    return [r for r in run.report["slo"] if r["name"] == name]


def test_breach_exit_3_with_verdict_rows(tmp_path, server):
    slo = slo_file(tmp_path, """
slos:
  - name: items-fast
    http: {route: "/items/*"}
    objectives:
      - {p: 95, le: 40ms}
      - {errors: 5xx, le: 1%}
  - name: boom
    http: {route: /boom}
    objectives: ["rate<0.01"]
""")
    run = record(tmp_path, ["--slo", slo, "-P", str(server.port)], load(server.port, tmp_path),
                 check=False)
    assert run.rc == 3, run.err
    assert "SLO breached: 2 of 3 objectives" in run.err
    lat, err5 = rows(run, "items-fast")
    assert lat["objective"] == "p95 <= 40 ms" and lat["kind"] == "latency_percentile"
    assert lat["verdict"] == "breach"
    assert lat["total"] == 23 and lat["good"] == 0 and lat["bad"] == 23
    # The observed p95 is the nearest-rank p95 (the 22nd fastest of 23) of sloprobe's
    # latencies, each inside the client's time of its request and containing the server's
    # own: it lies between those two timers' p95, give or take the histogram's 1/128.
    cli = nearest_rank(client_times_ms(tmp_path / "ka.txt"), 95)
    srv = nearest_rank(server.times_ms("/items/"), 95)
    assert within_truth(lat["observed"], srv, cli), (lat["observed"], srv, cli)
    assert abs(lat["margin"] + lat["observed"] - 40) < 1e-6
    assert abs(lat["budget_consumed"] - 20) < 1e-9  # 23 bad of 5 % of 23 allowed
    assert lat["first_breach_s"] is not None and lat["breached_intervals"] >= 1
    assert err5["verdict"] == "pass" and err5["errors"] == 0 and err5["judged"] == 23
    assert err5["good"] == 23
    boom = rows(run, "boom")[0]
    assert boom["verdict"] == "breach" and boom["errors"] == 3 and boom["observed"] == 1
    assert run.report["slo_summary"]["verdict"] == "breach"
    # Live: the breaching endpoint is marked in the interval tables (stdout is not a tty).
    assert any(l.startswith("! GET     /items/{id}") for l in run.out.splitlines()), run.out
    assert "SLO this interval:" in run.out
    # The verdict table is printed at the end.
    assert "BREACH       items-fast" in run.out
    # The analyzer reuses the recorded exact counters, and gates the same way.
    p = subprocess.run([SLOPROBE, "report", str(tmp_path / "report.json"), "--slo", slo],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 3, p.stderr
    assert "2 passed" not in p.stdout and "1 passed, 2 breached" in p.stdout, p.stdout


def test_observed_is_nearest_rank_of_known_durations(tmp_path, server):
    """26 requests of 10, 20, ..., 260 ms (test_analyze.DURATIONS_MS): the observed value of
    each percentile objective is the nearest-rank percentile of the 26, between the server's
    and the client's own timers (p95 is the 25th, ~250 ms: the maximum, 260, would be wrong),
    and a threshold objective counts the good requests: 10 take at most 105 ms (as many as
    the client saw end within 105 ms, at most as many as the server took that long for)."""
    slo = slo_file(tmp_path, """
slos:
  - name: wait
    http: {route: "/wait/*"}
    objectives:
      - {p: 50, le: 5ms}
      - {p: 90, le: 5ms}
      - {p: 95, le: 5ms}
      - {p: 99, le: 5s}
      - {le: 105ms, target: 50%}
""")
    paths = ["/wait/%d" % ms for ms in DURATIONS_MS]
    run = record(tmp_path, ["-q", "--slo", slo, "-P", str(server.port)],
                 sh(client("paths", server.port, *paths) + " > %s/times.txt" % tmp_path),
                 check=False)
    assert run.rc == 3, run.err
    cli, srv = client_times_ms(tmp_path / "times.txt"), server.times_ms("/wait/")
    assert len(cli) == len(srv) == 26
    p50, p90, p95, p99, share = rows(run, "wait")
    for r, p, verdict in ((p50, 50, "breach"), (p90, 90, "breach"), (p95, 95, "breach"),
                          (p99, 99, "pass")):
        assert r["verdict"] == verdict and r["total"] == 26, r
        want = nearest_rank(srv, p), nearest_rank(cli, p)
        assert within_truth(r["observed"], *want), (p, r["observed"], want)
    # Good = latency <= 105 ms: at least the requests the client saw end within it, at most
    # those the server took at most that long.
    lo = sum(c <= 105 for c in cli)
    hi = sum(t <= 105 for t in srv)
    assert hi == 10 and lo <= share["good"] <= hi, (share, lo, hi)
    assert share["verdict"] == "breach" and share["total"] == 26


def test_pass_exit_0_protection_and_insufficient(tmp_path, server):
    slo = slo_file(tmp_path, """
min_samples: 20
protection: [409]
slos:
  - name: items
    http: {method: GET, route: "/items/{id}"}
    objectives:
      - {p: 95, le: 60ms}
      - "p(99)<=100ms"
      - {le: 55ms, target: 90%}
  - name: boom-protected
    http: {route: "/*"}
    per: all
    protection: [500]
    objectives: ["rate<0.01"]
  - name: few
    http: {route: "/missing/*"}
    objectives: ["p(95)<=1s"]
  - name: nobody
    http: {route: /nowhere}
    objectives: ["p(95)<=1s"]
""")
    run = record(tmp_path, ["-q", "--slo", slo, "-P", str(server.port)],
                 load(server.port, tmp_path), check=False)
    assert run.rc == 0, run.err
    verdicts = {(r["name"], r["objective"]): r for r in run.report["slo"]}
    for obj in ("p95 <= 60 ms", "p99 <= 100 ms", "90% of requests <= 55 ms"):
        r = verdicts[("items", obj)]
        assert r["verdict"] == "pass" and r["total"] == 23 and r["good"] == 23, r
    boom = verdicts[("boom-protected", "5xx rate < 1%")]
    assert boom["verdict"] == "pass" and boom["protected"] == 3 and boom["errors"] == 0
    assert boom["total"] == 28 and boom["judged"] == 25  # 23 + 3 + 2, protected not judged
    # 2 requests < min_samples 20: insufficient data, never a pass.
    assert verdicts[("few", "p95 <= 1 s")]["verdict"] == "insufficient_data"
    nobody = verdicts[("nobody", "p95 <= 1 s")]
    assert nobody["verdict"] == "insufficient_data" and not nobody["matched"]
    assert nobody["target"] == "http /nowhere"
    s = run.report["slo_summary"]
    assert (s["pass"], s["breach"], s["insufficient_data"]) == (4, 0, 2)


def test_timeline_adds_up(tmp_path, server):
    run = record(tmp_path, ["-q", "-i", "0.5", "-P", str(server.port)],
                 load(server.port, tmp_path))
    tl = run.report["timeline"]
    assert tl["interval_s"] == 0.5 and tl["points_dropped"] == 0
    items = [s for s in tl["http"] if s["route"] == "/items/{id}"]
    assert len(items) == 1
    pts = items[0]["points"]
    assert sum(p["count"] for p in pts) == 23
    assert len(pts) >= 2  # 23 x 50 ms spans at least 3 half-second intervals
    assert all(b["t"] > a["t"] for a, b in zip(pts, pts[1:]))
    # Each interval's median lies within what the server's log (its own time, the 50 ms sleep)
    # and the client's timer say of the whole run's requests.
    busy = [p for p in pts if p["count"] >= 5]
    srv = server.times_ms("/items/")
    cli = [float(ln.split()[1]) * 1000 for ln in open(tmp_path / "ka.txt")]
    assert len(srv) == 23 and len(cli) == 23
    lo, hi = min(srv) * (1 - 1 / 128), max(cli) * (1 + 1 / 128)
    assert busy and all(lo <= p["p50"] <= hi for p in busy), (lo, hi, pts)
    boom = [s for s in tl["http"] if s["route"] == "/boom"][0]
    assert sum(p["5xx"] for p in boom["points"]) == 3


def test_db_objective(tmp_path, pg):
    slo = slo_file(tmp_path, """
slos:
  - name: sleepy
    db: {query: "select pg_sleep*"}
    objectives:
      - {p: 50, le: 60ms}
      - {p: 95, le: 45ms}
      - {errors: failed, le: 0%}
""")
    run = record(tmp_path, ["-q", "--slo", slo, "-P", str(pg.port)],
                 sh(pgclient("psycopg2", pg, "sleep", 23)), check=False)
    assert run.rc == 3, run.err
    p50, p95, errs = rows(run, "sleepy")
    assert p50["target"] == "db select pg_sleep(?)"
    assert p50["verdict"] == "pass" and p50["total"] == 23 and p50["good"] == 23
    assert p95["verdict"] == "breach" and p95["bad"] == 23
    assert errs["verdict"] == "pass" and errs["errors"] == 0


def test_db_objective_from_server_probes(tmp_path, pg):
    """Queries seen only by the server's USDT probes are judged too."""
    slo = slo_file(tmp_path, """
slos:
  - name: sleepy
    db: {query: "select pg_sleep*"}
    objectives:
      - {p: 50, le: 60ms}
""")
    run = record(tmp_path, ["-q", "--db-probe=usdt", "--slo", slo], sh(psql_sleep(pg)))
    row = rows(run, "sleepy")[0]
    assert row["verdict"] == "pass" and row["total"] == 23 and row["good"] == 23, row


def test_bad_slo_file_exit_2_one_line(tmp_path):
    slo = slo_file(tmp_path, "slos:\n  - name: x\n    http: {route: /a}\n    objectives:\n"
                             "      - {p: 95, le: 300 parsecs}\n")
    p = subprocess.run([SLOPROBE, "record", "--slo", slo, "-d", "1"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sloprobe: %s:7:" % slo), p.stderr
    p = subprocess.run([SLOPROBE, "record", "--slo", str(tmp_path / "missing.yaml")],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2 and "missing.yaml" in p.stderr


def test_routes_from_openapi(tmp_path, server):
    doc = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
           "paths": {"/items/{item_id}": {"get": {}}, "/health": {"get": {}}}}
    api = tmp_path / "openapi.json"
    api.write_text(json.dumps(doc))
    run = record(tmp_path, ["-q", "--routes-from", str(api), "-P", str(server.port)],
                 load(server.port, tmp_path))
    assert run.row("/items/{item_id}")["count"] == 23
    bad = tmp_path / "bad.json"
    bad.write_text('{"openapi": "3.0.0", "paths": [')
    p = subprocess.run([SLOPROBE, "record", "--routes-from", str(bad)], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 2
    assert p.stderr.startswith("sloprobe: %s: not valid JSON" % bad), p.stderr
