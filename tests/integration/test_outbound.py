# SPDX-License-Identifier: GPL-2.0-only
"""Outbound HTTP calls: attempts, retries, timeouts, resets and refused connects of real clients
(python-requests with urllib3's Retry, curl --retry, Node's fetch) against a local provider that
fails on a known schedule, timed against the clients' own timers; and the calls per request of a
traced server that calls the provider for each of its requests.

This file is also the provider and the Python clients: `test_outbound.py serve PORT` answers
/<client>/<kind>/<n>: the first n requests of each path misbehave (busy: 503, reset: SO_LINGER 0
close, stall: no answer for STALL_S), the next ones get 200.
"""
import http.client
import http.server
import json
import os
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from conftest import PYTHON, free_port, nearest_rank, record, sh  # noqa: E402

STALL_S = 1.5
TIMEOUT_S = 0.3
# What the clients do between a failure and the retry that is not in their own sleep: read
# the answer out, close, look the retry up, connect again. Generous for a loaded machine.
BACKOFF_SLACK_MS = 60


class Provider(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # One write per answer and no Nagle: no 40 ms delayed-ACK stalls in the figures.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def answer(self, code, body=b"ok\n"):
        head = "HTTP/1.1 %d X\r\nContent-Length: %d\r\n\r\n" % (code, len(body))
        self.wfile.write(head.encode() + body)

    def do_GET(self):
        path = self.path.split("?")[0]
        parts = path.strip("/").split("/")
        with Provider.lock:
            k = Provider.seen[path] = Provider.seen.get(path, 0) + 1
        kind = parts[1] if len(parts) > 2 else "ok"
        n = int(parts[2]) if len(parts) > 2 else 0
        if k > n or kind == "ok":
            self.answer(200)
        elif kind == "busy":
            self.answer(503)
        elif kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        elif kind == "stall":
            time.sleep(STALL_S)
            self.close_connection = True


class Threaded(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(port):
    srv = Threaded(("127.0.0.1", port), Provider)
    print("ready", flush=True)
    srv.serve_forever()


def py_client(port, closed, log):
    """requests with Retry(total=3, backoff_factor=0.1, status_forcelist=[503]): its own timer
    around each call and each of urllib3's sleeps."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    sleeps, calls = [], []

    class Logged(Retry):
        def sleep(self, response=None):
            t0 = time.monotonic()
            super().sleep(response)
            sleeps.append((time.monotonic() - t0) * 1000)

    s = requests.Session()
    s.mount("http://", HTTPAdapter(max_retries=Logged(total=3, backoff_factor=0.1,
                                                      status_forcelist=[503])))
    base = "http://127.0.0.1:%d" % port

    def call(path, **kw):
        t0 = time.monotonic()
        try:
            status = s.get(base + path, timeout=TIMEOUT_S, **kw).status_code
        except requests.exceptions.RequestException as e:
            status = type(e).__name__
        calls.append([path, status, (time.monotonic() - t0) * 1000])

    for i in range(8):
        call("/py/ok?token=secret%d" % i)
    call("/py/busy/3")
    call("/py/stall/2")
    call("/py/reset/1")
    t0 = time.monotonic()
    try:
        s.get("http://127.0.0.1:%d/closed" % closed, timeout=1)
    except requests.exceptions.RequestException as e:
        calls.append(["closed", type(e).__name__, (time.monotonic() - t0) * 1000])
    json.dump({"sleeps": sleeps, "calls": calls}, open(log, "w"))


def app(port, provider):
    """A traced server: each GET /order/<n> calls the provider twice, then answers."""

    class App(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            for what in ("a", "b"):
                c = http.client.HTTPConnection("127.0.0.1", provider, timeout=5)
                c.request("GET", "/prov/%s?order=%s" % (what, self.path.split("/")[-1]))
                c.getresponse().read()
                c.close()
            body = b"done\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = Threaded(("127.0.0.1", port), App)
    print("ready", flush=True)
    srv.serve_forever()


class Proc:
    """This file run as `what args...`, ready once it prints "ready"."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([PYTHON, os.path.abspath(__file__)] + [str(a) for a in args],
                                     stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("%s did not start" % (args,))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def provider():
    port = free_port()
    p = Proc("serve", port)
    p.port = port
    yield p
    p.stop()


def out_row(report, caller, route, peer_port, method="GET"):
    rows = [r for r in report["outbound"]["calls"] if r["caller"] == caller and r["route"] == route
            and r["method"] == method and r["peer"].endswith(":%d" % peer_port)]
    assert len(rows) == 1, (caller, route, [(r["caller"], r["peer"], r["method"], r["route"])
                                            for r in report["outbound"]["calls"]])
    return rows[0]


def dest(report, caller, peer_port, host=None):
    rows = [d for d in report["outbound"]["destinations"] if d["caller"] == caller
            and d["peer"].endswith(":%d" % peer_port) and (host is None or d["host"] == host)]
    assert len(rows) == 1, [(d["caller"], d["peer"], d["host"])
                            for d in report["outbound"]["destinations"]]
    return rows[0]


def failures(row, **want):
    every = dict.fromkeys(["refused", "reset", "timeout", "connect_timeout", "unreachable",
                           "closed", "connect_error"], 0)
    every.update(want)
    return every


def backoffs_ms(d):
    """The backoffs of a destination as the histogram holds them: [lo, hi] ms per value."""
    out = []
    for lo, hi, n in d["backoff"]["histogram"]["buckets"]:
        out += [(lo / 1e6, hi / 1e6)] * n
    return out


def assert_backoffs(d, sleeps_ms):
    """Each backoff sloprobe saw contains one of the client's own sleeps, plus its slack."""
    got = backoffs_ms(d)
    assert len(got) == len(sleeps_ms), (got, sleeps_ms)
    for (lo, hi), s in zip(got, sorted(sleeps_ms)):
        assert hi >= s and lo <= s + BACKOFF_SLACK_MS, (got, sorted(sleeps_ms))


def test_python_requests_retries(tmp_path, provider):
    closed = free_port()
    log = tmp_path / "py.json"
    # all: this client serves nothing and calls a port listening here, which by default is a
    # load generator's view, not a dependency (docs/outbound.md).
    run = record(tmp_path, ["-q", "--outbound", "all", "-P", str(provider.port), "-P", str(closed)],
                 [PYTHON, os.path.abspath(__file__), "pyclient", str(provider.port), str(closed),
                  str(log)])
    rep, port = run.report, provider.port
    client = json.load(open(log))
    calls = {c[0]: c for c in client["calls"]}
    assert calls["/py/busy/3"][1] == 200 and calls["/py/stall/2"][1] == 200, calls
    assert calls["/py/reset/1"][1] == 200 and calls["closed"][1] == "ConnectionError", calls

    ok = out_row(rep, "python3", "/py/ok", port)
    assert ok["host"] == "127.0.0.1:%d" % port and ok["local"] is True
    assert ok["count"] == 8 and ok["answered"] == 8 and ok["status"] == {"200": 8}
    assert ok["retries"] == 0 and ok["failures"] == failures(ok)
    # One connection for the eight: the first call carries the connect time.
    assert ok["connects"] == 1 and ok["connect"]["count"] == 1
    # Latency: inside each call of the client's own timer, so every order statistic is too;
    # and never below the provider's own view of the same requests.
    mine = [c[2] for c in client["calls"] if c[0].startswith("/py/ok")]
    server = run.row("/py/ok")
    for p in (50, 95):
        assert ok["latency_ms"]["p%d" % p] <= nearest_rank(mine, p) * (1 + 1 / 128) + 0.001
        assert ok["latency_ms"]["p%d" % p] >= server["latency_ms"]["p%d" % p] * (1 - 1 / 128)
    assert ok["latency_ms"]["max"] <= max(mine) + 0.001

    # 503 three times, then 200: four attempts, three of them retries.
    busy = out_row(rep, "python3", "/py/busy/{id}", port)
    assert busy["count"] == 4 and busy["status"] == {"200": 1, "503": 3}
    assert busy["errors"] == {"4xx": 0, "5xx": 3} and busy["retries"] == 3
    # Two read timeouts (the client's 0.3 s), then an answer. A timeout is seen when the
    # client closes the connection, which urllib3 does after its sleep: the time to the
    # failure holds the timeout and the sleep after it (0, then 0.2 s).
    sleeps = client["sleeps"]
    assert len(sleeps) == 3 + 2 + 1 + 3, sleeps
    stall = out_row(rep, "python3", "/py/stall/{id}", port)
    assert stall["count"] == 3 and stall["answered"] == 1 and stall["retries"] == 2
    assert stall["failures"] == failures(stall, timeout=2)
    fmin, fmax = stall["failure"]["latency_ms"]["min"], stall["failure"]["latency_ms"]["max"]
    limit = TIMEOUT_S * 1000
    assert limit + sleeps[3] <= fmin <= limit + sleeps[3] + BACKOFF_SLACK_MS, stall
    assert limit + sleeps[4] <= fmax <= limit + sleeps[4] + BACKOFF_SLACK_MS, stall
    # A reset, then an answer.
    reset = out_row(rep, "python3", "/py/reset/{id}", port)
    assert reset["count"] == 2 and reset["answered"] == 1 and reset["retries"] == 1
    assert reset["failures"] == failures(reset, reset=1)

    d = dest(rep, "python3", port)
    assert d["retries"] == 6 and d["retry_success"] == 3 and d["retry_exhausted"] == 0, d
    assert d["attempts"] == 8 + 4 + 3 + 2 and d["failed"] == 3 + 2 + 1, d

    # The closed port: four refused connects, three retries, the chain failed.
    refused = [r for r in rep["outbound"]["calls"] if r["peer"] == "127.0.0.1:%d" % closed]
    assert len(refused) == 1 and refused[0]["method"] == "" and refused[0]["route"] == ""
    assert refused[0]["count"] == 4 and refused[0]["failures"] == failures(refused[0], refused=4)
    dc = dest(rep, "python3", closed)
    assert dc["retries"] == 3 and dc["retry_exhausted"] == 1 and dc["retry_success"] == 0, dc

    # urllib3 slept 0, 0.2 and 0.4 s for the 503s and the refused connects, 0 for the reset:
    # each backoff holds its sleep; the timeouts' sleeps came before their close (above).
    assert_backoffs(d, sleeps[:3] + [0, 0] + sleeps[5:6])
    assert_backoffs(dc, sleeps[6:])
    st = rep["outbound"]["stats"]
    assert st["retry_window_ms"] == 30000 and st["rows_dropped"] == 0
    assert st["parser"]["unparsed_responses"] == 0 and st["parser"]["unparsed_requests"] == 0
    # No query string anywhere in the report.
    assert "secret" not in open(tmp_path / "report.json").read()
    # With all, the client's view of the provider's endpoint, next to the provider's own.
    txt = subprocess.run([os.path.join(HERE, "..", "..", "sloprobe"), "report",
                          str(tmp_path / "report.json")], capture_output=True, text=True,
                         timeout=60).stdout
    view = [l for l in txt.splitlines() if "GET /py/ok" in l and " python3 " in l]
    assert "Client view of endpoints" in txt and len(view) == 2, txt


def test_curl_retry(tmp_path, provider):
    closed = free_port()
    url = "http://127.0.0.1:%d" % provider.port
    # To a file: curl truncates its output before a retry, which /dev/null refuses.
    out = tmp_path / "curl.out"
    script = "\n".join([
        "curl -s -o %s --retry 3 --retry-delay 1 %s/curl/busy/2" % (out, url),
        "curl -s -o %s --retry 2 --retry-delay 1 --retry-connrefused "
        "http://127.0.0.1:%d/x || true" % (out, closed),
    ])
    run = record(tmp_path, ["-q", "--outbound", "all", "-P", str(provider.port), "-P", str(closed)],
                 sh(script))
    rep = run.report
    busy = out_row(rep, "curl", "/curl/busy/{id}", provider.port)
    assert busy["count"] == 3 and busy["status"] == {"200": 1, "503": 2}
    assert busy["retries"] == 2
    d = dest(rep, "curl", provider.port)
    assert d["retries"] == 2 and d["retry_success"] == 1
    # --retry-delay 1: one second, and what curl does around it.
    assert_backoffs(d, [1000, 1000])
    dc = dest(rep, "curl", closed)
    assert dc["attempts"] == 3 and dc["failed"] == 3 and dc["retries"] == 2, dc
    assert dc["retry_exhausted"] == 1
    assert_backoffs(dc, [1000, 1000])


NODE = """
import fs from 'node:fs';
const [port, log] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const out = { attempts: [], backoffs: [] };
let failedAt = 0;
async function attempt(path, timeoutMs) {
  const t0 = performance.now();
  if (failedAt)
    out.backoffs.push(t0 - failedAt); /* from the failure the client saw to its retry */
  try {
    const r = await fetch(base + path, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    out.attempts.push([path, r.status, performance.now() - t0]);
    failedAt = r.status === 200 ? 0 : performance.now();
    return r.status;
  } catch (e) {
    out.attempts.push([path, e.name, performance.now() - t0]);
    failedAt = performance.now();
    return 0;
  }
}
async function withRetry(path, tries, timeoutMs) {
  for (let i = 0; i < tries; i++) {
    if ((await attempt(path, timeoutMs)) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
/* Warm: node's first fetch compiles its way through undici for a few hundred ms. */
await attempt('/node/ok', 2000);
await withRetry('/node/busy/2', 4, 2000);
await withRetry('/node/stall/1', 3, %d);
fs.writeFileSync(log, JSON.stringify(out));
""" % int(TIMEOUT_S * 1000)


def test_node_fetch_retries(tmp_path, provider):
    js = tmp_path / "client.mjs"
    js.write_text(NODE)
    log = tmp_path / "node.json"
    run = record(tmp_path, ["-q", "--outbound", "all", "-P", str(provider.port)],
                 ["node", str(js), str(provider.port), str(log)])
    rep, port = run.report, provider.port
    client = json.load(open(log))
    assert [a[1] for a in client["attempts"]] == [200, 503, 503, 200, "TimeoutError", 200], client
    busy = out_row(rep, "node", "/node/busy/{id}", port)
    assert busy["count"] == 3 and busy["status"] == {"200": 1, "503": 2} and busy["retries"] == 2
    stall = out_row(rep, "node", "/node/stall/{id}", port)
    assert stall["count"] == 2 and stall["answered"] == 1 and stall["retries"] == 1
    assert stall["failures"] == failures(stall, timeout=1)
    d = dest(rep, "node", port)
    assert d["attempts"] == 6 and d["retries"] == 3 and d["retry_success"] == 2, d
    # Its backoffs as its own timer saw them: from the failure to the next fetch().
    assert_backoffs(d, client["backoffs"])
    # Each answered attempt's latency lies inside the client's timer of it.
    mine = sorted(a[2] for a in client["attempts"] if a[1] == 200 or a[1] == 503)
    assert busy["latency_ms"]["max"] <= max(mine) + 0.001


def test_calls_per_request_of_a_traced_server(tmp_path, provider):
    port = free_port()
    a = Proc("app", port, provider.port)
    try:
        load = "import urllib.request as u\nfor i in range(20): u.urlopen('http://127.0.0.1:%d/order/%%d' %% i).read()" % port
        run = record(tmp_path, ["-q", "-P", str(port), "-P", str(provider.port)],
                     [PYTHON, "-c", load])
    finally:
        a.stop()
    rep = run.report
    order = run.row("/order/{id}")
    assert order["count"] == 20
    out = order["outbound"]
    assert out["requests"] == 20 and out["requests_with_calls"] == 20, out
    assert out["calls_per_request"] == 2.0 and out["max_calls"] == 2.0, out
    assert out["errors"] == 0
    assert 0 < out["ms_per_request"] <= order["latency_ms"]["mean"], out
    for what in ("a", "b"):
        r = out_row(rep, "python3", "/prov/%s" % what, provider.port)
        assert r["count"] == 20 and r["connects"] == 20 and r["retries"] == 0
    # The load's own calls: a process serving nothing calling a port listening here is a load
    # generator, left alone by default: one connection per urlopen.
    assert not [r for r in rep["outbound"]["calls"] if r["peer"].endswith(":%d" % port)]
    assert rep["outbound"]["stats"]["load_generator_connections"] == 20
    txt = subprocess.run([os.path.join(HERE, "..", "..", "sloprobe"), "report",
                          str(tmp_path / "report.json")], capture_output=True, text=True,
                         timeout=60).stdout
    assert "outbound: 2.00 calls/req (max 2)" in txt, txt
    # The client view has the server's calls to the provider, not the load's to the server.
    view = txt[txt.index("Client view of endpoints"):].split("\n\n")[0]
    assert "GET /prov/a" in view and "GET /order/" not in view, txt


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "serve":
        serve(int(sys.argv[2]))
    elif what == "pyclient":
        py_client(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif what == "app":
        app(int(sys.argv[2]), int(sys.argv[3]))
