# SPDX-License-Identifier: GPL-2.0-only
"""Fixtures for the integration tests: a real sloprobe, real servers and clients on loopback.

Everything started here is stopped by its PID; every wait is bounded.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import jsonschema
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SLOPROBE = os.path.join(REPO, "sloprobe")
PYTHON = "/usr/bin/python3"
SCHEMA = json.load(open(os.path.join(REPO, "docs", "report.schema.json")))


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
