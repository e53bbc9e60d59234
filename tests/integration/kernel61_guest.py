# SPDX-License-Identifier: GPL-2.0-only
"""Runs inside the 6.1 guest of test_kernel61.py (tools/kernel-vm.sh): known workloads under
one `sloprobe record`, everything the host test judges written to OUT. Nothing is asserted
here: the host validates the report and compares it with the clients' and server's logs.

  kernel61_guest.py OUT
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import (HERE, PYTHON, SLOPROBE, PyApp, Server, client, free_port,  # noqa: E402
                      postgres, sh)

ITEMS = 23
QUERIES = 23
LINGER = 5
REFUSED = 3


# test_handoff.py's load: each client goes round the endpoints (handoffapp.py), 2 at once.
HANDOFF_LOAD = ("for c in $(seq %d); do (for i in $(seq %d); do for ep in %s; do "
                "curl -sf -o /dev/null http://127.0.0.1:%d$ep; done; done) & done; wait")
HANDOFF_EPS = "/health /one /pair /list"


def main(out):
    with postgres() as pg:
        workloads(out, pg)
        handoff(out, pg)


def handoff(out, pg):
    """FastAPI sync endpoints: a pool worker sends the queries of a request the loop read."""
    app = PyApp("handoffapp.py", "{port}", pg.port)
    try:
        subprocess.run(sh(HANDOFF_LOAD % (2, 1, HANDOFF_EPS, app.port)), check=True, timeout=60)
        p = subprocess.run([SLOPROBE, "record", "-q", "-o", os.path.join(out, "handoff.json"),
                            "-P", str(app.port), "-P", str(pg.port), "--"] +
                           sh(HANDOFF_LOAD % (2, 4, HANDOFF_EPS, app.port)),
                           capture_output=True, text=True, timeout=150, cwd=HERE)
    finally:
        app.stop()
    with open(os.path.join(out, "handoff.rc"), "w") as f:
        f.write("%d\n%s" % (p.returncode, p.stderr))


def workloads(out, pg):
    facts = {"uname": os.uname().release, "pg_port": pg.port}
    srv = Server(env={"TIMING_LOG": os.path.join(out, "server.log")})
    tcpload = os.path.join(HERE, "tcpload.py")
    lport, rport = free_port(), free_port()
    linger = subprocess.Popen([PYTHON, tcpload, "linger", str(lport), str(LINGER)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert linger.stdout.readline().strip() == "ready"
        script = "\n".join([
            client("keepalive", srv.port, "/items/", 1, ITEMS) + " > %s/ka.txt" % out,
            "%s %s requests %d %d %s/linger.n" % (PYTHON, tcpload, lport, LINGER, out),
            "%s %s refused %d %d %s/refused.n" % (PYTHON, tcpload, rport, REFUSED, out),
            # test_pg.py's psql_sleep: simple protocol, one connection.
            "for i in $(seq %d); do echo 'select pg_sleep(0.05);'; done | psql -X -q "
            "-h 127.0.0.1 -p %d -U postgres -d postgres >/dev/null" % (QUERIES, pg.port),
        ])
        p = subprocess.run([SLOPROBE, "record", "-q", "-o", os.path.join(out, "report.json"),
                            "-P", str(srv.port), "-P", str(lport), "-P", str(rport), "-P", str(pg.port),
                            "--", "sh", "-c", script],
                           capture_output=True, text=True, timeout=150, cwd=HERE)
        facts.update(rc=p.returncode, stderr=p.stderr, port=srv.port, linger_port=lport,
                     refused_port=rport, server_pid=srv.pid)
        # Every BPF object at once: sockio with its TLS programs, libpq's uprobes, the
        # server's USDT probes, the hand-offs.
        p = subprocess.run([SLOPROBE, "record", "-q", "-d", "1", "--bpf-stats", "--tls=on",
                            "--db-probe=wire,libpq,usdt", "-o", os.path.join(out, "all.json")],
                           capture_output=True, text=True, timeout=150, cwd=HERE)
        facts.update(all_rc=p.returncode, all_stderr=p.stderr)
    finally:
        srv.stop()
        if linger.poll() is None:
            linger.kill()
        linger.wait(5)
    with open(os.path.join(out, "facts.json"), "w") as f:
        json.dump(facts, f)


if __name__ == "__main__":
    main(sys.argv[1])
