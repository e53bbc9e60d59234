# SPDX-License-Identifier: GPL-2.0-only
"""record --listen (Prometheus text while recording) and --jsonl (one line per interval).

Known workload: 23 x /items/<n> of the test server (50 ms each) on one keep-alive connection,
whose client times each request (clients.py) and whose server logs its own time (TIMING_LOG).
The scrape and the copy of the JSONL file are made by the recorded COMMAND itself, so both are
read while sloprobe is recording. Then the dependencies' families, each against its own known
workload: 23 x pg_sleep(0.05) of psycopg2, 30 SET + 40 GET of redis-py, 7 calls of curl to a
local provider; every scrape passes `promtool check metrics` (Debian's prometheus package).
OpenMetrics: the same /items workload scraped with the Accept headers of an OpenMetrics client
and of Prometheus, parsed by the reference parser (python3-prometheus-client), and scraped by a
real Prometheus server (Debian's) whose own API then tells what it stored.
"""
import json
import os
import re
import shutil
import socket
import subprocess

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from test_outbound import provider  # noqa: F401 (a fixture)
from conftest import (HERE, PYTHON, SLOPROBE, TIMER_SLACK_MS, Redis, client, client_times_ms, free_port,
                      record, sh, within_truth)

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def samples(text):
    """[(name, {label: value}, value)] of an exposition text; comment lines checked apart."""
    out = []
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* \S", line), line
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        labels = dict(LABEL.findall(m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def items_series(ss, suffix):
    return [(l, v) for n, l, v in ss
            if n == "http_server_request_duration_seconds" + suffix
            and l.get("http_route") == "/items/{id}"]


def test_metrics_and_jsonl_while_recording(tmp_path, server):
    mport = free_port()
    jsonl = tmp_path / "live.jsonl"
    script = "\n".join([
        client("keepalive", server.port, "/items/", 1, 23) + " > %s/ka.txt" % tmp_path,
        "curl -sf -o %s/metrics.txt http://127.0.0.1:%d/metrics" % (tmp_path, mport),
        # At least one interval has ended since: its line must be in the file already.
        "sleep 1.5",
        "cp %s %s/during.jsonl" % (jsonl, tmp_path),
    ])
    # 50 ms requests against a 10 ms objective: every interval with /items requests breaches.
    slo = tmp_path / "slo.yaml"
    slo.write_text("apiVersion: sloprobe/v1\nkind: SLO\nslos:\n  - name: items-fast\n"
                   "    http: {route: \"/items/*\"}\n    objectives:\n      - {p: 95, le: 10ms}\n")
    run = record(tmp_path, ["-q", "-P", str(server.port), "--listen", "127.0.0.1:%d" % mport,
                            "--jsonl", str(jsonl), "--slo", str(slo)], sh(script), check=False)
    assert run.rc == 3, run.err
    assert run.report["events"]["dropped"] == 0
    items = run.row("/items/{id}")
    assert items["count"] == 23

    text = (tmp_path / "metrics.txt").read_text()
    ss = samples(text)
    count = items_series(ss, "_count")
    assert len(count) == 1 and count[0][1] == 23, count
    labels = count[0][0]
    assert labels == {"service_name": items["service"], "http_request_method": "GET",
                      "http_route": "/items/{id}"}
    buckets = items_series(ss, "_bucket")
    assert [l["le"] for l, _ in buckets][-1] == "+Inf"
    values = [v for _, v in buckets]
    assert values == sorted(values), "buckets not cumulative: %s" % values
    assert values[-1] == 23
    les = [float(l["le"]) for l, _ in buckets[:-1]]
    assert les == sorted(les) and len(les) == 14
    # Every /items request takes 50 ms in the server: none under the 50 ms bound (its edge is
    # 49.807359 ms), all of them under 1 s.
    assert dict((l["le"], v) for l, v in buckets)["0.049807359"] == 0
    assert dict((l["le"], v) for l, v in buckets)["0.998244351"] == 23
    # The sum is exact (no histogram error): between the server's and the client's own sums.
    (_, total_s), = items_series(ss, "_sum")
    server_ms = server.times_ms("/items/")
    client_ms = client_times_ms(tmp_path / "ka.txt")
    assert len(server_ms) == 23 and len(client_ms) == 23
    assert sum(server_ms) - 23 * TIMER_SLACK_MS <= total_s * 1000 <= \
        sum(client_ms) + 23 * TIMER_SLACK_MS, (total_s, sum(server_ms), sum(client_ms))
    codes = [(l["http_response_status_code"], v) for n, l, v in ss
             if n == "http_server_responses_total" and l.get("http_route") == "/items/{id}"]
    assert codes == [("200", 23)]
    own = dict((l.get("reason", n), v) for n, l, v in ss if n.startswith("sloprobe_"))
    assert own["sloprobe_events_total"] > 0
    assert own["ring_buffer_full"] == 0 and own["sloprobe_scrapes_total"] == 0
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr

    # --jsonl: one complete line per interval, already written while the command ran.
    final = jsonl.read_text()
    during = (tmp_path / "during.jsonl").read_text()
    assert during and during.endswith("\n") and final.startswith(during)
    lines = [json.loads(l) for l in final.splitlines()]
    assert len(during.splitlines()) >= 1
    ts = [l["t_s"] for l in lines]
    assert ts == sorted(set(ts))
    assert "%.3f" % ts[-1] == "%.3f" % run.report["window"]["duration_s"]
    assert abs(sum(l["interval_s"] for l in lines) - ts[-1]) < 0.001 * len(lines)
    assert all(l["interval_s"] <= 1.2 for l in lines)
    per_line = [sum(e["count"] for e in l["endpoints"] if e["route"] == "/items/{id}")
                for l in lines]
    assert sum(per_line) == 23
    assert sum(l["requests"] for l in lines) == sum(r["count"] for r in run.report["http"])
    # The timeline's own points, interval by interval.
    tl, = [s for s in run.report["timeline"]["http"] if s["route"] == "/items/{id}"]
    by_t = dict(zip(["%.3f" % t for t in ts], per_line))
    assert [(("%.3f" % p["t"]), p["count"]) for p in tl["points"]] == \
        [(("%.3f" % p["t"]), by_t["%.3f" % p["t"]]) for p in tl["points"]]
    assert all(l["events"] >= 0 and l["dropped"] == 0 for l in lines)
    # The SLO marks: the intervals that breached are the report's, and only those with requests.
    row, = [r for r in run.report["slo"] if r["name"] == "items-fast"]
    marked = [l for l in lines if l["slo"]["breached"]]
    assert len(marked) == row["breached_intervals"] >= 1
    assert all(l["slo"]["breach"] == 1 and per_line[lines.index(l)] > 0 for l in marked)
    assert all(b["subject"].startswith("GET /items/{id}") for l in marked
               for b in l["slo"]["breached"])


def test_db_metrics(tmp_path, pg):
    """PostgreSQL queries: 23 x pg_sleep(0.05) of psycopg2, scraped while recording."""
    mport = free_port()
    script = "\n".join([
        "%s %s psycopg2 %d sleep 23" % (PYTHON, os.path.join(HERE, "pgclients.py"), pg.port),
        "curl -sf -o %s/metrics.txt http://127.0.0.1:%d/metrics" % (tmp_path, mport),
    ])
    run = record(tmp_path, ["-q", "-P", str(pg.port), "--listen", str(mport)], sh(script))
    fp, = [q for q in run.report["db"] if q["query"] == "select pg_sleep(?)"]
    text = (tmp_path / "metrics.txt").read_text()
    rows = [(n, l, v) for n, l, v in samples(text)
            if n.startswith("db_client_operation_duration_seconds")
            and l.get("db_query_summary") == "select pg_sleep(?)"]
    count, = [(l, v) for n, l, v in rows if n.endswith("_count")]
    assert count[1] == 23
    assert count[0]["db_system_name"] == "postgresql"
    assert count[0]["db_query_id"] == fp["query_id"]
    assert count[0]["server_port"] == str(pg.port)
    buckets = dict((l["le"], v) for n, l, v in rows if n.endswith("_bucket"))
    # pg_sleep(0.05) sleeps at least 50 ms: nothing at or under the 49.807359 ms edge.
    assert buckets["0.049807359"] == 0 and buckets["+Inf"] == 23
    (_, _, total), = [r for r in rows if r[0].endswith("_sum")]
    assert total >= 23 * 0.050
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr


def test_redis_metrics(tmp_path):
    """Redis commands of redis-py: 30 SET and 40 GET of user:<i>:plan, scraped while recording."""
    rs = Redis()
    try:
        mport = free_port()
        script = "\n".join([
            "%s %s %d hits > %s/client.log" % (PYTHON, os.path.join(HERE, "redisclients.py"),
                                               rs.port, tmp_path),
            "curl -sf -o %s/metrics.txt http://127.0.0.1:%d/metrics" % (tmp_path, mport),
        ])
        run = record(tmp_path, ["-q", "--listen", str(mport)], sh(script))
    finally:
        rs.stop()
    text = (tmp_path / "metrics.txt").read_text()
    counts = dict((l["db_operation_name"], v) for n, l, v in samples(text)
                  if n == "db_client_operation_duration_seconds_count"
                  and l.get("db_system_name") == "redis"
                  and l.get("db_query_summary") == "user:{id}:plan"
                  and l.get("server_port") == str(rs.port))
    assert counts == {"SET": 30, "GET": 40}
    assert "user:1:plan" not in text  # the pattern only, never a key
    mine = [r for r in run.report["cache"]["rows"] if r["server"] == "127.0.0.1:%d" % rs.port
            and r["pattern"] == "user:{id}:plan"]
    assert sorted((r["command"], r["count"]) for r in mine) == [("GET", 40), ("SET", 30)]
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr


def test_outbound_metrics_and_jsonl(tmp_path, provider):
    """7 calls of curl to a local provider (--outbound all): the client histogram and the
    JSONL lines' outbound counts."""
    mport = free_port()
    jsonl = tmp_path / "live.jsonl"
    url = "http://127.0.0.1:%d" % provider.port
    script = "\n".join([
        "for i in 1 2 3 4 5 6 7; do curl -sf -o /dev/null %s/curl/ok/$i; done" % url,
        "curl -sf -o %s/metrics.txt http://127.0.0.1:%d/metrics" % (tmp_path, mport),
    ])
    run = record(tmp_path, ["-q", "--outbound", "all", "-P", str(provider.port),
                            "--listen", str(mport), "--jsonl", str(jsonl)], sh(script))
    row, = [r for r in run.report["outbound"]["calls"] if r["caller"] == "curl"
            and r["route"] == "/curl/ok/{id}"]
    assert row["count"] == 7 and row["answered"] == 7
    text = (tmp_path / "metrics.txt").read_text()
    got = [(l, v) for n, l, v in samples(text)
           if n == "http_client_request_duration_seconds_count"
           and l.get("url_template") == "/curl/ok/{id}"]
    assert len(got) == 1 and got[0][1] == 7, got
    assert got[0][0]["service_name"] == "curl" and got[0][0]["http_request_method"] == "GET"
    assert got[0][0]["server_port"] == str(provider.port)
    lines = [json.loads(l) for l in jsonl.read_text().splitlines()]
    assert sum(o["count"] for l in lines for o in l["outbound"]
               if o["caller"] == "curl" and o["route"] == "/curl/ok/{id}") == 7
    assert sum(o["failed"] + o["5xx"] for l in lines for o in l["outbound"]) == 0
    # every row of the report: the lines add up to its totals
    for r in run.report["outbound"]["calls"]:
        got = [o for l in lines for o in l["outbound"] if (o["caller"], o["peer"], o["host"],
               o["method"], o["route"]) == (r["caller"], r["peer"], r["host"], r["method"],
                                            r["route"])]
        assert sum(o["count"] for o in got) == r["count"], (r, got)
        assert sum(o["answered"] for o in got) == r["answered"], (r, got)
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr


def test_outbound_intervals(tmp_path, server):
    """Per-interval outbound latency in --jsonl: 23 calls of 50 ms (clients.py on one keep-alive
    connection, --outbound all, 0.5 s intervals): each line's count, answered, failed and 5xx
    add up to the report's row, and its p50/p95/p99 lie within the server's and the client's
    own times; the Prometheus text counts the answers by status code."""
    mport = free_port()
    jsonl = tmp_path / "live.jsonl"
    script = "\n".join([
        client("keepalive", server.port, "/items/", 1, 23) + " > %s/ka.txt" % tmp_path,
        "curl -sf -o %s/metrics.txt http://127.0.0.1:%d/metrics" % (tmp_path, mport),
    ])
    run = record(tmp_path, ["-q", "--outbound", "all", "-P", str(server.port), "-i", "0.5",
                            "--listen", str(mport), "--jsonl", str(jsonl)], sh(script))
    row, = [r for r in run.report["outbound"]["calls"] if r["route"] == "/items/{id}"
            and r["peer"].endswith(":%d" % server.port)]
    assert row["count"] == row["answered"] == 23
    lines = [json.loads(l) for l in jsonl.read_text().splitlines()]
    mine = [o for l in lines for o in l["outbound"] if o["caller"] == row["caller"]
            and o["route"] == "/items/{id}" and o["peer"] == row["peer"]]
    assert len(mine) >= 2, mine  # 23 x 50 ms over 0.5 s intervals
    for k in ("count", "answered", "failed", "5xx", "4xx"):
        want = {"5xx": row["errors"]["5xx"], "4xx": row["errors"]["4xx"],
                "failed": sum(row["failures"].values())}.get(k, row.get(k))
        assert sum(o[k] for o in mine) == want, (k, mine)
    server_ms = server.times_ms("/items/")
    client_ms = client_times_ms(tmp_path / "ka.txt")
    assert len(server_ms) == 23 and len(client_ms) == 23
    # the calls of an interval are some of the 23: their percentiles lie within the fastest
    # server time and the slowest client time
    for o in mine:
        assert o["answered"] == o["count"] and o["failed"] == 0
        for p in ("p50_ms", "p95_ms", "p99_ms"):
            assert within_truth(o[p], min(server_ms), max(client_ms)), (p, o, server_ms)
        assert o["p50_ms"] <= o["p95_ms"] <= o["p99_ms"]
    text = (tmp_path / "metrics.txt").read_text()
    codes = [(l["http_response_status_code"], v) for n, l, v in samples(text)
             if n == "http_client_responses_total" and l.get("url_template") == "/items/{id}"
             and l.get("server_port") == str(server.port)]
    assert codes == [("200", 23)], codes
    assert not [1 for n, l, v in samples(text) if n == "http_client_failures_total"
                and l.get("server_port") == str(server.port)]
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr


# What Debian's Prometheus (2.42) sends, read off the wire.
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                     "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
OM_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PROMETHEUS_YML = """global: {scrape_interval: 1s, scrape_timeout: 1s}
scrape_configs:
  - job_name: sloprobe
    static_configs: [{targets: ["127.0.0.1:%d"]}]
"""


def content_type(head):
    types = [l.split(":", 1)[1].strip() for l in head.splitlines()
             if l.lower().startswith("content-type:")]
    assert len(types) == 1, head
    return types[0]


def test_openmetrics(tmp_path, server):
    """23 x /items/<n> of 50 ms, scraped while recording as OpenMetrics (asked for alone, and
    with Prometheus' own Accept header) and as 0.0.4 text (a plain curl); then a real Prometheus
    scrapes it every second and its API gives back the count, the bucket and the metadata."""
    mport, pport = free_port(), free_port()
    url = "http://127.0.0.1:%d/metrics" % mport
    (tmp_path / "prometheus.yml").write_text(PROMETHEUS_YML % mport)
    query = ("http://127.0.0.1:%d/api/v1/query?query=http_server_request_duration_seconds_count"
             "%%7Bhttp_route%%3D%%22/items/%%7Bid%%7D%%22%%7D" % pport)
    prometheus = shutil.which("prometheus")
    script = [
        client("keepalive", server.port, "/items/", 1, 23) + " > %s/ka.txt" % tmp_path,
        "curl -sf -D %s/om.head -o %s/om.txt -H 'Accept: application/openmetrics-text; "
        "version=1.0.0' %s" % (tmp_path, tmp_path, url),
        "curl -sf -D %s/prom.head -o %s/prom.txt -H '%s' %s" % (tmp_path, tmp_path,
                                                              "Accept: " + PROMETHEUS_ACCEPT, url),
        "curl -sf -D %s/plain.head -o %s/plain.txt %s" % (tmp_path, tmp_path, url),
    ]
    if prometheus:
        # Bounded: 20 s for Prometheus to start and scrape once the workload is done; the shell
        # ends the server it started, by its PID.
        script += [
            "%s --config.file=%s/prometheus.yml --storage.tsdb.path=%s/tsdb "
            "--web.listen-address=127.0.0.1:%d > %s/prometheus.log 2>&1 &" % (
                prometheus, tmp_path, tmp_path, pport, tmp_path),
            "P=$!",
            "for i in $(seq 80); do sleep 0.25; curl -sf -o %s/q.json '%s' || continue; "
            "grep -q '\"value\"' %s/q.json && break; done" % (tmp_path, query, tmp_path),
            "curl -sf -o %s/meta.json http://127.0.0.1:%d/api/v1/metadata || true" % (tmp_path,
                                                                                  pport),
            "curl -sf -o %s/targets.json http://127.0.0.1:%d/api/v1/targets || true" % (
                tmp_path, pport),
            "kill $P; wait $P || true",
        ]
    run = record(tmp_path, ["-q", "-P", str(server.port), "--listen", "127.0.0.1:%d" % mport],
                 sh("\n".join(script)))
    items = run.row("/items/{id}")
    assert items["count"] == 23

    # Asked for alone and asked for first by Prometheus: OpenMetrics, both times.
    for name in ("om", "prom"):
        assert content_type((tmp_path / (name + ".head")).read_text()) == OM_TYPE
    om = (tmp_path / "om.txt").read_text()
    assert om.endswith("\n# EOF\n")
    # The reference parser, which raises on what OpenMetrics forbids (a counter's family named
    # with _total, a unit that is not the name's suffix, buckets out of order, a +Inf bucket
    # other than the count, a missing # EOF...).
    fams = dict((f.name, f) for f in text_string_to_metric_families(om))
    h = fams["http_server_request_duration_seconds"]
    assert (h.type, h.unit) == ("histogram", "seconds")
    mine = [s for s in h.samples if s.labels.get("http_route") == "/items/{id}"]
    assert {s.labels["service_name"] for s in mine} == {items["service"]}
    count = [s.value for s in mine if s.name.endswith("_count")]
    assert count == [23]
    buckets = [(s.labels["le"], s.value) for s in mine if s.name.endswith("_bucket")]
    assert len(buckets) == 15 and buckets[-1] == ("+Inf", 23)
    # 50 ms each in the server: none under the 50 ms bound (edge 49.807359 ms), all under 1 s.
    assert dict(buckets)["0.049807359"] == 0 and dict(buckets)["0.998244351"] == 23
    (total,) = [s.value for s in mine if s.name.endswith("_sum")]
    server_ms = server.times_ms("/items/")
    client_ms = client_times_ms(tmp_path / "ka.txt")
    assert len(server_ms) == 23 and len(client_ms) == 23
    assert sum(server_ms) - 23 * TIMER_SLACK_MS <= total * 1000 <= \
        sum(client_ms) + 23 * TIMER_SLACK_MS, (total, sum(server_ms), sum(client_ms))
    c = fams["http_server_responses"]
    assert c.type == "counter"
    assert [(s.name, s.labels["http_response_status_code"], s.value) for s in c.samples
            if s.labels.get("http_route") == "/items/{id}"] == \
        [("http_server_responses_total", "200", 23)]
    assert fams["sloprobe_events_dropped"].type == "counter"
    assert sum(s.value for s in fams["sloprobe_events_dropped"].samples) == 0
    assert fams["sloprobe_scrapes"].samples[0].value == 0  # the first scrape
    assert fams["sloprobe_connections"].type == "gauge"
    assert not [n for n in fams if n.endswith("_total")]
    prom = (tmp_path / "prom.txt").read_text()
    scrapes = [f for f in text_string_to_metric_families(prom) if f.name == "sloprobe_scrapes"]
    assert scrapes[0].samples[0].value == 1
    assert [l for l in prom.splitlines() if "/items/{id}" in l] == \
        [l for l in om.splitlines() if "/items/{id}" in l]

    # A plain curl: the 0.0.4 text as before, the same numbers.
    assert content_type((tmp_path / "plain.head").read_text()) == TEXT_TYPE
    text = (tmp_path / "plain.txt").read_text()
    assert "# EOF" not in text and "# UNIT" not in text
    assert [v for l, v in items_series(samples(text), "_count")] == [23]
    assert sorted((l["le"], v) for l, v in items_series(samples(text), "_bucket")) == \
        sorted(buckets)
    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, p.stdout + p.stderr

    if not prometheus:
        return
    # Prometheus scraped it (OpenMetrics, as asked first) and stored what the workload made.
    log = (tmp_path / "prometheus.log").read_text()
    res = json.loads((tmp_path / "q.json").read_text())["data"]["result"]
    assert [r["value"][1] for r in res] == ["23"], (res, log[-2000:])
    target, = json.loads((tmp_path / "targets.json").read_text())["data"]["activeTargets"]
    assert target["health"] == "up" and not target["lastError"], target
    # Its metadata is that of OpenMetrics: families named without _total, units stated.
    meta = json.loads((tmp_path / "meta.json").read_text())["data"]
    assert meta["http_server_request_duration_seconds"][0]["unit"] == "seconds", meta
    assert meta["http_server_responses"][0]["type"] == "counter", meta
    assert "http_server_responses_total" not in meta


def one_line(p, code, text):
    assert p.returncode == code, (p.returncode, p.stderr)
    assert len(p.stderr.splitlines()) == 1 and text in p.stderr, p.stderr


def record_bad(tmp_path, args):
    return subprocess.run([SLOPROBE, "record", "-q", "-d", "1"] + args, capture_output=True,
                          text=True, timeout=60, cwd=HERE)


def test_listen_refused(tmp_path):
    one_line(record_bad(tmp_path, ["--listen", "0.0.0.0:%d" % free_port()]), 2,
             "not a loopback address")
    one_line(record_bad(tmp_path, ["--listen", "127.0.0.1:99999"]), 2, "not ADDR:PORT")
    one_line(record_bad(tmp_path, ["--listen", "localhost:9464"]), 2, "not ADDR:PORT")
    one_line(record_bad(tmp_path, ["--listen-any"]), 2, "no --listen address")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        p = record_bad(tmp_path, ["--listen", "127.0.0.1:%d" % s.getsockname()[1]])
    one_line(p, 1, "Address already in use")


def test_jsonl_refused(tmp_path):
    os.symlink(tmp_path / "elsewhere", tmp_path / "link.jsonl")
    one_line(record_bad(tmp_path, ["--jsonl", str(tmp_path / "link.jsonl")]), 1,
             "symbolic link")
    assert not (tmp_path / "elsewhere").exists()
    one_line(record_bad(tmp_path, ["--jsonl", str(tmp_path)]), 1, "--jsonl")
    one_line(record_bad(tmp_path, ["--jsonl", "/dev/null"]), 1, "not a regular file")
    one_line(record_bad(tmp_path, ["--jsonl", "-"]), 2, "not standard output")
    # An existing file is replaced, not written through: a hard link's other name keeps its text.
    (tmp_path / "old.jsonl").write_text("keep\n")
    os.link(tmp_path / "old.jsonl", tmp_path / "other")
    p = record_bad(tmp_path, ["--jsonl", str(tmp_path / "old.jsonl")])
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "other").read_text() == "keep\n"
    assert (tmp_path / "old.jsonl").read_text().count("\n") >= 1
    assert "keep" not in (tmp_path / "old.jsonl").read_text()
