# SPDX-License-Identifier: GPL-2.0-only
"""Fixtures for the integration tests: a real sloprobe, real servers and clients on loopback.

Everything started here is stopped by its PID; every wait is bounded.
"""
import contextlib
import fractions
import glob
import json
import math
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import jsonschema
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SLOPROBE = os.path.join(REPO, "sloprobe")
# Loads a report and writes it again with the writer merge uses (tests/unit/test_roundtrip.c).
ROUNDTRIP = os.path.join(REPO, "build", "tests", "test_roundtrip")
PYTHON = "/usr/bin/python3"
SCHEMA = json.load(open(os.path.join(REPO, "docs", "report.schema.json")))

# Under `sudo make test`, record would run the tests' commands as the user who ran sudo (they
# may need root, or write where only root may): the tests run them as root, and
# test_security_files.py sets these variables where it tests that behaviour.
for _v in ("SUDO_UID", "SUDO_GID", "SUDO_USER", "SUDO_COMMAND"):
    os.environ.pop(_v, None)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "serial: judged against the machine's spare capacity (a saturated server, "
        "host-wide counters, BPF run time): tests/run runs these alone, after the rest ran "
        "in parallel")


# Ports for the tests' servers: below the kernel's ephemeral range (32768-60999 here), where
# no client's connect takes one between our check and the server's bind, and a range of its own
# per pytest-xdist process, so that two tests running at once never pick the same.
PORT_SPAN = 2500
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
PORT_BASE = 20000 + PORT_SPAN * (int(_worker[2:]) % 4 if _worker[2:].isdigit() else 0)


def free_port():
    for _ in range(500):
        port = PORT_BASE + random.randrange(PORT_SPAN)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in %d-%d" % (PORT_BASE, PORT_BASE + PORT_SPAN - 1))


class Server:
    """httpserver.py; env: more environment (ITEM_MS, TIMING_LOG, GATE_FILE)."""

    def __init__(self, workers=1, cgroup=None, env=None):
        self.port = free_port()
        self.timing_log = (env or {}).get("TIMING_LOG")
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(HERE, "httpserver.py"), str(self.port), str(workers)],
            stdout=subprocess.PIPE, text=True, env=dict(os.environ, **(env or {})))
        self.pid = self.proc.pid
        self.workers = []
        if cgroup:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(self.pid))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("workers"):
                self.workers = [int(p) for p in line.split()[1:]]
            if line.strip() == "ready":
                return
            if not line:
                break
        self.stop()
        raise RuntimeError("test server did not start")

    def times_ms(self, prefix):
        """The server's own time for each request whose target starts with prefix, in ms
        (needs TIMING_LOG)."""
        with open(self.timing_log) as f:
            return [float(l.split()[2]) * 1000 for l in f if l.split()[1].startswith(prefix)]

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)


class Redis:
    """A private redis-server on 127.0.0.1, no persistence, in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sloprobe-redis.")
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args), check=True,
                              capture_output=True, text=True, timeout=30).stdout

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)


class PyApp:
    """A Python server of this folder (dbapp.py, handoffapp.py): started with args, "{port}"
    standing for a free port (self.port), ready once it prints "ready"."""

    def __init__(self, script, *args):
        self.port = free_port()
        argv = [str(a).replace("{port}", str(self.port)) for a in args]
        self.proc = subprocess.Popen([PYTHON, os.path.join(HERE, script)] + argv,
                                     stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if line.strip() == "ready" or not line:
                break
        if self.proc.poll() is not None:
            raise RuntimeError("%s did not start" % script)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def server(tmp_path):
    s = Server(env={"TIMING_LOG": str(tmp_path / "server-times.log")})
    yield s
    s.stop()


def client_times_ms(path):
    """The client's own time for each request, in ms, from the "<status> <seconds>" lines that
    clients.py prints."""
    with open(path) as f:
        return [float(l.split()[1]) * 1000 for l in f]


def nearest_rank(values, p):
    """The nearest-rank percentile p (0 < p <= 100): the ceil(p/100 * n)-th smallest value,
    in exact arithmetic (the definition docs/slo.md gives, computed independently of sloprobe)."""
    v = sorted(values)
    k = math.ceil(fractions.Fraction(str(p)) * len(v) / 100)
    return v[max(k, 1) - 1]


# A reported percentile is the middle of its histogram bucket, clamped to the exact min and
# max: within 1/128 (0.79 %) of the value (README "What is measured", src/lib/hist.h).
HIST_REL = 1 / 128
# The timers' logs and sloprobe's report give milliseconds to the microsecond: 1 us, in ms,
# for their rounding.
TIMER_SLACK_MS = 0.001


def between(value, server_ms, client_ms):
    """value (ms), an exact figure of sloprobe's (min, max, mean: no histogram error), lies
    between the server's and the client's figure."""
    return server_ms - TIMER_SLACK_MS <= value <= client_ms + TIMER_SLACK_MS


def within_truth(reported, server_ms, client_ms):
    """reported (ms), one of sloprobe's latency figures, against the same figure computed from
    the server's and the client's own timers: sloprobe's latency of a request lies inside the
    client's time and contains the server's, so any order statistic does too; the histogram
    adds at most 1/128. No other slack: the server's time runs from the return of its read of
    the request line to the start of its last write, the client's from before its request was
    sent to after the response was read."""
    lo = server_ms * (1 - HIST_REL) - TIMER_SLACK_MS
    hi = client_ms * (1 + HIST_REL) + TIMER_SLACK_MS
    return lo <= reported <= hi


class Run:
    """One `sloprobe record` run and what it produced."""

    def __init__(self, rc, report, out, err):
        self.rc, self.report, self.out, self.err = rc, report, out, err

    def rows(self, route=None, method="GET"):
        return [r for r in self.report["http"]
                if (route is None or r["route"] == route) and r["method"] == method]

    def row(self, route, method="GET"):
        rows = self.rows(route, method)
        assert len(rows) == 1, "want one row for %s %s, report has %s" % (
            method, route, [(r["service"], r["method"], r["route"]) for r in self.report["http"]])
        return rows[0]


def assert_round_trip(path):
    """One writer of the schema: the report loaded and written again is the same file."""
    p = subprocess.run([ROUNDTRIP, "--exact", str(path)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, "report does not survive load + write:\n" + p.stderr


def record(tmp_path, args, command=None, timeout=90, check=True, env=None):
    """Runs sloprobe record -o <tmp>/report.json ARGS [-- COMMAND]; validates the report.
    env: its environment (default: ours)."""
    out = tmp_path / "report.json"
    cmd = [SLOPROBE, "record", "-o", str(out)] + list(args)
    if command:
        cmd += ["--"] + list(command)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=HERE, env=env)
    report = None
    if out.exists() and out.stat().st_size:
        report = json.loads(out.read_text())
        jsonschema.validate(report, SCHEMA)
        assert_round_trip(out)
    if check:
        assert p.returncode == 0, "sloprobe exited %d: %s" % (p.returncode, p.stderr)
        assert report is not None
        assert report["events"]["dropped"] == 0, report["events"]
    return Run(p.returncode, report, p.stdout, p.stderr)


def prog_ids_of(pid):
    """The BPF programs a process holds, from its fds (program and link fds name them)."""
    ids = set()
    for fd in glob.glob("/proc/%d/fdinfo/*" % pid):
        try:
            with open(fd) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            pass  # closed meanwhile
    return ids


def loaded_progs():
    """{id: program} of every BPF program in the kernel, from bpftool."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return {p["id"]: p for p in json.loads(out)}


def sh(script):
    """A command line for sloprobe's `--`: a shell running script, failing on any error."""
    return ["/bin/sh", "-ec", script]


def client(*args):
    return "%s %s %s" % (PYTHON, os.path.join(HERE, "clients.py"), " ".join(str(a) for a in args))


class Postgres:
    """A private PostgreSQL cluster on 127.0.0.1, run by user postgres in a temporary dir."""

    def __init__(self, base, options=""):
        """options: more server settings, e.g. "-c ssl=on ..." (files under base)."""
        bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.dir = base
        os.chmod(base, 0o777)
        self.data = os.path.join(base, "data")
        self.port = free_port()
        self.pg_ctl = os.path.join(bindir, "pg_ctl")
        self._as_pg([os.path.join(bindir, "initdb"), "-D", self.data, "-A", "trust", "-U",
                     "postgres", "--no-sync"])
        self._as_pg([self.pg_ctl, "-D", self.data, "-l", os.path.join(base, "log"), "-w",
                     "-t", "30", "-o",
                     "-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off %s" % (
                         self.port, base, options), "start"])
        self.psql(["-c", "create table items (id int primary key, name text);"
                   "insert into items select i, 'item ' || i from generate_series(1, 50) i;"])

    def _as_pg(self, argv):
        subprocess.run(["runuser", "-u", "postgres", "--"] + argv, check=True,
                       capture_output=True, timeout=60, cwd=self.dir)

    def psql(self, args):
        return subprocess.run(["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(self.port),
                               "-U", "postgres", "-d", "postgres"] + args,
                              check=True, capture_output=True, text=True, timeout=60)

    def stop(self):
        self._as_pg([self.pg_ctl, "-D", self.data, "-m", "fast", "-w", "stop"])


@contextlib.contextmanager
def postgres(setup=None):
    """A private PostgreSQL, stopped and removed at the end. setup(base), if given, may write
    files there (certificates) and returns more server options."""
    # Not under pytest's tmp dir: user postgres cannot reach into root's 0700 directories.
    base = tempfile.mkdtemp(prefix="sloprobe-pg.")
    try:
        p = Postgres(base, setup(base) if setup else "")
        try:
            yield p
        finally:
            p.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg():
    with postgres() as p:
        yield p
