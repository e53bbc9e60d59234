# SPDX-License-Identifier: GPL-2.0-only
"""Command line: errors, exit codes, signals, the loader's own traffic, output forms."""
import json
import signal
import socket
import subprocess
import time

import jsonschema

import pytest

from conftest import (PYTHON, SCHEMA, SLOPROBE, client, free_port, loaded_progs, prog_ids_of,
                      record, sh)


def run(args, **kw):
    return subprocess.run([SLOPROBE] + args, capture_output=True, text=True, timeout=30, **kw)


def one_line_error(p, code, needle):
    assert p.returncode == code, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sloprobe: "), p.stderr
    assert needle in p.stderr, p.stderr


def test_help_has_usage_and_examples():
    p = run(["record", "--help"])
    assert p.returncode == 0
    assert p.stdout.startswith("Usage: sloprobe record [OPTION...]"), p.stdout
    assert "EXAMPLES:" in p.stdout and "Exit status: 0 success" in p.stdout
    assert max(len(l) for l in p.stdout.splitlines()) <= 79
    assert "--route" in p.stdout and "--hist" in p.stdout


def test_usage_errors_exit_2():
    one_line_error(run(["record", "--no-such-option"]), 2, "unrecognized option")
    one_line_error(run(["frobnicate"]), 2, "unknown command 'frobnicate'")
    one_line_error(run(["record", "--route", "/a/{id"]), 2, "--route '/a/{id'")
    one_line_error(run(["record", "-p", "abc"]), 2, "invalid PID 'abc'")
    one_line_error(run(["record", "-i", "0"]), 2, "invalid interval")
    one_line_error(run(["record", "--port", "70000"]), 2, "invalid port")
    # argp's and getopt's own errors too, in sloprobe's form and pointing at the right --help
    for cmd in (["record"], ["report", "x.json"], ["diff", "a.json", "b.json"], ["merge", "a.json"]):
        p = run(cmd + ["--no-such-option"])
        one_line_error(p, 2, "sloprobe: unrecognized option '--no-such-option'")
        assert p.stderr.endswith("(see 'sloprobe %s --help')\n" % cmd[0]), p.stderr
    one_line_error(run(["record", "-Z"]), 2, "sloprobe: invalid option -- 'Z'")
    one_line_error(run(["record", "--route"]), 2, "option '--route' requires an argument")
    one_line_error(run(["report", "a.json", "b.json"]), 2, "one report at a time")
    for bad in ("-1", "100.5", "x", ""):
        one_line_error(run(["record", "--max-drop-pct", bad]), 2, "invalid --max-drop-pct")


def test_pid_that_does_not_exist():
    # The highest pid the kernel may hand out, plus one: certainly not running.
    pid = int(open("/proc/sys/kernel/pid_max").read()) + 1
    one_line_error(run(["record", "-q", "-d", "1", "-p", str(pid)]), 2,
                   "pid %d: no such process" % pid)


def test_not_root():
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        SLOPROBE, "record", "-d", "1"], capture_output=True, text=True, timeout=30)
    one_line_error(p, 1, "must run as root")


def test_command_not_found_and_failing_command(tmp_path):
    p = run(["record", "-q", "--", "/nonexistent/load-test"])
    one_line_error(p, 1, "/nonexistent/load-test: No such file or directory")
    r = record(tmp_path, ["-q"], ["/bin/sh", "-c", "exit 3"], check=False)
    assert r.rc == 1 and "exited with status 3" in r.err
    assert r.report["command"]["exit_status"] == 3


def test_sigint_detaches_and_writes_report(tmp_path):
    out = tmp_path / "r.json"
    p = subprocess.Popen([SLOPROBE, "record", "-o", str(out)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        # The first line is printed once every program is loaded and attached: interrupt a
        # recording, not the load. (Other sloprobe runs on the host have programs of the same
        # names: ours are known by the ids of our process's fds.)
        assert p.stdout.readline().startswith("Tracing HTTP servers"), p.stderr.read()
        mine = prog_ids_of(p.pid)
        assert len(mine) >= 20 and mine <= set(loaded_progs()), mine
        time.sleep(2)
        p.send_signal(signal.SIGINT)
        stdout, stderr = p.communicate(timeout=20)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    assert p.returncode == 0, stderr
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    assert report["window"]["duration_s"] >= 1.5
    assert "Summary:" in stdout and "Report written to %s" % out in stdout
    # Detached: none of our programs is left in the kernel.
    left = mine & set(loaded_progs())
    assert not left, "programs left in the kernel: %s" % sorted(left)


def test_report_to_stdout_live_view_to_stderr(tmp_path, server):
    p = subprocess.run([SLOPROBE, "record", "-i", "0.5", "-o", "-", "--port", str(server.port),
                        "--"] + sh(client("path", server.port, "/health", 5)),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    jsonschema.validate(report, SCHEMA)
    assert [r["count"] for r in report["http"]] == [5]
    assert "Tracing HTTP servers" in p.stderr and "Summary:" in p.stderr


def test_hist_shows_log2_histogram(tmp_path, server):
    r = record(tmp_path, ["--hist", "-i", "5", "--port", str(server.port)],
               sh(client("keepalive", server.port, "/items/", 1, 4)))
    assert "usecs" in r.out and "|****" in r.out
    # Buckets "lo -> hi : count": the 4 requests, each where its latency falls. A latency lies
    # between the server's time (its log) and the client's (its "200 <s>" lines), so the
    # 32768 -> 65535 us bucket (the server sleeps 50 ms) holds at least the requests the
    # client saw end within 65.535 ms and at most those the server did.
    buckets = {}
    for line in r.out.splitlines():
        f = line.replace(":", " ").split()
        if len(f) >= 4 and f[1] == "->" and f[0].isdigit() and f[3].isdigit():
            buckets[int(f[0])] = int(f[3])
    assert sum(buckets.values()) == 4 and min(buckets) >= 32768, r.out
    client_ms = [float(l.split()[1]) * 1000 for l in r.out.splitlines() if l.startswith("200 ")]
    server_ms = server.times_ms("/items/")
    assert len(client_ms) == 4 and len(server_ms) == 4
    assert sum(ms <= 65.535 for ms in client_ms) <= buckets.get(32768, 0) <= \
        sum(ms <= 65.535 for ms in server_ms), (r.out, server_ms)


def test_duration_stops(tmp_path):
    t = time.monotonic()
    r = record(tmp_path, ["-q", "-d", "1.5"])
    assert 1.4 <= time.monotonic() - t < 10
    assert 1.4 <= r.report["window"]["duration_s"] < 3


# Counts the host's events: run alone (conftest.py: serial).
@pytest.mark.serial
def test_loader_does_not_trace_itself(tmp_path):
    """sloprobe writes its live view to a TCP socket on a listening port of its own process
    tree: the same setup with any other process is traced, sloprobe itself never is."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", free_port()))
    lst.listen(4)
    port = lst.getsockname()[1]

    def accepted():
        c = socket.create_connection(("127.0.0.1", port))
        a, _ = lst.accept()
        return c, a

    # Control: a python process writing to such a socket is tracked.
    c, a = accepted()
    writer = ("import sys,time\nfor i in range(30):\n"
              "    sys.stdout.write('GET /x HTTP/1.1\\r\\n\\r\\n'); sys.stdout.flush(); "
              "time.sleep(0.1)\n")
    w = subprocess.Popen([PYTHON, "-c", writer], stdout=a.fileno())
    r = record(tmp_path, ["-q", "-d", "2", "-p", str(w.pid)])
    w.kill()
    w.wait()
    c.close()
    a.close()
    assert r.report["connections"]["tracked"] >= 1

    # sloprobe with the same kind of socket as stdout, its own pid in the filter.
    c, a = accepted()
    out = tmp_path / "self.json"
    p = subprocess.run(["/bin/sh", "-c", 'exec "$0" record -i 0.2 -d 2 -p $$ -o "$1"',
                        SLOPROBE, str(out)], stdout=a.fileno(), stderr=subprocess.PIPE,
                       text=True, timeout=30)
    a.close()
    c.settimeout(5)
    got = c.recv(65536)
    c.close()
    lst.close()
    assert p.returncode == 0, p.stderr
    assert b"Tracing HTTP servers" in got
    report = json.loads(out.read_text())
    assert report["connections"]["tracked"] == 0
    assert report["events"]["total"] == 0
