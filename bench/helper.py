#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Helpers of the benchmarks in bench/ that are easier in Python than in bash.

  helper.py wrk FILE            wrk --latency output -> req_s p99_ms requests errors non2xx
  helper.py sloprobe FILE       sloprobe JSON report -> count aborted run_ns run_cnt dropped
  helper.py cache FILE          sloprobe JSON report -> redis_commands events dropped where
  helper.py redis-bench FILE    redis-benchmark -q output -> ops_s p50_ms tests
  helper.py timed OUT SECS CMD...  run CMD, at most SECS seconds; OUT gets cpu_ns wall_ns
  helper.py cpu-ns PID          CPU time of PID so far (all threads, the gone ones too), in ns
  helper.py peer-hist FILE      bpftrace output of peer.bt -> samples in @latency_ns
  helper.py attached PID        how many BPF programs PID has attached (bpftool perf show)
  helper.py progstats PID       run_ns run_cnt summed over the BPF programs PID attached
  helper.py hold-stats          turn on BPF run-time stats until this process ends
  helper.py table RESULTS MODES the final table (RESULTS: one tab-separated line per round)
  helper.py redis-table RESULTS MODES PIPELINES  bench/redis-overhead's table

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
import time

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


def cache(path):
    """Redis commands sloprobe answered ("-" without a cache section, as with --redis=off), the
    events it received from the kernel, the events or records it lost, and where (the
    counters that make up "dropped", name:count, "-" when none)."""
    r = json.load(open(path))
    ev = r.get("events") or {}
    c = r.get("cache")
    where = ",".join("%s:%d" % (k, v) for k, v in ev.items()
                     if k not in ("total", "dropped") and v)
    out(c.get("commands") if c else None, ev.get("total"), ev.get("dropped"), where or None)


def redis_bench(path):
    """redis-benchmark -q ends each test with "NAME: R requests per second, p50=X msec", after
    progress lines ended by carriage returns. Every test sends -n requests, so the rate of the
    whole run is the harmonic mean of the tests' rates; p50 is the mean of theirs."""
    text = open(path, errors="replace").read().replace("\r", "\n")
    tests = re.findall(r"^\s*([A-Za-z][\w ()-]*): ([\d.]+) requests per second, "
                       r"p50=([\d.]+) msec", text, re.M)
    rates = [float(t[1]) for t in tests]
    if not tests or min(rates) <= 0:
        sys.exit(f"helper: {path}: not the output of redis-benchmark -q")
    out("%.2f" % (len(rates) / sum(1 / r for r in rates)),
        "%.3f" % statistics.mean(float(t[2]) for t in tests), ",".join(t[0] for t in tests))


def timed(outpath, secs, *cmd):
    """Runs CMD (stdin, stdout and stderr inherited) and writes its CPU time, user + system of
    all its threads from wait4's rusage (the only exact figure once it is gone), and its wall
    time, both in ns, to OUT. SIGINT and SIGTERM are passed on. Past SECS seconds it is
    interrupted (SIGINT, SIGKILL 5 s later), and the exit status is 124 as with timeout(1)."""
    t0 = time.monotonic()
    # A background job of a script starts with SIGINT ignored, and would pass that on.
    pid = os.posix_spawnp(cmd[0], list(cmd), os.environ,
                          setsigdef=(signal.SIGINT, signal.SIGQUIT))
    late = []

    def forward(sig, _frame):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass

    def on_alarm(_sig, _frame):
        late.append(1)
        forward(signal.SIGKILL if len(late) > 1 else signal.SIGINT, None)
        signal.alarm(5)

    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, forward)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, float(secs))
    _, status, ru = os.wait4(pid, 0)  # retried after each handler (PEP 475)
    wall = time.monotonic() - t0
    signal.setitimer(signal.ITIMER_REAL, 0)
    with open(outpath, "w") as f:
        f.write("%d\t%d\n" % (round((ru.ru_utime + ru.ru_stime) * 1e9), round(wall * 1e9)))
    if late:
        sys.exit(124)
    sys.exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status)
             else 128 + os.WTERMSIG(status))


def cpu_ns(pid):
    """clock_gettime on the process's CPU-time clock (MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)
    of the kernel's posix-timers.h): exact to the ns, where /proc/PID/stat counts clock ticks
    (10 ms: 100 ns per command over a round of 100 000)."""
    out(time.clock_gettime_ns(((~int(pid)) << 3) | 2))


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


REDIS_COLS = ("mode", "pipeline", "rep", "ops", "p50", "cmds", "seen", "events", "dropped",
              "bpf_ns", "bpf_cnt", "bg_ns", "bg_cnt", "cpu_server", "cpu_client", "cpu_tracer",
              "wall_ns")


def redis_table(path, modes, pipelines):
    """bench/redis-overhead's table: per pipeline depth the medians of each mode, then the
    modes' ratios against none side by side. BPF time is that of the round's load less what
    the same programs ran for the rest of the host in the idle window before it (bg_*, scaled
    to the load's length); CPU is redis-server + redis-benchmark + sloprobe, BPF included
    (a program's time is charged to the process whose syscall ran it)."""
    rounds = []
    for line in open(path):
        r = dict(zip(REDIS_COLS, line.rstrip("\n").split("\t")))
        for k in REDIS_COLS[3:]:
            r[k] = None if r.get(k) in (None, "-", "") else float(r[k])
        rounds.append(r)

    def per_cmd(r, key):
        return None if r[key] is None else r[key] / r["cmds"]

    def less_bg(r, key, bg):
        return None if r[key] is None else (r[key] - (r[bg] or 0)) / r["cmds"]

    fields = {
        "ops": lambda r: r["ops"],
        "p50": lambda r: r["p50"],
        "bpf": lambda r: less_bg(r, "bpf_ns", "bg_ns"),
        "runs": lambda r: less_bg(r, "bpf_cnt", "bg_cnt"),
        "bg": lambda r: per_cmd(r, "bg_ns"),
        "cpu": lambda r: (r["cpu_server"] + r["cpu_client"] + (r["cpu_tracer"] or 0)) / r["cmds"],
        "server": lambda r: per_cmd(r, "cpu_server"),
        "client": lambda r: per_cmd(r, "cpu_client"),
        "tracer": lambda r: per_cmd(r, "cpu_tracer"),
        "events": lambda r: per_cmd(r, "events"),
    }
    med = {}  # (pipeline, mode) -> field -> median over the mode's rounds
    for pl in pipelines:
        for mode in modes:
            rs = [r for r in rounds if r["pipeline"] == pl and r["mode"] == mode]
            if rs:
                med[pl, mode] = {k: statistics.median(v) if v else None for k, v in (
                    (k, [x for x in map(f, rs) if x is not None]) for k, f in fields.items())}

    def get(pl, mode, k):
        return med.get((pl, mode), {}).get(k)

    def vs_none(pl, mode, k, scale=1.0):
        a, b = get(pl, mode, k), get(pl, "none", k)
        return None if a is None or not b else scale * a / b

    fmt = "%-10s %9s %17s %8s %7s %7s %7s %9s %7s %7s %8s %7s"
    for pl in pipelines:
        rs_pl = [r for r in rounds if r["pipeline"] == pl]
        if not rs_pl:
            continue
        print("-P %s: %s, %d commands per round" % (
            pl, "one command per round trip" if pl == "1" else "%s commands per round trip" % pl,
            rs_pl[0]["cmds"]))
        print(fmt % ("mode", "ops/s", "(min..max)", "vs none", "p50 ms", "BPF ns", "BPF",
                     "CPU ns", "server", "client", "sloprobe", "events"))
        print(fmt % ("", "median", "", "", "median", "per cmd", "runs", "per cmd", "", "", "",
                     "per cmd"))
        for mode in modes:
            if (pl, mode) not in med:
                continue
            m = med[pl, mode]
            ops = [r["ops"] for r in rs_pl if r["mode"] == mode]
            print(fmt % (
                mode, "%.0f" % m["ops"], "(%.0f..%.0f)" % (min(ops), max(ops)),
                fnum(vs_none(pl, mode, "ops", 100), "%.1f %%"), "%.3f" % m["p50"],
                fnum(m["bpf"], "%.0f"), fnum(m["runs"], "%.1f"), fnum(m["cpu"], "%.0f"),
                fnum(m["server"], "%.0f"), fnum(m["client"], "%.0f"),
                fnum(m["tracer"], "%.0f"), fnum(m["events"], "%.2f")))
        seen = ["%+d" % (r["seen"] - r["cmds"]) for r in rs_pl if r["seen"] is not None]
        if seen:
            print("Redis commands counted by sloprobe minus those sent, per round: " +
                  " ".join(seen))
        lost = [r for r in rs_pl if r["dropped"]]
        if lost:
            print("LOST: " + ", ".join("%s rep %s: %d events or records" % (
                r["mode"], r["rep"], r["dropped"]) for r in lost))
        bg = [x for x in map(fields["bg"], rs_pl) if x is not None]
        if bg:
            print("BPF time of the rest of the host, subtracted: median %.0f ns per command "
                  "(%.0f..%.0f)" % (statistics.median(bg), min(bg), max(bg)))
        print()

    shown = [pl for pl in pipelines if (pl, "none") in med]
    traced = [m for m in modes if m != "none" and any((pl, m) in med for pl in shown)]
    if not shown or not traced:
        return
    print("Side by side (medians of this run):")
    fmt2 = "%-30s" + " %10s" * len(shown)
    print(fmt2 % ("", *("-P " + pl for pl in shown)))

    def row(label, f, form):
        print(fmt2 % (label, *(fnum(f(pl), form) for pl in shown)))

    for mode in traced:
        row("ops/s, %s vs none" % mode, lambda pl: vs_none(pl, mode, "ops", 100), "%.1f %%")
    for mode in traced:
        row("CPU ns/cmd, %s vs none" % mode, lambda pl: vs_none(pl, mode, "cpu"), "%.2fx")
        row("  added", lambda pl: None if get(pl, mode, "cpu") is None else
            get(pl, mode, "cpu") - get(pl, "none", "cpu"), "%+.0f ns")
    for mode in traced:
        row("BPF ns/cmd, %s" % mode, lambda pl: get(pl, mode, "bpf"), "%.0f")
    if "sloprobe" not in traced or "redis-off" not in traced:
        return

    def engine(k, points=False):
        """What the Redis engine adds: sloprobe minus redis-off, in points of none's if asked."""
        def f(pl):
            a, b = get(pl, "sloprobe", k), get(pl, "redis-off", k)
            base = get(pl, "none", k) / 100 if points else 1.0
            return None if a is None or b is None or not base else (a - b) / base
        return f

    row("sloprobe - redis-off: ops/s", engine("ops", points=True), "%+.1f pt")
    row("sloprobe - redis-off: CPU/cmd", engine("cpu"), "%+.0f ns")
    row("sloprobe - redis-off: BPF/cmd", engine("bpf"), "%+.0f ns")
    row("sloprobe - redis-off: user/cmd", engine("tracer"), "%+.0f ns")


def main():
    cmds = {"wrk": wrk, "sloprobe": sloprobe, "peer-hist": peer_hist, "attached": attached,
            "progstats": progstats, "hold-stats": hold_stats, "cache": cache,
            "redis-bench": redis_bench, "timed": timed, "cpu-ns": cpu_ns,
            "table": lambda p, m: table(p, m.split(",")),
            "redis-table": lambda p, m, pl: redis_table(p, m.split(","), pl.split(","))}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
