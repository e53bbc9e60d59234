# SPDX-License-Identifier: GPL-2.0-only
"""TLS through OpenSSL's SSL_read/SSL_write (--tls on, docs/tls.md): HTTPS servers give the
rows of their cleartext twins, marked "tls": nginx (OpenSSL's own socket I/O), Python's ssl
module (the _ex calls) and Node's https (OpenSSL linked into node and fed from memory); their
HTTPS clients (curl, python-requests) are decoded too, and named HTTP on the client side.

Each server listens twice, TLS and cleartext, with one handler that answers after a known
delay; the same clients send the same requests to both. Truth from outside sloprobe: the
client's own timer per request, the server's own time (its log), and the count each client
made. Without --tls nothing changes (test_documented.py checks TLS connections are counted,
not decoded).
"""
import http.client
import json
import os
import signal
import ssl
import subprocess
import time

import jsonschema
import pytest

from conftest import (HERE, PYTHON, SCHEMA, SLOPROBE, Server, between, client, free_port,
                      nearest_rank, record, sh, within_truth)

NGINX = "/usr/sbin/nginx"
NODE = "/usr/bin/node"
ROUTE = "/items/{id}"

# python-requests: one keep-alive Session, N requests, "<status> <seconds>" per request.
REQUESTS = r"""
import sys, time, warnings
import requests
warnings.filterwarnings("ignore")
url, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with requests.Session() as s:
    for i in range(n):
        t = time.monotonic()
        r = s.get("%s/items/%d?%s" % (url, i, tag), verify=False, timeout=30)
        print(r.status_code, "%.6f" % (time.monotonic() - t), flush=True)
"""


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    d = tmp_path_factory.mktemp("cert")
    crt, key = d / "crt.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True, timeout=60)
    os.chmod(d, 0o755)
    os.chmod(key, 0o644)
    return str(crt), str(key)


def times_ms(path):
    """The "<status> <seconds>" lines of a client's log, in ms; every status must be 200."""
    lines = [l.split() for l in open(path).read().splitlines()]
    assert lines and all(l[0] == "200" for l in lines), lines
    return [float(l[1]) * 1000 for l in lines]


def check_twins(run, rows, truth):
    """rows: {name: (port, tls)}; truth: {name: (server_ms list, client_ms list)}. Each
    port's row has exactly the clients' requests, "tls" only on the TLS one, and its latency
    between the server's and the client's timers."""
    by_port = {r["port"]: r for r in run.report["http"] if r["route"] == ROUTE}
    assert set(by_port) == {p for p, _ in rows.values()}, run.report["http"]
    for name, (port, tls) in rows.items():
        row = by_port[port]
        server, cl = truth[name]
        assert row["count"] == len(cl) == len(server), (name, row["count"], len(cl), len(server))
        assert row["status"] == {"200": len(cl)}, row
        assert row.get("tls", False) is tls, row
        lat = row["latency_ms"]
        for k, f in (("min", min), ("max", max)):
            assert between(lat[k], f(server), f(cl)), (name, k, lat[k], f(server), f(cl))
        assert between(lat["mean"], sum(server) / len(server), sum(cl) / len(cl)), (name, lat)
        s_sorted, c_sorted = sorted(server), sorted(cl)
        for p in ("p50", "p90"):
            k = max(1, -(-int(p[1:]) * len(cl) // 100)) - 1
            assert within_truth(lat[p], s_sorted[k], c_sorted[k]), (name, p, lat[p])
    hp = run.report["http_parser"]
    assert hp["unparsed_requests"] == 0 and hp["unparsed_responses"] == 0, hp
    assert run.report["events"]["tls_unbound"] == 0, run.report["events"]


def check_client_twins(run, rows, callers, truth):
    """The clients' side (--outbound all): rows: {name: (port, tls)}; callers: {process name:
    calls per port}. Each port's outbound rows (one per caller) have exactly its calls,
    "tls" only on the TLS port, their latency (first request byte written -> last response
    byte read) between the server's timer and the client's."""
    out = run.report["outbound"]
    for name, (port, tls) in rows.items():
        mine = [c for c in out["calls"] if c["peer"] == "127.0.0.1:%d" % port]
        assert {c["caller"]: c["count"] for c in mine} == callers, (name, mine)
        server, cl = truth[name]
        for c in mine:
            assert c["route"] == ROUTE and c["status"] == {"200": c["count"]}, c
            assert c.get("tls", False) is tls, c
            assert c["retries"] == 0 and c["unfinished"] == 0, c
            lat = c["latency_ms"]
            assert between(lat["min"], min(server), max(cl)), (name, c["caller"], lat)
            assert between(lat["max"], min(server), max(cl)), (name, c["caller"], lat)
        total = sum(c["count"] for c in mine)
        mean = sum(c["latency_ms"]["mean"] * c["count"] for c in mine) / total
        assert between(mean, sum(server) / len(server), sum(cl) / len(cl)), (name, mean)
    assert out["stats"]["parser"]["unparsed_requests"] == 0, out["stats"]
    assert out["stats"]["parser"]["unparsed_responses"] == 0, out["stats"]


@pytest.fixture
def upstream(tmp_path):
    s = Server(env={"TIMING_LOG": str(tmp_path / "upstream.log"), "ITEM_MS": "40"})
    yield s
    s.stop()


@pytest.fixture
def nginx_tls(tmp_path, cert, upstream):
    """nginx on two ports, TLS and cleartext, both proxying to the upstream (40 ms)."""
    if not os.access(NGINX, os.X_OK):
        pytest.fail("nginx is missing: make deps installs nginx-light")
    ports = {"tls": free_port(), "plain": free_port()}
    conf = tmp_path / "nginx.conf"
    conf.write_text("""
user root;
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream app {{ server 127.0.0.1:{up}; keepalive 4; }}
    server {{
        listen 127.0.0.1:{tls} ssl;
        ssl_certificate {crt};
        ssl_certificate_key {key};
        location / {{ proxy_pass http://app; proxy_http_version 1.1;
                      proxy_set_header Connection ""; }}
    }}
    server {{
        listen 127.0.0.1:{plain};
        location / {{ proxy_pass http://app; proxy_http_version 1.1;
                      proxy_set_header Connection ""; }}
    }}
}}
""".format(d=tmp_path, up=upstream.port, crt=cert[0], key=cert[1], **ports))
    proc = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf),
                             "-e", str(tmp_path / "error.log")])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(["curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:%d/items/0"
                           % ports["plain"]]).returncode == 0:
            break
        time.sleep(0.1)
    else:
        proc.kill()
        proc.wait()
        pytest.fail("nginx did not start: %s" % (tmp_path / "error.log").read_text())
    open(upstream.timing_log, "w").close()  # the probe above is not the test's
    yield ports
    os.kill(proc.pid, signal.SIGQUIT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_nginx_tls_twin(tmp_path, nginx_tls, upstream):
    """nginx with TLS against its cleartext twin, through a 40 ms upstream: curl (a new
    connection per request) and python-requests (one keep-alive connection), 8 + 12
    requests on each port. The TLS port's row has the same count, marked tls, its latency
    between the upstream's own time and the client's timer; the clients' TLS connections are
    decoded and named HTTP. connections.tls (not decoded) stays 0."""
    ports = nginx_tls
    curl_n, req_n = 8, 12
    script = []
    for name, port in ports.items():
        url = "%s://127.0.0.1:%d" % ("https" if name == "tls" else "http", port)
        script.append("for i in $(seq 1 %d); do curl -sk -o /dev/null -w '%%{http_code} "
                      "%%{time_total}\\n' \"%s/items/$i?%s\" >> %s/curl-%s.log; done"
                      % (curl_n, url, name, tmp_path, name))
        script.append("%s -c '%s' %s %d %s > %s/req-%s.log"
                      % (PYTHON, REQUESTS, url, req_n, name, tmp_path, name))
    # --outbound all: the clients (curl, requests) call a port listening here; followed too.
    run = record(tmp_path, ["-q", "--tls=on", "--outbound", "all", "-P", str(ports["tls"]),
                            "-P",
                            str(ports["plain"])], sh("; ".join(script)))
    with open(upstream.timing_log) as f:
        up = [l.split() for l in f]
    truth = {}
    for name in ports:
        server = [float(l[2]) * 1000 for l in up if l[1].endswith("?" + name)]
        cl = times_ms(tmp_path / ("curl-%s.log" % name)) + \
            times_ms(tmp_path / ("req-%s.log" % name))
        truth[name] = (server, cl)
    rows = {"tls": (ports["tls"], True), "plain": (ports["plain"], False)}
    check_twins(run, rows, truth)
    check_client_twins(run, rows, {"curl": curl_n, "python3": req_n}, truth)
    conns = run.report["connections"]
    assert conns["tls_decoded"] == curl_n + 1, conns
    assert conns["tls_outbound"] == curl_n + 1, conns
    # The clients' side: each HTTPS connection's plaintext came through, named HTTP.
    assert conns["tls_decoded_outbound"] == curl_n + 1, conns
    assert conns["tls"] == 0 and conns["other_protocol"] == 0, conns


@pytest.fixture
def py_tls(tmp_path, cert):
    """httpserver.py twice: HTTPS (Python's ssl: SSL_read_ex/SSL_write_ex) and cleartext."""
    servers = {}
    for name in ("tls", "plain"):
        env = {"TIMING_LOG": str(tmp_path / ("server-%s.log" % name)), "ITEM_MS": "30"}
        if name == "tls":
            env.update(TLS_CERT=cert[0], TLS_KEY=cert[1])
        servers[name] = Server(env=env)
    yield servers
    for s in servers.values():
        s.stop()


def test_python_ssl_server_twin(tmp_path, py_tls):
    """Python's ssl server against its cleartext twin: 15 keep-alive requests of clients.py
    on each, the same count on each port, the TLS one marked, latency between the server's
    own time and the client's."""
    n = 15
    script = []
    for name, s in py_tls.items():
        env = "CLIENT_TLS=1 " if name == "tls" else ""
        script.append("%s%s > %s/client-%s.log" % (env, client("keepalive", s.port, "/items/",
                                                               1, n), tmp_path, name))
    run = record(tmp_path, ["-q", "--tls=on", "--outbound", "all"] +
                 [a for s in py_tls.values() for a in ("-P", str(s.port))],
                 sh("; ".join(script)))
    truth = {name: (s.times_ms("/items/"), times_ms(tmp_path / ("client-%s.log" % name)))
             for name, s in py_tls.items()}
    rows = {name: (s.port, name == "tls") for name, s in py_tls.items()}
    check_twins(run, rows, truth)
    check_client_twins(run, rows, {"python3": n}, truth)
    conns = run.report["connections"]
    assert conns["tls_decoded"] == 1 and conns["tls_decoded_outbound"] == 1, conns
    assert conns["tls_outbound"] == 1, conns


@pytest.fixture
def node_tls(tmp_path, cert):
    if not os.access(NODE, os.X_OK):
        pytest.fail("node is missing: make deps installs nodejs")
    ports = {"tls": free_port(), "plain": free_port()}
    log = tmp_path / "node.log"
    proc = subprocess.Popen([NODE, os.path.join(HERE, "servers", "node_https.js"),
                             str(ports["tls"]), str(ports["plain"]), cert[0], cert[1],
                             str(log)], stdout=subprocess.PIPE, text=True)
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        proc.wait()
        pytest.fail("node_https.js did not start")
    yield ports, log
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_node_https_server_twin(tmp_path, node_tls):
    """Node's https (OpenSSL inside the node executable, fed from memory: no syscall inside
    SSL_read) against its http twin: python-requests, 15 keep-alive requests, Node's own
    fetch, 10 on one connection (a Node client, fed from memory too), and curl, 5
    connections, on each port; same counts, the TLS row marked, latency between the server's
    own time and the client's, and the arrival of the request seen (wait_ms) on both."""
    ports, log = node_tls
    req_n, fetch_n, curl_n = 15, 10, 5
    script = []
    for name, port in ports.items():
        url = "%s://127.0.0.1:%d" % ("https" if name == "tls" else "http", port)
        script.append("%s -c '%s' %s %d %s > %s/req-%s.log"
                      % (PYTHON, REQUESTS, url, req_n, name, tmp_path, name))
        script.append("NODE_TLS_REJECT_UNAUTHORIZED=0 %s %s %s %d > %s/fetch-%s.log 2>/dev/null"
                      % (NODE, os.path.join(HERE, "servers", "node_fetch_client.js"), url,
                         fetch_n, tmp_path, name))
        script.append("for i in $(seq 1 %d); do curl -sk -o /dev/null -w '%%{http_code} "
                      "%%{time_total}\\n' \"%s/items/$i?%s\" >> %s/curl-%s.log; done"
                      % (curl_n, url, name, tmp_path, name))
    # --outbound all: the clients (curl, requests) call a port listening here; followed too.
    run = record(tmp_path, ["-q", "--tls=on", "--outbound", "all", "-P", str(ports["tls"]),
                            "-P",
                            str(ports["plain"])], sh("; ".join(script)))
    lines = [l.split() for l in log.read_text().splitlines()]
    truth = {}
    for name, port in ports.items():
        server = [float(l[2]) for l in lines if int(l[0]) == port]
        cl = times_ms(tmp_path / ("req-%s.log" % name)) + \
            times_ms(tmp_path / ("fetch-%s.log" % name)) + \
            times_ms(tmp_path / ("curl-%s.log" % name))
        truth[name] = (server, cl)
    rows = {name: (port, name == "tls") for name, port in ports.items()}
    check_twins(run, rows, truth)
    check_client_twins(run, rows, {"python3": req_n, "node": fetch_n, "curl": curl_n}, truth)
    for r in run.report["http"]:
        assert "wait_ms" in r, r
    # Every TLS connection decoded at both ends (fetch may open more than one).
    conns = run.report["connections"]
    assert conns["tls_decoded"] == conns["tls_decoded_outbound"] == conns["tls_outbound"] >= \
        curl_n + 2, conns
    assert conns["tls"] == 0, conns


def test_tls_connection_opened_before_recording(tmp_path, cert):
    """A keep-alive TLS connection older than the recording, as test_documented.py's cleartext
    one: a request answered before (not counted), one the server has read and holds until
    sloprobe runs (its response without request: the SSL_write that sends it names the
    connection), then 7 requests while recording, counted, marked tls, their latency between
    the server's and the client's timers."""
    go, done = tmp_path / "go", tmp_path / "done"
    srv = Server(env={"TIMING_LOG": str(tmp_path / "server.log"), "GATE_FILE": str(go),
                      "TLS_CERT": cert[0], "TLS_KEY": cert[1]})
    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=30,
                                       context=ssl._create_unverified_context())
    p = None
    try:
        conn.request("GET", "/health")
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"ok\n"
        conn.request("GET", "/gate")  # read by the server, answered once "go" exists
        time.sleep(0.2)
        script = "touch %s; for i in $(seq 600); do [ -e %s ] && exit 0; sleep 0.05; done; " \
                 "exit 1" % (go, done)
        out = tmp_path / "report.json"
        p = subprocess.Popen([SLOPROBE, "record", "-q", "--tls=on", "-P", str(srv.port), "-o",
                              str(out), "--"] + sh(script), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        r = conn.getresponse()  # waits for the gate
        assert r.status == 200 and r.read() == b"ok\n"
        cli = []
        for i in range(7):
            t = time.monotonic()
            conn.request("GET", "/items/%d" % i)
            r = conn.getresponse()
            r.read()
            cli.append((time.monotonic() - t) * 1000)
            assert r.status == 200
        done.touch()
        stdout, stderr = p.communicate(timeout=60)
        assert p.returncode == 0, stderr
    finally:
        conn.close()
        go.touch()
        done.touch()
        if p and p.poll() is None:
            p.kill()
            p.wait(10)
        srv.stop()
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    rows = {r["route"]: r for r in report["http"]}
    assert set(rows) == {"/items/{id}"}, rows
    items = rows["/items/{id}"]
    assert items["count"] == 7 and items["status"] == {"200": 7} and items["tls"], items
    assert report["http_parser"]["responses_without_request"] == 1, report["http_parser"]
    assert report["connections"]["tls_decoded"] == 1, report["connections"]
    assert report["events"]["tls_unbound"] == 0, report["events"]
    srv_ms = srv.times_ms("/items/")
    assert len(srv_ms) == 7
    lat = items["latency_ms"]
    for name, q in (("p50", 50), ("max", 100)):
        assert within_truth(lat[name], nearest_rank(srv_ms, q), nearest_rank(cli, q)), (
            name, lat, srv_ms, cli)
    assert between(lat["mean"], sum(srv_ms) / 7, sum(cli) / 7)
