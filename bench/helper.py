#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Helpers of bench/http-overhead that are easier in Python than in bash.

  helper.py wrk FILE            wrk --latency output -> req_s p99_ms requests errors non2xx
  helper.py sloprobe FILE       sloprobe JSON report -> count aborted run_ns run_cnt dropped
  helper.py peer-hist FILE      bpftrace output of peer.bt -> samples in @latency_ns
  helper.py attached PID        how many BPF programs PID has attached (bpftool perf show)
  helper.py progstats PID       run_ns run_cnt summed over the BPF programs PID attached
  helper.py hold-stats          turn on BPF run-time stats until this process ends
  helper.py table RESULTS MODES the final table (RESULTS: one tab-separated line per round)

Values are printed tab-separated, "-" for unknown.
"""

import ctypes
import json
import os
import re
import signal
import statistics
import subprocess
import sys

UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def out(*fields):
    print("\t".join("-" if f is None else str(f) for f in fields))


def wrk(path):
    text = open(path, errors="replace").read()
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    p99 = re.search(r"^\s+99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    reqs = re.search(r"^\s*(\d+) requests in ", text, re.M)
    if not (rps and p99 and reqs):
        sys.exit(f"helper: {path}: not the output of wrk --latency")
    errs = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out(rps.group(1), "%.3f" % (float(p99.group(1)) * UNITS_MS[p99.group(2)]), reqs.group(1),
        sum(int(g) for g in errs.groups()) if errs else 0,
        non2xx.group(1) if non2xx else 0)


def sloprobe(path):
    r = json.load(open(path))
    eps = r.get("http") or []
    bpf = r.get("bpf") or {}
    ev = r.get("events") or {}
    out(sum(e.get("count", 0) for e in eps), sum(e.get("aborted", 0) for e in eps),
        bpf.get("run_time_ns"), bpf.get("run_cnt"),
        ev.get("dropped", 0) + ev.get("ringbuf_full", 0))


def peer_hist(path):
    """Sum of the bucket counts of @latency_ns as bpftrace prints a hist() at exit."""
    total, inside = 0, False
    for line in open(path, errors="replace"):
        if line.startswith("@latency_ns"):
            inside = True
            continue
        if inside:
            m = re.match(r"^\[[^)\]]*[)\]]\s+(\d+)\s", line)
            if m:
                total += int(m.group(1))
            elif line.strip() == "" and total:
                break
    out(total)


def bpftool(*args):
    res = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True)
    if res.returncode:
        sys.exit("helper: bpftool %s failed: %s" % (" ".join(args), res.stderr.strip()))
    return json.loads(res.stdout or "[]")


def attached_progs(pid):
    """Program ids PID has attached through perf event or raw tracepoint fds."""
    return {e["prog_id"] for e in bpftool("perf", "show") if e.get("pid") == pid}


def attached(pid):
    out(len(attached_progs(int(pid))))


def progstats(pid):
    ids = attached_progs(int(pid))
    progs = [p for p in bpftool("prog", "show") if p.get("id") in ids]
    # bpftool leaves the fields out when they are 0, and they are all 0 when stats are off.
    if not any("run_time_ns" in p for p in progs):
        out(None, None)
        return
    out(sum(p.get("run_time_ns", 0) for p in progs), sum(p.get("run_cnt", 0) for p in progs))


def hold_stats():
    """BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): the kernel counts run time and runs of every BPF
    program for as long as the returned fd is open, i.e. until this process ends, however it
    ends. Unlike writing kernel.bpf_stats_enabled there is nothing to restore afterwards."""
    nr = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine)
    if nr is None:
        sys.exit("helper: bpf syscall number unknown on " + os.uname().machine)
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(16)  # union bpf_attr { .enable_stats.type = 0 }
    BPF_ENABLE_STATS = 32
    fd = libc.syscall(nr, BPF_ENABLE_STATS, attr, len(attr))
    if fd < 0:
        sys.exit("helper: BPF_ENABLE_STATS: " + os.strerror(ctypes.get_errno()))
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: sys.exit(0))
    print("enabled", flush=True)
    while True:
        signal.pause()


def fnum(x, fmt):
    return "-" if x is None else fmt % x


def table(path, modes):
    cols = ("mode", "rep", "rps", "p99", "requests", "errors", "non2xx", "seen", "run_ns",
            "run_cnt", "cpu", "srv_ns")
    rounds = []
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        r = dict(zip(cols, f))
        for k in cols[2:]:
            r[k] = None if r.get(k) in (None, "-", "") else float(r[k])
        rounds.append(r)

    def med(mode, key):
        v = [r[key] for r in rounds if r["mode"] == mode and r[key] is not None]
        return statistics.median(v) if v else None

    base_rps, base_p99 = med("none", "rps"), med("none", "p99")
    pct = {}
    fmt = "%-15s %7s %15s %8s %6s %6s %7s %8s %7s %8s %10s"
    print(fmt % ("mode", "req/s", "(min..max)", "vs none", "p99 ms", "vs", "BPF ns", "BPF runs",
                 "tracer", "server", "traced/wrk"))
    print(fmt % ("", "median", "", "", "median", "none", "per req", "per req", "CPU %",
                 "CPU ns/r", "requests"))
    for mode in modes:
        rs = [r for r in rounds if r["mode"] == mode]
        if not rs:
            continue
        rps, p99 = med(mode, "rps"), med(mode, "p99")
        lo, hi = min(r["rps"] for r in rs), max(r["rps"] for r in rs)
        if base_rps:
            pct[mode] = 100.0 * rps / base_rps
        # In-kernel cost per request: each round's BPF run time over wrk's request count.
        ns = [r["run_ns"] / r["requests"] for r in rs if r["run_ns"] is not None]
        cnt = [r["run_cnt"] / r["requests"] for r in rs if r["run_cnt"] is not None]
        seen = [r for r in rs if r["seen"] is not None]
        # Requests the tracer accounted (sloprobe's report, the peer's histogram) over wrk's.
        traced = ("%.4f" % (sum(r["seen"] for r in seen) / sum(r["requests"] for r in seen))
                  if seen else "-")
        cpu = [r["cpu"] for r in rs if r["cpu"] is not None]
        srv = [r["srv_ns"] for r in rs if r.get("srv_ns") is not None]
        print(fmt % (
            mode, "%.0f" % rps, "(%.0f..%.0f)" % (lo, hi),
            "%.1f %%" % pct[mode] if mode in pct else "-", "%.3f" % p99,
            "%.2fx" % (p99 / base_p99) if base_p99 else "-",
            fnum(statistics.median(ns) if ns else None, "%.0f"),
            fnum(statistics.median(cnt) if cnt else None, "%.1f"),
            fnum(statistics.median(cpu) if cpu else None, "%.1f"),
            fnum(statistics.median(srv) if srv else None, "%.0f"), traced))
    if "sloprobe" in pct and "floor" in pct:
        print("\nsloprobe - floor: %+.1f points of throughput (%.1f %% vs %.1f %% of none)" % (
            pct["sloprobe"] - pct["floor"], pct["sloprobe"], pct["floor"]))
    if "sloprobe" in pct and "peer" in pct:
        print("sloprobe - peer:  %+.1f points of throughput (%.1f %% vs %.1f %% of none)" % (
            pct["sloprobe"] - pct["peer"], pct["sloprobe"], pct["peer"]))
    if "sloprobe" in pct and "sloprobe-tls" in pct:
        print("sloprobe-tls - sloprobe: %+.1f points of throughput (%.1f %% vs %.1f %% of none)"
              % (pct["sloprobe-tls"] - pct["sloprobe"], pct["sloprobe-tls"], pct["sloprobe"]))
    for mode in ("sloprobe", "sloprobe-tls"):
        diffs = [int(r["seen"] - r["requests"]) for r in rounds
                 if r["mode"] == mode and r["seen"] is not None]
        if diffs:
            print("%s requests counted minus wrk's, per round: %s"
                  % (mode, " ".join("%+d" % d for d in diffs)))


def main():
    cmds = {"wrk": wrk, "sloprobe": sloprobe, "peer-hist": peer_hist, "attached": attached,
            "progstats": progstats, "hold-stats": hold_stats,
            "table": lambda p, m: table(p, m.split(","))}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
