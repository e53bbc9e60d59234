# SPDX-License-Identifier: GPL-2.0-only
"""Documented behaviour of `sloprobe record` and `diff`, each at its limit (README.md,
docs/analyze.md, `sloprobe record --help`): --quiet-ms, --head-bytes, --bpf-stats, --top, the
diff's noise floors, SIGTERM, the exit status of a failing load test with a breached SLO, TLS
and cleartext HTTP/2 connections, and keep-alive connections opened before recording.

Truth comes from outside sloprobe: the client's own timer (clients.py), the server's own
timer or log (httpserver.py TIMING_LOG, nginx's access log), the kernel (bpftool), or, for
the diff, reports built here with exactly known values.
"""
import http.client
import json
import os
import signal
import subprocess
import time

import jsonschema
import pytest

from conftest import (HERE, HIST_REL, PYTHON, SCHEMA, SLOPROBE, TIMER_SLACK_MS, Server, between,
                      client, client_times_ms, free_port, loaded_progs, nearest_rank, prog_ids_of,
                      record, sh, within_truth)

FIX = os.path.join(HERE, "fixtures")


def as_nobody(args):
    """sloprobe ARGS as an unprivileged user: options are parsed (exit 2 on a bad value), then
    a valid command line stops at "must run as root" (exit 1) before loading anything."""
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           SLOPROBE] + args, capture_output=True, text=True, timeout=30)


def check_option_range(option, lowest, highest):
    """--option takes lowest..highest: both ends accepted, one past either end refused."""
    for v in (lowest, highest):
        p = as_nobody(["record", "%s=%d" % (option, v)])
        assert p.returncode == 1 and "must run as root" in p.stderr, (option, v, p.stderr)
    for v in (lowest - 1, highest + 1):
        p = as_nobody(["record", "%s=%d" % (option, v)])
        assert p.returncode == 2, (option, v, p.returncode, p.stderr)
        assert p.stderr.startswith("sloprobe: invalid %s '%d' (" % (option, v)), p.stderr
        assert p.stderr.endswith("(see 'sloprobe record --help')\n"), p.stderr
        assert p.stderr.count("\n") == 1, p.stderr


# --quiet-ms ------------------------------------------------------------------------------------

UNFRAMED_CLIENT = r"""
import socket, sys, time
# One connection per path: the request, the response read up to "part two", then SILENCE
# seconds of silence before the close. Prints "<path> <s to part one> <s to part two>".
port, silence = int(sys.argv[1]), float(sys.argv[2])
for path in sys.argv[3:]:
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t = time.monotonic()
    s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode())
    buf, one = b"", None
    while b"part two\n" not in buf:
        d = s.recv(4096)
        if not d:
            sys.exit("connection closed early")
        buf += d
        if one is None and b"part one\n" in buf:
            one = time.monotonic() - t
    print(path, "%.6f %.6f" % (one, time.monotonic() - t), flush=True)
    time.sleep(silence)
    s.close()
"""


@pytest.mark.parametrize("quiet_ms", [None, 100])
def test_quiet_ms_ends_unframed_response(tmp_path, quiet_ms):
    """README: a response of unknown length (no Content-Length, not chunked, connection kept
    open) ends with "the last write before the next request, the close, or --quiet-ms (200 ms)
    of silence". The server writes "part one" at once and "part two" after a gap: a gap below
    the quiet time is inside the response (latency to part two), a gap above it ends the
    response at part one (its latency is the time to part one, the late bytes are counted as
    unframed, not lost). Gaps of half and one and a half times the quiet time (the default,
    200 ms, and --quiet-ms 100: 150 ms is inside the default, so the option must be the one
    applied); the silence after the response is longer than either."""
    quiet = quiet_ms or 200
    short, long_ = "/unframed-%d" % (quiet // 2), "/unframed-%d" % (quiet * 3 // 2)
    log = tmp_path / "server.log"
    srv = Server(env={"TIMING_LOG": str(log)})
    try:
        script = tmp_path / "unframed.py"
        script.write_text(UNFRAMED_CLIENT)
        args = ["-q", "-P", str(srv.port)] + (["--quiet-ms", str(quiet_ms)] if quiet_ms else [])
        run = record(tmp_path, args, sh("%s %s %d %.3f %s %s > %s/times.txt" % (
            PYTHON, script, srv.port, 3 * quiet / 1000, short, long_, tmp_path)))
    finally:
        srv.stop()
    assert run.report["definitions"]["quiet_ms"] == quiet
    times = {l.split()[0]: [float(v) * 1000 for v in l.split()[1:]]
             for l in open(tmp_path / "times.txt")}
    srv_ms = {l.split()[1]: float(l.split()[2]) * 1000 for l in open(log)}
    inside, cut = run.row(short), run.row(long_)
    for row in (inside, cut):
        assert row["count"] == 1 and row["status"] == {"200": 1}, row
        assert row["end_inferred"] == 1, row  # ended by inference, not by framing
    # The gap is inside: the response ends with part two.
    assert within_truth(inside["latency_ms"]["max"], srv_ms[short], times[short][1]), (
        inside["latency_ms"], srv_ms[short], times[short])
    # The gap is longer than the quiet time: the response ended with part one, before the
    # gap (the client had part one by then).
    assert cut["latency_ms"]["max"] <= times[long_][0] * (1 + HIST_REL) + TIMER_SLACK_MS, (
        cut["latency_ms"], times[long_])
    assert times[long_][0] < quiet * 3 / 2 <= times[long_][1]
    # Part two came after the response had ended: bytes outside any response, counted.
    assert run.report["http_parser"]["unparsed_responses"] == 1, run.report["http_parser"]
    assert run.report["http_parser"]["responses_without_request"] == 0


def test_quiet_ms_range():
    """--help: --quiet-ms takes 1 to 60000."""
    check_option_range("--quiet-ms", 1, 60000)


# --head-bytes ------------------------------------------------------------------------------

HEAD_CLIENT = r"""
import socket, sys
# One keep-alive connection; each request line is sent whole, with more headers after it, in
# one write (so the server reads more than the captured head at once).
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
for target in sys.argv[2:]:
    s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\nX-Pad: %s\r\n\r\n" % (target.encode(), b"p" * 300))
    status = int(f.readline().split()[1])
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    f.read(length)
    print(status, flush=True)
"""


def target_of_line(prefix, line_len, ch):
    """A request target such that "GET <target> HTTP/1.1\\r\\n" is line_len bytes."""
    return prefix + ch * (line_len - len("GET  HTTP/1.1\r\n") - len(prefix))


@pytest.mark.parametrize("head_bytes", [None, 64])
def test_head_bytes_cuts_request_lines(tmp_path, server, head_bytes):
    """README: "Request lines longer than --head-bytes (512, up to 4096) are cut. A request
    whose target was cut is counted in target_truncated and routed by the part that was seen;
    one cut after its whole target ... is routed by its target and not counted."
    With --head-bytes 64 (its lowest value): a request line of exactly 64 bytes is whole; one
    of 65 bytes (its final LF not captured) is cut after its target: routed by its whole
    target, not counted; one of 100 bytes is routed by the target's first 60 bytes and
    counted. Without the option (512) none of the three is cut. (Routes are kept to 127
    characters: the targets are shorter.)"""
    # Letters that are not hex digits: such segments stay as they are in routes.
    fit = target_of_line("/fit/", 64, "z")
    one = target_of_line("/one/", 65, "y")
    far = target_of_line("/far/", 100, "x")
    script = tmp_path / "head.py"
    script.write_text(HEAD_CLIENT)
    args = ["-q", "-P", str(server.port)] + (["--head-bytes", str(head_bytes)]
                                            if head_bytes else [])
    run = record(tmp_path, args, [PYTHON, str(script), str(server.port), fit, one, far])
    # The server read the three whole targets (its log).
    assert [l.split()[1] for l in open(server.timing_log)] == [fit, one, far]
    if head_bytes is None:
        for t in (fit, one, far):
            row = run.row(t)
            assert row["count"] == 1 and row["target_truncated"] == 0, row
            assert row["status"] == {"404": 1}, row
        return
    assert len("GET %s HTTP/1.1\r\n" % fit) == head_bytes
    row = run.row(fit)
    assert row["count"] == 1 and row["target_truncated"] == 0, row
    row = run.row(one)
    assert row["count"] == 1 and row["target_truncated"] == 0, row
    # 64 captured bytes: "GET " and the first 60 bytes of the target.
    row = run.row(far[:head_bytes - 4])
    assert row["count"] == 1 and row["target_truncated"] == 1, row
    assert len(run.report["http"]) == 3, run.report["http"]
    for row in run.report["http"]:
        assert row["status"] == {"404": 1}, row  # the status line fits in 64 bytes
    assert run.report["http_parser"]["unparsed_requests"] == 0


def test_head_bytes_range():
    """--help: --head-bytes takes 64 to 4096."""
    check_option_range("--head-bytes", 64, 4096)


# --bpf-stats -------------------------------------------------------------------------------

BPFTOOL_SNAPSHOT = r"""
import glob, json, subprocess, sys
# Run by sloprobe as its COMMAND: the programs of the parent (sloprobe) as the kernel counts
# them at this moment.
ppid = int(sys.argv[1])
ids = set()
for fd in glob.glob("/proc/%d/fdinfo/*" % ppid):
    try:
        ids |= {int(l.split()[1]) for l in open(fd) if l.startswith("prog_id:")}
    except OSError:
        pass
progs = json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True,
                                  text=True, check=True).stdout)
mine = [p for p in progs if p["id"] in ids]
json.dump({"progs": mine}, open(sys.argv[2], "w"))
"""


HANDOFF_PROGS = {"sched_waking", "sched_wakeup_new", "sock_send_length"}


# BPF run time of a known workload: run alone (conftest.py: serial).
@pytest.mark.serial
@pytest.mark.parametrize("stats", [False, True])
def test_bpf_stats(tmp_path, server, stats):
    """--bpf-stats: "measure the in-kernel cost of the BPF programs (reported under bpf)". With
    it, the kernel counts runs and run time of sloprobe's programs while it records (bpftool
    shows them), and the report's totals are at least what the kernel showed before the load
    test ended; without it nothing is measured and the report says so."""
    snap = tmp_path / "snapshot.json"
    script = tmp_path / "snapshot.py"
    script.write_text(BPFTOOL_SNAPSHOT)
    # --db-probe=none: the socket programs only, the ones run_time_ns / run_cnt add up.
    args = ["-q", "--db-probe=none", "-P", str(server.port)] + (["--bpf-stats"] if stats else [])
    run = record(tmp_path, args, sh("%s && %s %s $PPID %s" % (
        client("path", server.port, "/health", 23), PYTHON, script, snap)))
    assert run.row("/health")["count"] == 23
    seen = json.loads(snap.read_text())
    progs = seen["progs"]
    assert len(progs) >= 20, progs  # sloprobe's socket programs, as the kernel lists them
    bpf = run.report["bpf"]
    if not stats:
        assert bpf == {"stats_enabled": False}, bpf
        return
    # The hand-off programs are counted apart (docs/performance.md).
    handoff = [p for p in progs if p["name"] in HANDOFF_PROGS]
    socket = [p for p in progs if p["name"] not in HANDOFF_PROGS]
    kernel_cnt = sum(p.get("run_cnt", 0) for p in socket)
    kernel_ns = sum(p.get("run_time_ns", 0) for p in socket)
    # 23 requests: the server read and wrote at least 23 times each, under sloprobe's eyes.
    assert kernel_cnt >= 4 * 23 and kernel_ns > 0, progs
    assert bpf["stats_enabled"] is True
    assert bpf["run_cnt"] >= kernel_cnt and bpf["run_time_ns"] >= kernel_ns, (bpf, kernel_cnt,
                                                                              kernel_ns)
    assert bpf["db_probes_run_cnt"] == 0 and bpf["db_probes_run_time_ns"] == 0
    ho_cnt = sum(p.get("run_cnt", 0) for p in handoff)
    ho_ns = sum(p.get("run_time_ns", 0) for p in handoff)
    # The server answered on 23 sends that the hand-off program saw.
    assert len(handoff) == len(HANDOFF_PROGS) and ho_cnt >= 23, handoff
    assert bpf["handoff_run_cnt"] >= ho_cnt and bpf["handoff_run_time_ns"] >= ho_ns, (bpf, handoff)


# --top -------------------------------------------------------------------------------------

# Three bursts, each with every endpoint (round robin on one connection), 0.6 s apart: a burst
# takes a few ms, so at least one falls within one 0.5 s interval. Totals 9, 8, 7, 6, 5.
TOP_BURSTS = [{"/top-a": 3, "/top-b": 3, "/top-c": 3, "/top-d": 2, "/top-e": 2},
              {"/top-a": 3, "/top-b": 3, "/top-c": 2, "/top-d": 2, "/top-e": 2},
              {"/top-a": 3, "/top-b": 2, "/top-c": 2, "/top-d": 2, "/top-e": 1}]
TOP_COUNTS = {k: sum(b[k] for b in TOP_BURSTS) for k in TOP_BURSTS[0]}


def round_robin(counts):
    left, out = dict(counts), []
    while any(left.values()):
        for k in counts:
            if left[k]:
                out.append(k)
                left[k] -= 1
    return out


def tables(out):
    """The endpoint rows (route, count) of each table of the live output, in order; the last
    one is the summary. A table ends where the next interval or the summary begins."""
    result, cur = [], None
    for line in out.splitlines():
        if line.startswith("Summary:") or (len(line) > 10 and line[2] == ":" and
                                            line[5] == ":" and "requests" in line):
            cur = {"rows": [], "more": 0}
            result.append(cur)
        elif cur is not None:
            f = line.split()
            if len(f) > 3 and f[0] in ("GET", "!") and f[-1].isdigit():
                f = f[1:] if f[0] == "!" else f
                cur["rows"].append((f[1], int(f[2])))
            elif line.startswith("  ... ") and "more endpoints" in line:
                cur["more"] = int(f[1])
    return result


@pytest.mark.parametrize("top", [5, 4])
def test_top_limits_rows(tmp_path, server, top):
    """--top N: "Show at most N endpoints per interval". Five endpoints with 9, 8, 7, 6 and 5
    requests: --top 5 (exactly their number) shows all five and hides none; --top 4 (one
    fewer) shows the four busiest and says one more is hidden, in the intervals that saw all
    five and in the summary. The report keeps every endpoint."""
    script = " && sleep 0.6 && ".join(
        client("paths", server.port, *round_robin(b)) + " > /dev/null" for b in TOP_BURSTS)
    run = record(tmp_path, ["-i", "0.5", "--top", str(top), "-P", str(server.port)],
                 sh(script))
    assert TOP_COUNTS == {"/top-a": 9, "/top-b": 8, "/top-c": 7, "/top-d": 6, "/top-e": 5}
    for path, n in TOP_COUNTS.items():
        assert run.row(path)["count"] == n  # the report is not cut
    ts = tables(run.out)
    assert len(ts) >= 2, run.out
    for t in ts:
        assert len(t["rows"]) <= top, (t, run.out)
    # An interval that saw a whole burst: five endpoints, top of them shown.
    full = [t for t in ts[:-1] if len(t["rows"]) + t["more"] == len(TOP_COUNTS)]
    assert full, run.out
    assert all(len(t["rows"]) == top and t["more"] == len(TOP_COUNTS) - top for t in full)
    summary = ts[-1]
    want = sorted(TOP_COUNTS.items(), key=lambda kv: -kv[1])
    assert summary["rows"] == want[:top], run.out
    assert summary["more"] == len(TOP_COUNTS) - top, run.out


def test_top_range():
    """--top takes 1 to 100000."""
    check_option_range("--top", 1, 100000)


# diff noise floors -------------------------------------------------------------------------

def bucket_of(ns):
    """[lo, hi] of the log-linear-ns-6 bucket holding ns (README: each power-of-two range of
    nanoseconds split into 64 linear buckets; below 128 ns, one bucket per value)."""
    if ns < 128:
        return ns, ns
    e = ns.bit_length() - 1
    w = 1 << (e - 6)
    lo = ns // w * w
    return lo, lo + w - 1


def endpoint(template, route, count, ms, n5xx=0):
    """An endpoint row of count requests that all took exactly ms: every percentile is ms (the
    bucket's middle clamped to min = max)."""
    ns = round(ms * 1e6)
    lo, hi = bucket_of(ns)
    e = json.loads(json.dumps(template))
    e.update(route=route, count=count, status={"200": count - n5xx, "500": n5xx}
             if n5xx else {"200": count}, errors={"4xx": 0, "5xx": n5xx,
                                                 "5xx_ratio": round(n5xx / count, 6)})
    lat = {k: ns / 1e6 for k in ("p50", "p90", "p95", "p99", "p999", "max", "min", "mean")}
    e["latency_ms"] = lat
    e["ttfb_ms"] = dict(lat)
    e.pop("server_ms", None)
    e.pop("wait_ms", None)
    e.pop("db", None)
    e["histogram"] = {"layout": "log-linear-ns-6", "unit": "ns", "count": count,
                      "sum": ns * count, "min": ns, "max": ns, "buckets": [[lo, hi, count]]}
    return e


# route: (count, before ms, after ms, before 5xx, after 5xx, verdict by the documented rule)
NOISE_CASES = {
    # HTTP latency: the floor is 1 ms while 5 % of the baseline is smaller.
    "/floor-equal": (40, 10.0, 11.0, 0, 0, "unchanged"),         # +1 ms: not larger
    "/floor-past": (40, 10.0, 11.000001, 0, 0, "regressed"),    # +1 ms + 1 ns
    "/floor-better": (40, 10.0, 8.999999, 0, 0, "improved"),    # -1 ms - 1 ns
    # 5 % of the baseline once it is above the floor: 5 % of 40 ms is 2 ms.
    "/rel-equal": (40, 40.0, 42.0, 0, 0, "unchanged"),
    "/rel-past": (40, 40.0, 42.000001, 0, 0, "regressed"),
    # Error rate: 0.1 percentage point. 1 of 1000 is 0.1 point, 1 of 999 a little more.
    "/err-equal": (1000, 5.0, 5.0, 0, 1, "unchanged"),
    "/err-past": (999, 5.0, 5.0, 0, 1, "regressed"),
    # At least 20 requests in both runs, else "few samples" whatever the change.
    "/samples-20": (20, 10.0, 20.0, 0, 0, "regressed"),
    "/samples-19": (19, 10.0, 20.0, 0, 0, "few samples"),
    # Over the error floor: 3 and 10 errors in 1000 after none.
    "/err-3": (1000, 5.0, 5.0, 0, 3, "regressed"),
    "/err-10": (1000, 5.0, 5.0, 0, 10, "regressed"),
}

# With the default 95 % confidence, a rate's change must also be significant (two-proportion
# z-test, p-values by Python's math.erfc): 1 in 999 after none, p = 0.32; 3 in 1000, p = 0.083;
# 10 in 1000, p = 0.0015.
SIGNIFICANT = {"/err-past": "unchanged", "/err-3": "unchanged", "/err-10": "regressed"}


def noise_reports(tmp_path):
    with open(os.path.join(FIX, "after.json")) as f:
        base = json.load(f)
    tmpl = base["http"][0]
    runs = []
    for side in (0, 1):
        r = json.loads(json.dumps(base))
        r["http"] = [endpoint(tmpl, route, c[0], c[1 + side], c[3 + side])
                     for route, c in NOISE_CASES.items()]
        path = tmp_path / ("%s.json" % ("before", "after")[side])
        path.write_text(json.dumps(r))
        jsonschema.validate(r, SCHEMA)
        runs.append(str(path))
    return runs


def verdicts(out):
    """{route: verdict} of the diff's HTTP endpoints table."""
    got = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) > 2 and f[0] == "GET" and "->" in line and line.startswith("  GET /"):
            got[f[1]] = "few samples" if line.endswith("few samples") else f[-1]
    return got


def test_diff_noise_floors(tmp_path):
    """docs/analyze.md: a metric changed when |after - before| is larger than max(5 % of
    before, floor): 1 ms for HTTP latency, 0.1 percentage point for error rates, with at least
    20 requests in both runs; a rate's change must also be significant at 95 %. Each rule at its limit: a change exactly at the threshold is
    unchanged, 1 ns (or 1 request) past it is a change; 20 requests are judged, 19 are not."""
    before, after = noise_reports(tmp_path)
    # The floors alone (--confidence 0 turns the significance test off).
    p = subprocess.run([SLOPROBE, "diff", "--confidence", "0", before, after],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    got = verdicts(p.stdout)
    assert got == {r: c[5] for r, c in NOISE_CASES.items()}, p.stdout
    p = subprocess.run([SLOPROBE, "diff", before, after], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    got = verdicts(p.stdout)
    assert got == dict({r: c[5] for r, c in NOISE_CASES.items()}, **SIGNIFICANT), p.stdout
    assert "significant at 95 %" in p.stdout
    # --floor-ms moves the latency floor: 2 ms makes the +1 ms + 1 ns change noise, and a
    # 5 % relative part of 10 % makes the +2 ms + 1 ns change on 40 ms noise too.
    p = subprocess.run([SLOPROBE, "diff", "--floor-ms", "2", "--noise", "10", before, after],
                       capture_output=True, text=True, timeout=30)
    got = verdicts(p.stdout)
    assert got["/floor-past"] == "unchanged" and got["/rel-past"] == "unchanged", p.stdout
    assert got["/samples-20"] == "regressed", p.stdout  # +10 ms is larger than 2 ms


# SIGTERM -----------------------------------------------------------------------------------

def alive(pid):
    """The load test's `sleep 60` still runs as pid (a zombie counts as gone; so does another
    process that got the pid since)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            if f.read() != b"sleep\x0060\x00":
                return False
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_writes_report_and_detaches(tmp_path, server, sig):
    """README: "SIGINT, SIGTERM and SIGHUP detach the programs and still write the report". It
    while the load test still runs: exit 0, the report holds the 7 requests made, the load
    test is stopped, and none of sloprobe's programs is left in the kernel (its program ids,
    read from its own fds while it recorded, are gone from bpftool's list)."""
    ready, pidfile, out = tmp_path / "ready", tmp_path / "cmd.pid", tmp_path / "r.json"
    script = "%s > %s/times.txt && echo $$ > %s && touch %s && exec sleep 60" % (
        client("keepalive", server.port, "/items/", 1, 7), tmp_path, pidfile, ready)
    p = subprocess.Popen([SLOPROBE, "record", "-q", "-P", str(server.port), "-o", str(out),
                          "--"] + sh(script), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    cmd_pid = None
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        assert ready.exists(), p.communicate(timeout=10)
        cmd_pid = int(pidfile.read_text())
        mine = prog_ids_of(p.pid)
        live = loaded_progs()
        assert len(mine) >= 20 and mine <= set(live), (mine, sorted(live))
        assert any(live[i]["name"].startswith("sys_exit_recvfr") for i in mine)
        p.send_signal(sig)
        stdout, stderr = p.communicate(timeout=30)
        # The load test sloprobe started does not outlive it.
        for _ in range(100):
            if not alive(cmd_pid):
                break
            time.sleep(0.05)
        outlived = alive(cmd_pid)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(10)
        if cmd_pid and alive(cmd_pid):
            os.kill(cmd_pid, signal.SIGKILL)
    assert p.returncode == 0, stderr
    assert not outlived, "the load test (pid %d) outlived sloprobe" % cmd_pid
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    items = [r for r in report["http"] if r["route"] == "/items/{id}"]
    assert len(items) == 1 and items[0]["count"] == 7, report["http"]
    assert len(client_times_ms(tmp_path / "times.txt")) == 7
    left = mine & set(loaded_progs())
    assert not left, "programs left in the kernel: %s" % sorted(left)


# Exit status: a failing load test outranks a breach ----------------------------------------

@pytest.mark.parametrize("load_status", [0, 1])
def test_failing_load_test_outranks_breach(tmp_path, server, load_status):
    """README, Exit status: 3 when an objective breached; "a load test that fails (COMMAND
    exits non-zero) makes record exit 1 even when an objective breached". The same breached
    run (/items take 50 ms against p95 <= 10 ms) with the load test exiting 0, then 1."""
    slo = tmp_path / "slo.yaml"
    slo.write_text("apiVersion: sloprobe/v1\nkind: SLO\nslos:\n  - name: fast\n"
                   "    http: {route: \"/items/*\"}\n    objectives: [\"p(95)<=10ms\"]\n")
    script = "%s; exit %d" % (client("keepalive", server.port, "/items/", 1, 5), load_status)
    run = record(tmp_path, ["-q", "--slo", str(slo), "-P", str(server.port)], sh(script),
                 check=False)
    # Breached either way, and the report is written either way.
    assert run.report is not None
    verdict = [r for r in run.report["slo"] if r["name"] == "fast"]
    assert len(verdict) == 1 and verdict[0]["verdict"] == "breach", run.report["slo"]
    assert verdict[0]["total"] == 5 and verdict[0]["bad"] == 5
    assert "SLO breached: 1 of 1 objectives" in run.err
    assert run.report["command"]["exit_status"] == load_status
    if load_status == 0:
        assert run.rc == 3, run.err
        assert "exited with status" not in run.err
    else:
        assert run.rc == 1, run.err
        assert "exited with status 1" in run.err


# TLS and cleartext HTTP/2 ------------------------------------------------------------------

NGINX = "/usr/sbin/nginx"


@pytest.fixture
def nginx_tls_h2(tmp_path):
    """nginx with three listeners: TLS (HTTP/1.1 inside), cleartext HTTP/2 (prior knowledge)
    and plain HTTP/1.1; its access log names port, protocol and connection of each request."""
    if not os.access(NGINX, os.X_OK):
        pytest.fail("nginx is missing: make deps installs nginx-light")
    root = tmp_path / "www"
    root.mkdir()
    (root / "index.html").write_bytes(b"x" * 612)
    crt, key = tmp_path / "crt.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True, timeout=60)
    ports = {"tls": free_port(), "h2c": free_port(), "plain": free_port()}
    conf = tmp_path / "nginx.conf"
    conf.write_text("""
user root;
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
    log_format conns '$server_port $server_protocol $status $connection';
    access_log {d}/access.log conns;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{tls} ssl;
        ssl_certificate {crt};
        ssl_certificate_key {key};
        root {root};
    }}
    server {{
        listen 127.0.0.1:{h2c} http2;
        root {root};
    }}
    server {{
        listen 127.0.0.1:{plain};
        root {root};
    }}
}}
""".format(d=tmp_path, crt=crt, key=key, root=root, **ports))
    proc = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf),
                             "-e", str(tmp_path / "error.log")])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if subprocess.run(["curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:%d/index.html"
                           % ports["plain"]]).returncode == 0:
            break
        time.sleep(0.1)
    else:
        proc.kill()
        proc.wait()
        pytest.fail("nginx did not start: %s" % (tmp_path / "error.log").read_text())
    # The probe above is logged once its request is done: the test's requests come after it.
    access = tmp_path / "access.log"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not access.read_text():
        time.sleep(0.05)
    probe = access.read_text()
    assert len(probe.splitlines()) == 1, probe
    yield ports, access, len(probe)
    os.kill(proc.pid, signal.SIGQUIT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_tls_and_h2c_connections_counted(tmp_path, nginx_tls_h2):
    """README, Limits: "TLS connections are recognised and counted (connections.tls) but not
    decoded; cleartext HTTP/2 likewise (connections.http2)". Per connection, exactly, and
    never as HTTP/1 rows or unparsed bytes: 5 TLS connections of one request and one of three
    (curl reuses it), 4 cleartext HTTP/2 connections, and 3 plain HTTP/1.1 requests that are
    measured as usual. nginx's access log is the truth."""
    ports, access, skip = nginx_tls_h2
    tls, h2c, plain = ("https://127.0.0.1:%d/index.html" % ports["tls"],
                       "http://127.0.0.1:%d/index.html" % ports["h2c"],
                       "http://127.0.0.1:%d/index.html" % ports["plain"])
    script = "; ".join([
        "for i in 1 2 3 4 5; do curl -skf --http1.1 -o /dev/null %s; done" % tls,
        "curl -skf --http1.1 -o /dev/null %s -o /dev/null %s -o /dev/null %s" % (tls, tls, tls),
        "for i in 1 2 3 4; do curl -sf --http2-prior-knowledge -o /dev/null %s; done" % h2c,
        "for i in 1 2 3; do curl -sf -o /dev/null %s; done" % plain,
    ])
    run = record(tmp_path, ["-q", "--comm", "nginx"] +
                 [a for p in ports.values() for a in ("-P", str(p))], sh(script))
    log = [l.split() for l in access.read_text()[skip:].splitlines()]
    by = {name: [l for l in log if int(l[0]) == port] for name, port in ports.items()}
    # The workload, as nginx saw it.
    assert len(by["tls"]) == 8 and {l[1] for l in by["tls"]} == {"HTTP/1.1"}, by["tls"]
    assert len(by["h2c"]) == 4 and {l[1] for l in by["h2c"]} == {"HTTP/2.0"}, by["h2c"]
    assert len(by["plain"]) == 3 and all(l[2] == "200" for l in log), log
    conns = run.report["connections"]
    assert conns["tls"] == len({l[3] for l in by["tls"]}) == 6, conns
    assert conns["http2"] == len({l[3] for l in by["h2c"]}) == 4, conns
    assert conns["other_protocol"] == 0, conns
    # Only the plain requests are HTTP/1 rows.
    assert [(r["route"], r["count"], r["port"]) for r in run.report["http"]] == [
        ("/index.html", 3, ports["plain"])], run.report["http"]
    hp = run.report["http_parser"]
    assert hp["unparsed_requests"] == 0 and hp["unparsed_responses"] == 0, hp
    assert hp["requests"] == 3 and hp["responses"] == 3, hp


# Keep-alive connections older than the recording -------------------------------------------

def test_connection_opened_before_recording(tmp_path):
    """README: a connection accepted before recording started "is picked up at its next read
    or write; a request the server had already started to read at that moment is not counted
    (its response shows up in http_parser.responses_without_request)", and "has no arrival,
    and its requests start at the read". One keep-alive connection: a request answered before
    recording (not counted), one the server has read and holds until sloprobe runs (not
    counted, its response without request), then 7 requests while recording (counted, their
    latency between the server's and the client's timers, no wait time)."""
    go, done = tmp_path / "go", tmp_path / "done"
    srv = Server(env={"TIMING_LOG": str(tmp_path / "server.log"), "GATE_FILE": str(go)})
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
    p = None
    try:
        conn.request("GET", "/health")
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"ok\n"
        conn.request("GET", "/gate")  # read by the server, answered once "go" exists
        time.sleep(0.2)
        # The load test (sloprobe's COMMAND, started once it is attached) opens the gate and
        # waits (30 s at most) until the test is done with the connection.
        script = "touch %s; for i in $(seq 600); do [ -e %s ] && exit 0; sleep 0.05; done; " \
                 "exit 1" % (go, done)
        out = tmp_path / "report.json"
        p = subprocess.Popen([SLOPROBE, "record", "-q", "-P", str(srv.port), "-o", str(out),
                              "--"] + sh(script), stdout=subprocess.PIPE,
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
    assert items["count"] == 7 and items["status"] == {"200": 7}, items
    assert report["http_parser"]["responses_without_request"] == 1, report["http_parser"]
    # No arrival on a connection older than the trace: latency starts at the read, it is the
    # server's time, and there is no wait.
    assert "wait_ms" not in items, items
    assert items["latency_ms"] == items["server_ms"], items
    srv_ms = srv.times_ms("/items/")
    assert len(srv_ms) == 7
    lat = items["latency_ms"]
    for name, q in (("p50", 50), ("p95", 95), ("max", 100)):
        assert within_truth(lat[name], nearest_rank(srv_ms, q), nearest_rank(cli, q)), (
            name, lat, srv_ms, cli)
    assert between(lat["mean"], sum(srv_ms) / 7, sum(cli) / 7)
