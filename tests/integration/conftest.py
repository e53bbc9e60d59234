# SPDX-License-Identifier: GPL-2.0-only
"""Fixtures for the integration tests: a real sloprobe, real servers and clients on loopback.

Everything started here is stopped by its PID; every wait is bounded.
"""
import contextlib
import glob
import json
import os
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
PYTHON = "/usr/bin/python3"
SCHEMA = json.load(open(os.path.join(REPO, "docs", "report.schema.json")))

# Under `sudo make test`, record would run the tests' commands as the user who ran sudo (they
# may need root, or write where only root may): the tests run them as root, and
# test_security_files.py sets these variables where it tests that behaviour.
for _v in ("SUDO_UID", "SUDO_GID", "SUDO_USER", "SUDO_COMMAND"):
    os.environ.pop(_v, None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workers=1, cgroup=None):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(HERE, "httpserver.py"), str(self.port), str(workers)],
            stdout=subprocess.PIPE, text=True)
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

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(5)


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
def server():
    s = Server()
    yield s
    s.stop()


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


def record(tmp_path, args, command=None, timeout=90, check=True):
    """Runs sloprobe record -o <tmp>/report.json ARGS [-- COMMAND]; validates the report."""
    out = tmp_path / "report.json"
    cmd = [SLOPROBE, "record", "-o", str(out)] + list(args)
    if command:
        cmd += ["--"] + list(command)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=HERE)
    report = None
    if out.exists() and out.stat().st_size:
        report = json.loads(out.read_text())
        jsonschema.validate(report, SCHEMA)
    if check:
        assert p.returncode == 0, "sloprobe exited %d: %s" % (p.returncode, p.stderr)
        assert report is not None
        assert report["events"]["dropped"] == 0, report["events"]
    return Run(p.returncode, report, p.stdout, p.stderr)


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
