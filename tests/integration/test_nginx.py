# SPDX-License-Identifier: GPL-2.0-only
"""nginx (Debian's nginx-light): a real C server with worker processes that answers with
writev for the head and sendfile for the body, so the response bytes carry no payload."""
import os
import signal
import subprocess
import time

import pytest

from conftest import free_port, record, sh

NGINX = "/usr/sbin/nginx"
SMALL = 612
BIG = 256 * 1024


@pytest.fixture
def nginx(tmp_path):
    if not os.access(NGINX, os.X_OK):
        pytest.fail("nginx is missing: make deps installs nginx-light")
    root = tmp_path / "www"
    root.mkdir()
    (root / "index.html").write_bytes(b"x" * SMALL)
    (root / "big.bin").write_bytes(os.urandom(BIG))
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text("""
user root;
worker_processes 2;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 100000;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
    }}
}}
""".format(d=tmp_path, port=port, root=root))
    proc = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf),
                             "-e", str(tmp_path / "error.log")])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(["curl", "-sf", "-o", "/dev/null",
                           "http://127.0.0.1:%d/index.html" % port]).returncode == 0:
            break
        time.sleep(0.1)
    else:
        proc.kill()
        proc.wait()
        pytest.fail("nginx did not start: %s" % (tmp_path / "error.log").read_text())
    workers = [int(p) for p in subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True).stdout.split()]
    yield port, proc.pid, workers
    os.kill(proc.pid, signal.SIGQUIT)  # graceful: the workers go with the master
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_nginx_static_files(tmp_path, nginx):
    port, master, workers = nginx
    url = "http://127.0.0.1:%d" % port
    script = "; ".join([
        # 20 new connections (nginx spreads them over its workers), 12 keep-alive on one.
        "for i in $(seq 1 20); do curl -sf -o /dev/null %s/index.html; done" % url,
        "curl -sf " + " ".join("-o /dev/null %s/big.bin" % url for _ in range(12)),
        "for i in 1 2 3 4 5 6 7; do curl -s -o /dev/null %s/nope/$i.html; done" % url,
        # wrk: exactly 40 keep-alive requests on one connection
        "WRK_REQUESTS=40 WRK_PATH=/index.html wrk -t1 -c1 -d5s -s stop_after.lua %s >/dev/null"
        % url,
    ])
    # --port keeps any other nginx on the host out; filters combine with AND.
    run = record(tmp_path, ["-q", "--comm", "nginx", "--port", str(port)], sh(script))
    index = run.row("/index.html")
    assert index["count"] == 60
    assert index["status"] == {"200": 60}
    assert index["service"] == "nginx:%d" % port
    assert set(index["pids"]) <= set(workers)
    big = run.row("/big.bin")
    assert big["count"] == 12
    assert big["status"] == {"200": 12}
    # The body goes out with sendfile after the head: the request ends at the last byte.
    assert big["latency_ms"]["mean"] >= big["ttfb_ms"]["mean"]
    assert big["incomplete"] == 0 and big["end_inferred"] == 0
    missing = [r for r in run.report["http"] if r["status"].get("404")]
    assert sum(r["count"] for r in missing) == 7
    assert sum(r["errors"]["4xx"] for r in missing) == 7
    assert run.report["http_parser"]["unparsed_requests"] == 0
    assert run.report["http_parser"]["unparsed_responses"] == 0


def test_comm_filter_excludes_other_processes(tmp_path, nginx):
    port = nginx[0]
    run = record(tmp_path, ["-q", "--comm", "nginy", "--port", str(port)],
                 sh("curl -sf -o /dev/null http://127.0.0.1:%d/index.html" % port))
    assert run.report["http"] == []
    assert run.report["filters"]["comm"] == "nginy"
