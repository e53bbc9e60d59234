# SPDX-License-Identifier: GPL-2.0-only
"""Exemplars: the slowest requests kept whole. A thread-per-request API (exemplarapp.py) whose
every request does 1 Redis GET, 1 + 20 queries (an N+1) and 1 outbound call, three of them
made slow by a 0.2 s sleep in their first query: the slowest exemplars are those three, timed
against the client's and the server's own timers, with their 23 spans in order; the text report
says it in one line, and the HTML draws it as a waterfall of 21 query bars."""
import json
import os
import subprocess

import pytest

import chromium
from conftest import (PYTHON, SLOPROBE, TIMER_SLACK_MS, PyApp, Redis, between, record)

N_FAST, N_SLOW = 30, 3
SLOW_EVERY = 10  # request i is slow when i % SLOW_EVERY == 5
LOAD = """
import sys, time, urllib.request
port, log, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with open(log, "w") as f:
    for i in range(n):
        path = "/orders/%%d%%s" %% (i, "?slow=1" if i %% %d == 5 else "")
        t0 = time.monotonic()
        urllib.request.urlopen("http://127.0.0.1:%%d%%s" %% (port, path)).read()
        f.write("%%s %%.6f\\n" %% (path, time.monotonic() - t0))
""" % SLOW_EVERY


def times(path):
    """{request path: seconds, in ms} of a "<path> <seconds>" log."""
    with open(path) as f:
        return {l.split()[0]: float(l.split()[1]) * 1000 for l in f}


@pytest.fixture(scope="module")
def redis_server():
    r = Redis()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, pg, redis_server):
    """One recording of N_FAST + N_SLOW requests, with the client's and the server's timers."""
    tmp = tmp_path_factory.mktemp("exemplars")
    provider = PyApp("test_outbound.py", "serve", "{port}")
    app = None
    try:
        env_log = str(tmp / "server-times.log")
        os.environ["TIMING_LOG"] = env_log
        try:
            app = PyApp("exemplarapp.py", "{port}", pg.port, redis_server.port, provider.port)
        finally:
            del os.environ["TIMING_LOG"]
        client_log = str(tmp / "client-times.log")
        ports = []
        for p in (app.port, pg.port, redis_server.port, provider.port):
            ports += ["-P", str(p)]
        run = record(tmp, ["-q"] + ports,
                     [PYTHON, "-c", LOAD, str(app.port), client_log, str(N_FAST + N_SLOW)])
    finally:
        if app:
            app.stop()
        provider.stop()
    return run, times(client_log), times(env_log), provider.port, tmp


def exemplars(run, route):
    return [e for e in run.report["exemplars"] if e["route"] == route]


def test_slowest_are_the_slow_requests(recorded):
    run, client, server, provider_port, _ = recorded
    ep = run.row("/orders/{id}")
    assert ep["count"] == N_FAST + N_SLOW
    ex = exemplars(run, "/orders/{id}")
    slowest = [e for e in ex if e["pick"] == "slowest"]
    assert len(slowest) == 5
    assert [e["latency_ms"] for e in slowest] == sorted((e["latency_ms"] for e in slowest),
                                                        reverse=True)
    slow_paths = [p for p in client if p.endswith("?slow=1")]
    assert len(slow_paths) == N_SLOW
    # The three slow requests are the three slowest exemplars: each within the timers of one
    # slow request (sloprobe's latency lies inside the client's and contains the server's).
    for e in slowest[:N_SLOW]:
        assert e["latency_ms"] >= 200
        assert any(between(e["latency_ms"], server[p], client[p]) for p in slow_paths), (
            e["latency_ms"], [(server[p], client[p]) for p in slow_paths])
    fast_max = max(client[p] for p in client if p not in slow_paths)
    for e in slowest[N_SLOW:]:
        assert e["latency_ms"] <= fast_max + TIMER_SLACK_MS
    # Typical ones: not slow, and distinct from the slowest.
    typical = [e for e in ex if e["pick"] != "slowest"]
    assert typical and all(e["latency_ms"] < 200 for e in typical)
    assert "p50" in [e["pick"] for e in typical]


def test_spans_of_the_slowest(recorded):
    run, client, server, provider_port, _ = recorded
    queries = {q["query_id"]: q["query"] for q in run.report["db"]}
    for e in exemplars(run, "/orders/{id}"):
        spans = e["spans"]
        assert e["spans_cut"] == 0
        kinds = [s["kind"] for s in spans]
        assert kinds == ["cache"] + ["query"] * 21 + ["http"], kinds
        fps = [queries[s["query_id"]] for s in spans if s["kind"] == "query"]
        assert "pg_sleep" in fps[0] and fps[0].startswith("select id from items"), fps[0]
        assert all(fp == "select name from items where id = ?" for fp in fps[1:]), fps
        starts = [s["start_ms"] for s in spans]
        assert starts == sorted(starts)
        for s in spans:
            assert 0 <= s["start_ms"] and s["start_ms"] + s["duration_ms"] <= e["latency_ms"]
            assert s["attribution"] in ("exact", "thread")
        assert sum(s["duration_ms"] for s in spans) <= e["latency_ms"]
        cache = spans[0]
        assert (cache["verb"], cache["key"], cache["hit"]) == ("GET", "orders:{id}", False)
        out = spans[-1]
        assert out["destination"] == "127.0.0.1:%d" % provider_port
        assert (out["method"], out["route"], out["status"]) == ("GET", "/price/ok", 200)
        if e["pick"] == "slowest" and e["latency_ms"] >= 200:
            assert spans[1]["duration_ms"] >= 200  # the sleep is in the first query


def test_text_report_line(recorded):
    run, *_, tmp = recorded
    p = subprocess.run([SLOPROBE, "report", str(tmp / "report.json")], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    sec = p.stdout[p.stdout.index("Slowest requests, whole"):]
    sec = sec[sec.index("  GET /orders/{id} on"):].split("\n")[1:]
    lines = [l for l in sec[:sec.index(next(l for l in sec if not l.startswith("    ")))]]
    assert [l.split()[0] for l in lines][:5] == ["slowest"] * 5, lines
    lines = lines[:5]
    assert len(lines) == 5, sec
    assert "21 queries (20 x q" in lines[0] and "N+1 run" in lines[0], lines[0]
    assert "1 cache call" in lines[0] and "1 outbound call" in lines[0]
    assert "1 cache miss" in lines[0]


def test_waterfall_in_chromium(recorded):
    run, *_, tmp = recorded
    html = tmp / "report.html"
    p = subprocess.run([SLOPROBE, "report", "--format", "html", "-o", str(html),
                        str(tmp / "report.json")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    first = next(i for i, e in enumerate(run.report["exemplars"])
                 if e["route"] == "/orders/{id}")
    ep_index = next(i for i, e in enumerate(run.report["http"]) if e["route"] == "/orders/{id}")
    js = """(() => {
      const ex = document.getElementById('exemplar-%d');
      const list = document.getElementById('exemplars-%d');
      const svg = ex && ex.querySelector('svg');
      const over = [];
      for (const t of document.querySelectorAll('#exemplars-%d svg text')) {
        const b = t.getBoundingClientRect(), s = t.closest('svg').getBoundingClientRect();
        if (b.right > s.right + 0.5 || b.left < s.left - 0.5) over.push(t.textContent);
      }
      return JSON.stringify({
        list: !!list, ex: !!ex,
        causes: [...document.querySelectorAll('#causes a')].map(a => a.getAttribute('href')),
        queries: svg ? svg.querySelectorAll('rect.span-query').length : -1,
        cache: svg ? svg.querySelectorAll('rect.span-cache').length : -1,
        http: svg ? svg.querySelectorAll('rect.span-http').length : -1,
        svgWidth: svg ? svg.getBoundingClientRect().width : -1,
        overflow: over,
        // Other sections are not this test's: the exemplars' own boxes stay inside 700 px.
        right: Math.max(...Array.from(
          document.querySelectorAll('#exemplars, #exemplars *'),
          el => el.getBoundingClientRect().right)),
      });
    })()""" % (first, ep_index, ep_index)
    value, errors = chromium.evaluate(str(html), js, width=700)
    assert not errors, errors
    got = json.loads(value)
    assert got["list"] and got["ex"], got
    assert (got["queries"], got["cache"], got["http"]) == (21, 1, 1), got
    assert 0 < got["svgWidth"] <= 700 and not got["overflow"], got
    assert got["right"] <= 700, got
    # The overview's causes lead to the waterfall of the slowest request of the N+1 endpoint.
    ex = run.report["exemplars"]
    slowest = max((i for i, e in enumerate(ex) if e["route"] == "/orders/{id}"),
                  key=lambda i: ex[i]["latency_ms"])
    assert "#exemplar-%d" % slowest in got["causes"], got["causes"]


HANDOFF_LOAD = ("for c in $(seq 2); do (for i in $(seq %d); do "
                "curl -sf -o /dev/null http://127.0.0.1:%d/list; done) & done; wait")


def test_pool_server_handoff_spans(tmp_path, pg):
    """A pool server (FastAPI sync endpoints: the event loop reads, a worker queries), 2
    clients at once: the exemplars of GET /list have their 1 + 20 queries in order, followed
    through the hand-off (or exact when the request was alone), inside the request. Hand-offs
    matched by order alone may go wrong once in a run (test_handoff.py): one exemplar of the
    five may be off, not more."""
    app = PyApp("handoffapp.py", "{port}", pg.port)
    try:
        subprocess.run(["/bin/sh", "-ec", HANDOFF_LOAD % (2, app.port)], check=True,
                       timeout=60)  # warm-up: the pool opens its connections
        run = record(tmp_path, ["-q", "-P", str(app.port), "-P", str(pg.port)],
                     ["/bin/sh", "-ec", HANDOFF_LOAD % (10, app.port)])
    finally:
        app.stop()
    assert run.row("/list")["count"] == 20
    queries = {q["query_id"]: q["query"] for q in run.report["db"]}
    ex = [e for e in exemplars(run, "/list") if e["pick"] == "slowest"]
    assert len(ex) == 5
    good, handoff = 0, 0
    for e in ex:
        spans = e["spans"]
        fps = [queries[s["query_id"]] for s in spans if s["kind"] == "query"]
        starts = [s["start_ms"] for s in spans]
        inside = all(0 <= s["start_ms"] and s["start_ms"] + s["duration_ms"] <= e["latency_ms"]
                     for s in spans)
        if (len(spans) == 21 and fps[0] == "select id from items order by id limit ?"
                and fps[1:] == ["select name from items, pg_sleep(?) where id = ?"] * 20
                and starts == sorted(starts) and inside
                and all(s["attribution"] in ("exact", "handoff") for s in spans)):
            good += 1
        handoff += any(s["attribution"] == "handoff" for s in spans)
    assert good >= 4, [(e["latency_ms"], e["attribution"], len(e["spans"])) for e in ex]
    assert handoff >= 1, [e["attribution"] for e in ex]
