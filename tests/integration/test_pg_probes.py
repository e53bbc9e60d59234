# SPDX-License-Identifier: GPL-2.0-only
"""PostgreSQL queries from the libpq uprobes and the server's USDT probes (--db-probe)."""
import os
import shutil
import subprocess

import pytest

from conftest import HERE, SLOPROBE, PyApp, postgres, record, sh
from test_pg import PHASE, db_row, flags, pgclient, psql_sleep, sleep_p50_within_client

# libpq's uprobes and PostgreSQL's USDT probes see every client and server of the host, the
# other tests' too: tests/run runs these alone (conftest.py: serial).
pytestmark = pytest.mark.serial


@pytest.fixture(scope="module")
def pqclient(tmp_path_factory):
    """tests/integration/pqclient.c, built against the system libpq."""
    out = str(tmp_path_factory.mktemp("pq") / "pqclient")
    cflags = subprocess.run(["pkg-config", "--cflags", "libpq"], capture_output=True,
                            text=True, check=True).stdout.split()
    subprocess.run(["gcc", "-O2", "-Wall", "-Werror"] + cflags +
                   [os.path.join(HERE, "pqclient.c"), "-lpq", "-o", out], check=True)
    return out


def paths(row):
    return {p["path"]: p for p in row["paths"]}


@pytest.mark.parametrize("client", ["c-exec", "c-params", "c-async", "psycopg2", "psycopg"])
def test_libpq_sleep_23_exact(tmp_path, pg, pqclient, client):
    """23 x pg_sleep(0.05) seen by the libpq probes alone, for each way libpq is called."""
    log = tmp_path / "client.log"
    if client.startswith("c-"):
        cmd = "%s %d %s 23 > %s" % (pqclient, pg.port, client[2:], log)
    else:
        cmd = pgclient(client, pg, "sleep", 23) + " > %s" % log
    run = record(tmp_path, ["-q", "--db-probe=libpq"], sh(cmd))
    row = db_row(run, "pg_sleep")
    assert row["query"] in ("select pg_sleep(?)", "select pg_sleep($1)"), row["query"]
    assert row["count"] == 23 and row["errors"] == 0, row
    assert row["main_path"] == "libpq"
    assert sleep_p50_within_client(row["latency_ms"]["p50"], log)
    st = run.report["db_stats"]["libpq"]
    assert st["files_probed"] >= 1 and st["files_failed"] == 0, st
    assert st["files_without_result_layout"] == 0, st


def test_libpq_prepared_and_error(tmp_path, pg, pqclient):
    """PQprepare + 17 x PQexecPrepared: reported by the statement's SQL; errors by SQLSTATE."""
    cmd = "%s %d prepared 17 && %s %d error" % (pqclient, pg.port, pqclient, pg.port)
    run = record(tmp_path, ["-q", "--db-probe=libpq"], sh(cmd))
    row = db_row(run, "$1::int")
    assert row["query"] == "select $1::int + ?"
    assert row["count"] == 17 and row["main_path"] == "libpq"
    err = db_row(run, "/")
    assert err["query"] == "select ? / ?" and err["count"] == 1 and err["errors"] == 1
    assert err["sqlstates"] == {"22012": 1}
    assert run.report["db_stats"]["libpq"]["prepares"] == 1


@pytest.mark.parametrize("probe", ["wire", "libpq"])
def test_prepared_before_recording(tmp_path, pg, pqclient, probe):
    """A statement prepared before sloprobe started: an honest unknown prepared statement."""
    go = tmp_path / "go"
    p = subprocess.Popen([pqclient, str(pg.port), "late", "9", str(go)], stdout=subprocess.PIPE,
                         text=True)
    try:
        assert p.stdout.readline().strip() == "prepared"
        # The traced command starts once sloprobe is attached: it releases the client.
        script = "touch %s; for i in $(seq 400); do [ -e %s.done ] && break; sleep 0.05; done" \
                 % (go, go)
        args = ["-q", "--db-probe=" + probe] + (["-P", str(pg.port)] if probe == "wire" else [])
        run = record(tmp_path, args, sh(script))
        assert p.wait(20) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    row = db_row(run, "late1")
    assert row["query"] == "<prepared statement late1>"
    assert row["count"] == 9 and row["main_path"] == probe


def test_usdt_server_side(tmp_path, pg):
    """psql's 23 simple queries seen by the server's query__start/query__done probes."""
    log = tmp_path / "client.log"
    run = record(tmp_path, ["-q", "--db-probe=usdt"], sh(psql_sleep(pg, log=log)))
    row = db_row(run, "pg_sleep")
    assert row["query"] == "select pg_sleep(?)"
    assert row["count"] == 23 and row["main_path"] == "usdt"
    assert sleep_p50_within_client(row["latency_ms"]["p50"], log)
    assert run.report["db_stats"]["usdt"]["binaries_probed"] >= 1


def test_three_paths_one_query(tmp_path, pg):
    """The same 23 queries seen by wire, libpq and usdt: one row, each path's latency kept,
    each query counted and attributed once."""
    log = tmp_path / "client.log"
    run = record(tmp_path, ["-q", "--db-probe=wire,libpq,usdt", "-P", str(pg.port)],
                 sh(pgclient("psycopg2", pg, "sleep", 23) + " > %s" % log))
    row = db_row(run, "pg_sleep")
    assert row["count"] == 23 and row["main_path"] == "wire"
    ps = paths(row)
    assert set(ps) == {"wire", "libpq", "usdt"}
    for name, p in ps.items():
        assert p["count"] == 23, (name, p)
        assert sleep_p50_within_client(p["latency_ms"]["p50"], log), name
    # Client-side latency includes the server's: the wire sees the most, the server the least.
    assert ps["wire"]["latency_ms"]["mean"] >= ps["usdt"]["latency_ms"]["mean"]
    assert ps["libpq"]["latency_ms"]["mean"] >= ps["usdt"]["latency_ms"]["mean"]
    st = run.report["db_stats"]
    # Each path saw each query once, and each query is placed once (attributed to a request,
    # or outside any: no HTTP here), by its main path: 23, not 46 or 69.
    assert [st["executions_" + p] for p in ("wire", "libpq", "usdt")] == [23, 23, 23], st
    placed = st["outside_requests"] + sum(st["attributed_" + k]
                                          for k in ("exact", "thread", "shared", "handoff"))
    assert placed == 23 and st["outside_requests"] == 23, st


def test_libpq_n_plus_one(tmp_path, pg):
    """The threaded app's /list (1 + 20 queries) flagged N+1 from libpq alone."""
    app = PyApp("dbapp.py", "threaded", "{port}", pg.port)
    try:
        subprocess.run(sh(PHASE % (1, 2, app.port, "list")), check=True, timeout=60)
        load = " && ".join(PHASE % (1, 8, app.port, ep) for ep in ("list", "pair"))
        # -p: libpq probes see every process on the host; judge the app's queries only.
        run = record(tmp_path, ["-q", "--db-probe=libpq", "-p", str(app.proc.pid), "-P",
                                str(app.port)], sh(load))
    finally:
        app.stop()
    lst, pair = run.row("/list"), run.row("/pair")
    assert lst["count"] == 8 and lst["db"]["queries_per_request"] == 21, lst["db"]
    assert lst["db"]["queries_per_request_max"] == 21
    assert pair["db"]["queries_per_request"] == 2, pair["db"]
    n1 = flags(run, "n_plus_one")
    assert n1 and all(f["endpoint"] == "GET /list" for f in n1), n1
    assert db_row(run, "where id =")["main_path"] == "libpq"


def test_bad_db_probe(tmp_path):
    p = subprocess.run([SLOPROBE, "record", "--db-probe=wire,bogus"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 2
    assert "invalid --db-probe 'wire,bogus'" in p.stderr


@pytest.mark.parametrize("where", ["bundled", "container"])
def test_libpq_copies(tmp_path, pg, pqclient, where):
    """A copy of libpq next to the application (as wheels bundle it), and one that exists
    only in the process's own mount namespace (as in a container): each is found from the
    process's maps, probed as a file of its own, and its queries counted."""
    libdir = tmp_path / "lib"
    libdir.mkdir()
    system = subprocess.run(["sh", "-c", "ldconfig -p | sed -n 's/.*libpq.so.5 .*=> //p' | "
                             "head -n 1"], capture_output=True, text=True).stdout.strip()
    assert system, "no libpq.so.5 on this host"
    # A libpq file not seen before is probed at the next scan (every second): the client
    # waits 1.5 s before its first query so that all 23 are seen (docs/db.md).
    env = "PQCLIENT_DELAY_MS=1500"
    if where == "bundled":
        shutil.copy(system, libdir / "libpq.so.5")
        cmd = "%s LD_LIBRARY_PATH=%s %s %d exec 23" % (env, libdir, pqclient, pg.port)
    else:
        # A private mount namespace: /mnt is a tmpfs only this process tree can see.
        cmd = ("unshare -m sh -ec 'mount -t tmpfs none /mnt && cp %s /mnt/libpq.so.5 && "
               "%s LD_LIBRARY_PATH=/mnt exec %s %d exec 23'" % (system, env, pqclient,
                                                                pg.port))
    run = record(tmp_path, ["-q", "--db-probe=libpq"], sh(cmd))
    row = db_row(run, "pg_sleep")
    assert row["count"] == 23 and row["main_path"] == "libpq", row
    st = run.report["db_stats"]["libpq"]
    # The system's libpq (other processes may map it) and the copy: two files at least.
    assert st["files_probed"] >= 2 and st["files_failed"] == 0, st


def test_tls_connection_left_to_libpq(tmp_path, pqclient):
    """A connection that switches to TLS is counted as such by the wire path, which cannot read
    it; the libpq probes still see its 23 queries."""
    def tls(base):
        crt, key = os.path.join(base, "server.crt"), os.path.join(base, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", crt],
                       check=True, capture_output=True, timeout=60)
        shutil.chown(crt, "postgres")
        shutil.chown(key, "postgres")
        os.chmod(key, 0o600)
        return "-c ssl=on -c ssl_cert_file=%s -c ssl_key_file=%s" % (crt, key)

    with postgres(tls) as pg:
        log = tmp_path / "client.log"
        cmd = "PQCLIENT_SSLMODE=require %s %d exec 23 > %s" % (pqclient, pg.port, log)
        run = record(tmp_path, ["-q", "--db-probe=wire,libpq", "-P", str(pg.port)], sh(cmd))
    st = run.report["db_stats"]
    assert st["tls_connections"] == 1 and st["executions_wire"] == 0, st
    row = db_row(run, "pg_sleep")
    assert row["count"] == 23 and row["main_path"] == "libpq"
    assert [p["path"] for p in row["paths"]] == ["libpq"]
    assert sleep_p50_within_client(row["latency_ms"]["p50"], log)
