# SPDX-License-Identifier: GPL-2.0-only
"""What the kernel knows about saturation (docs/saturation.md), against known trouble.

The truth: /proc/net/netstat's TcpExt counters over the test (ListenOverflows, TCPSynRetrans),
exact when nothing else on the host overflows meanwhile (another listener's overflows would
show in the host's delta: then the test's own port is held to at most it), and the clients'
own counts of failed connects, refused connects and resets.
"""
import json
import os
import re
import subprocess

import pytest

from conftest import HERE, PYTHON, SLOPROBE, free_port, record

# Host-wide TCP counters and a server saturated on purpose: tests/run runs them alone
# (conftest.py: serial).
pytestmark = pytest.mark.serial

TCPLOAD = os.path.join(HERE, "tcpload.py")


def netstat():
    with open("/proc/net/netstat") as f:
        lines = f.read().splitlines()
    for names, vals in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            return dict(zip(names.split()[1:], map(int, vals.split()[1:])))
    raise AssertionError("no TcpExt in /proc/net/netstat")


def start(*args):
    p = subprocess.Popen([PYTHON, TCPLOAD] + [str(a) for a in args], stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


def rec(tmp_path, port, *cmd):
    return record(tmp_path, ["-q", "-P", str(port)], [PYTHON, TCPLOAD] + [str(a) for a in cmd])


def listener(rep, port):
    rows = [r for r in rep["tcp"]["listeners"] if r["port"] == port]
    assert len(rows) == 1, rep["tcp"]["listeners"]
    return rows[0]


def peer(rep, role, port):
    rows = [r for r in rep["tcp"]["peers"] if r["role"] == role and r["port"] == port]
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


def total(rows, key):
    return sum(r[key] for r in rows)


def test_overflow_ramp(tmp_path):
    """listen(1), one worker taking a connection every 300 ms, 1+2+4+8+16 clients: overflows."""
    port = free_port()
    log = tmp_path / "ramp.json"
    srv = start("server", port, 1, 300, 30)
    try:
        before = netstat()
        run = rec(tmp_path, port, "ramp", port, "1,2,4,8,16", 3, log)
        after = netstat()
    finally:
        srv.kill()
        srv.wait()
    client = json.loads(log.read_text())
    tcp = run.report["tcp"]
    overflows = after["ListenOverflows"] - before["ListenOverflows"]
    syn_retrans = after["TCPSynRetrans"] - before["TCPSynRetrans"]
    assert client["connect_failed"] + client["other_failed"] > 0, client  # it did overflow
    assert overflows > 0
    drops = listener(run.report, port)["drops"]
    host = tcp["host"]["listen_overflows"]
    # The run's own window sees no more than the test's; nothing else overflowed: all equal.
    assert host <= overflows
    if host == overflows and tcp["host"]["listen_drops"] == host:
        assert drops == overflows, (drops, overflows, tcp)
    else:
        assert 0 < drops <= host
    assert listener(run.report, port)["backlog"] == 1
    assert sum(p["drops"] for p in tcp["timeline"]) == drops
    # A dropped SYN is sent again by the client, on this host: its peer row.
    cl = peer(run.report, "client", port)
    assert cl is not None and cl["syn_retransmits"] > 0
    if host == overflows:
        assert cl["syn_retransmits"] <= syn_retrans
    assert sum(p["syn_retransmits"] for p in tcp["timeline"]) == cl["syn_retransmits"]
    assert tcp["peers_lost"] == 0 and tcp["reads_failed"] == 0
    # The report names the port, and the drops as the first sign, before the retransmits
    # they caused (a dropped SYN is sent again a second later; a tie keeps the drops first).
    out = subprocess.run([SLOPROBE, "report", str(tmp_path / "report.json")],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    first = [l for l in out.splitlines() if "first signs:" in l]
    assert len(first) == 1, out
    assert "listen-queue drops at t=" in first[0], first[0]
    assert first[0].index("listen-queue drops") < first[0].index("retransmits"), first[0]
    rows = [l.split() for l in out.split("TCP (what the kernel saw)")[1].splitlines()]
    assert [str(port), "1", str(drops), str(listener(run.report, port)["accept_queue_max"]),
            "1"] in rows, out


def test_healthy_server_zero(tmp_path):
    """A server that keeps up: its port is named, with nothing dropped, sent again or reset."""
    port = free_port()
    log = tmp_path / "n"
    srv = start("server", port, 128, 0, 30)
    try:
        run = rec(tmp_path, port, "requests", port, 50, log)
    finally:
        srv.kill()
        srv.wait()
    assert int(log.read_text()) == 50
    tcp = run.report["tcp"]
    row = listener(run.report, port)
    assert row["drops"] == 0 and row["sockets"] == 1
    assert [p for p in tcp["peers"] if p["port"] == port] == []
    for k in ("drops", "retransmits", "syn_retransmits", "resets_sent", "resets_received"):
        assert sum(p[k] for p in tcp["timeline"]) == 0, k


def test_refused_resets(tmp_path):
    """Connects to a closed port: each one a reset this host sent and its client received."""
    port = free_port()
    log = tmp_path / "n"
    run = rec(tmp_path, port, "refused", port, 7, log)
    assert int(log.read_text()) == 7
    srv = peer(run.report, "server", port)
    cl = peer(run.report, "client", port)
    assert srv["peer"] == "127.0.0.1" and srv["resets_sent"] == 7, run.report["tcp"]
    assert srv["resets_received"] == 0 and srv["retransmits"] == 0
    assert cl["resets_received"] == 7 and cl["resets_sent"] == 0
    assert run.report["tcp"]["listeners"] == []  # nothing listened on it
    # A section that does not hold together is refused in one line.
    for path, value, msg in ((("peers", 0, "role"), "x", 'must be "server" or "client"'),
                             (("peers", 0, "port"), 70000, "70000 is not a port"),
                             (("timeline", 0, "resets_sent"), 99,
                              "counts more resets_sent than the peers")):
        bad = json.loads(json.dumps(run.report))
        bad["tcp"][path[0]][path[1]][path[2]] = value
        f = tmp_path / "bad.json"
        f.write_text(json.dumps(bad))
        p = subprocess.run([SLOPROBE, "report", str(f)], capture_output=True, text=True)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and msg in p.stderr, p.stderr


def test_linger_resets(tmp_path):
    """A server closing with SO_LINGER 0 and unread data: one reset per connection."""
    port = free_port()
    log = tmp_path / "n"
    srv = start("linger", port, 5)
    try:
        run = rec(tmp_path, port, "requests", port, 5, log)
    finally:
        srv.kill()
        srv.wait()
    assert int(log.read_text()) == 0  # every request was answered by a reset
    s = peer(run.report, "server", port)
    c = peer(run.report, "client", port)
    assert s["resets_sent"] == 5 and s["resets_received"] == 0, run.report["tcp"]
    assert c["resets_received"] == 5 and c["resets_sent"] == 0
    assert listener(run.report, port)["drops"] == 0


def test_merge_and_diff(tmp_path):
    """Two runs of refused connects (7, then 3): merge adds them, diff shows 7 -> 3."""
    port = free_port()
    reports = []
    for n in (7, 3):
        d = tmp_path / str(n)
        d.mkdir()
        log = d / "n"
        run = rec(d, port, "refused", port, n, log)
        assert int(log.read_text()) == n
        assert peer(run.report, "server", port)["resets_sent"] == n, run.report["tcp"]
        reports.append(str(d / "report.json"))
    m = subprocess.run([SLOPROBE, "merge", *reports, "-o", str(tmp_path / "m.json")],
                       capture_output=True, text=True, timeout=30)
    assert m.returncode == 0, m.stderr
    assert "timelines not merged" in m.stderr
    merged = json.loads((tmp_path / "m.json").read_text())
    srv = peer(merged, "server", port)
    cl = peer(merged, "client", port)
    assert srv["resets_sent"] == 10 and cl["resets_received"] == 10, merged["tcp"]
    assert merged["tcp"]["timeline"] == []
    for fmt in ("text", "markdown"):
        out = subprocess.run([SLOPROBE, "diff", *reports, "--format", fmt],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        sec = out.stdout.split("TCP (what the kernel saw)")[1]
        cells = [[c.strip() for c in l.strip("| ").split("|")] if fmt == "markdown"
                 else re.split(r"\s{2,}", l.strip()) for l in sec.splitlines()]
        assert [str(port), "server", "resets_sent", "7", "3", "-57.1 %"] in cells, out.stdout
        assert [str(port), "client", "resets_received", "7", "3", "-57.1 %"] in cells
