# SPDX-License-Identifier: GPL-2.0-only
"""Runs inside the 6.1 guest of test_kernel61.py (tools/kernel-vm.sh): known workloads under
one `sloprobe record`, then a short one with every BPF object loaded; everything the host test
judges is written to OUT. Nothing is asserted here: the host validates the reports and
compares them with the clients' and the server's logs. Emulated, a recorder's load takes
seconds: one recording holds all the workloads, one after the other.

  kernel61_guest.py OUT
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import (HERE, PYTHON, SLOPROBE, PyApp, Server, client, free_port,  # noqa: E402
                      loaded_progs, postgres, prog_ids_of)

ITEMS = 23
QUERIES = 23
LINGER = 5
REFUSED = 3
# A server taking one connection every QUEUE_MS, QUEUED clients at once: the k-th waits about
# k x QUEUE_MS in the accept queue, in its latency from arrival (none from the read).
QUEUE_MS, QUEUED = 150, 4
# test_handoff.py's load: each client goes round the endpoints (handoffapp.py), at once.
HANDOFF_LOAD = ("for c in $(seq %d); do (for i in $(seq %d); do for ep in %s; do "
                "curl -sf -o /dev/null http://127.0.0.1:%d$ep; done; done) & done; wait")
HANDOFF_EPS = "/health /one /pair /list"
HANDOFF_CLIENTS, HANDOFF_ROUNDS = 2, 4


def main(out):
    t = [time.monotonic()]
    with postgres() as pg:
        t.append(time.monotonic())
        workloads(out, pg, t)
    # Where the guest's time went: PostgreSQL's start, the recording, every object's load.
    with open(os.path.join(out, "phases.txt"), "w") as f:
        f.write(" ".join("%.1f" % (b - a) for a, b in zip(t, t[1:])) + "\n")


def workloads(out, pg, t):
    facts = {"uname": os.uname().release, "pg_port": pg.port}
    srv = Server(env={"TIMING_LOG": os.path.join(out, "server.log")})
    tcpload = os.path.join(HERE, "tcpload.py")
    lport, rport = free_port(), free_port()
    linger = subprocess.Popen([PYTHON, tcpload, "linger", str(lport), str(LINGER)],
                              stdout=subprocess.PIPE, text=True)
    qport = free_port()
    queue = subprocess.Popen([PYTHON, tcpload, "server", str(qport), "16", str(QUEUE_MS), "120"],
                             stdout=subprocess.PIPE, text=True)
    # FastAPI sync endpoints: a pool worker sends the queries of a request the loop read.
    app = PyApp("handoffapp.py", "{port}", pg.port)
    try:
        assert linger.stdout.readline().strip() == "ready"
        assert queue.stdout.readline().strip() == "ready"
        # Warm-up outside the recording: the pool opens its connections once.
        subprocess.run(["sh", "-ec", HANDOFF_LOAD % (2, 1, HANDOFF_EPS, app.port)], check=True,
                       timeout=60)
        script = "\n".join([
            client("keepalive", srv.port, "/items/", 1, ITEMS) + " > %s/ka.txt" % out,
            "%s %s requests %d %d %s/linger.n" % (PYTHON, tcpload, lport, LINGER, out),
            "%s %s refused %d %d %s/refused.n" % (PYTHON, tcpload, rport, REFUSED, out),
            "%s %s ramp %d %d 10 %s/queue.json" % (PYTHON, tcpload, qport, QUEUED, out),
            # test_pg.py's psql_sleep: simple protocol, one connection.
            "for i in $(seq %d); do echo 'select pg_sleep(0.05);'; done | psql -X -q "
            "-h 127.0.0.1 -p %d -U postgres -d postgres >/dev/null" % (QUERIES, pg.port),
            HANDOFF_LOAD % (HANDOFF_CLIENTS, HANDOFF_ROUNDS, HANDOFF_EPS, app.port),
        ])
        ports = [srv.port, lport, rport, pg.port, app.port, qport]
        p = subprocess.run([SLOPROBE, "record", "-q", "-o", os.path.join(out, "report.json")] +
                           [a for port in ports for a in ("-P", str(port))] +
                           ["--", "sh", "-ec", script],
                           capture_output=True, text=True, timeout=150, cwd=HERE)
        facts.update(rc=p.returncode, stderr=p.stderr, port=srv.port, linger_port=lport,
                     refused_port=rport, server_pid=srv.pid, app_port=app.port,
                     queue_port=qport)
        t.append(time.monotonic())
        # Every BPF object at once: sockio with its TLS programs, libpq's uprobes, the
        # server's USDT probes, the hand-offs.
        ready = os.path.join(out, "all.ready")
        p = subprocess.Popen([SLOPROBE, "record", "-q", "--bpf-stats", "--tls=on",
                              "--db-probe=wire,libpq,usdt", "-o", os.path.join(out, "all.json"),
                              "--", "sh", "-ec", "touch %s; sleep 1" % ready],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE)
        deadline = time.monotonic() + 120
        while not os.path.exists(ready) and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        live = loaded_progs()
        facts["all_progs"] = sorted(live[i]["name"] for i in prog_ids_of(p.pid) if i in live)
        _, err = p.communicate(timeout=120)
        facts.update(all_rc=p.returncode, all_stderr=err)
        t.append(time.monotonic())
    finally:
        queue.kill()
        queue.wait(5)
        app.stop()
        srv.stop()
        if linger.poll() is None:
            linger.kill()
        linger.wait(5)
    with open(os.path.join(out, "facts.json"), "w") as f:
        json.dump(facts, f)


if __name__ == "__main__":
    main(sys.argv[1])
