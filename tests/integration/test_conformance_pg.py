# SPDX-License-Identifier: GPL-2.0-only
"""PostgreSQL conformance: every query that real drivers send is counted exactly, with the
latency the client itself measured.

The drivers are ones the team did not write (node-postgres, asyncpg, psycopg 3, PgJDBC,
pgbench), each with its own way of putting messages into syscalls: one write per message,
one writev with one message per iovec, one sendto per Bind/Execute, a 65 KB sendto holding a
thousand Executes, 8 KB buffer flushes that cut messages in two, pipelines answered while the
client still sends. The client programs under tests/integration/drivers/ say in their header
what strace showed for each.

Truth comes from the client, never from sloprobe: each program times its own calls and writes
them to a file (pgbench: its per-transaction log, -l), and the test knows how many statements
it asked for. Assertions:
- count: one fingerprint row per statement, its count exactly the executions sent (a batch of
  1000 INSERTs is 1000 Executes, so 1000);
- latency: no execution longer than the client call that contained it, plus max(1.5 ms, 3 %)
  (the client's time includes the driver's own work, so it is an upper bound), checked sorted
  against sorted (if every execution is within its call, the k-th smallest is within the k-th
  smallest call) on the histogram buckets and on the exact min, max and mean; in a batch, where
  the client only times the whole batch, that bound is the batch; and never below what
  pg_sleep made the server wait (50 ms, 10 ms), the lower bound;
- the query right after a batch is timed on its own and must not inherit the batch's start;
- nothing lost: the report's loss counters are zero, no row is approximate, truncated or an
  unknown statement, since every byte was delivered and every Parse was seen.

Many cases fail against a sloprobe that frames messages per syscall, keeps a fixed number of
Executes per Sync, or dates a group from the wrong write: the assertion messages give
sloprobe's numbers next to the client's.
"""
import glob
import json
import os
import shutil
import subprocess

import pytest

from conftest import HERE, PYTHON, record

DRIVERS = os.path.join(HERE, "drivers")
PGJDBC = "/usr/share/java/postgresql.jar"

# sloprobe's latency (entry of the write that sent a statement to the exit of the read that
# returned its ReadyForQuery) lies inside the client's call, so it should never exceed it;
# the margin covers the two clocks and the histogram's bucket width (0.79 %).
TOL_MS = 1.5
TOL_PCT = 3.0


def tol(ms):
    return max(TOL_MS, ms * TOL_PCT / 100)


# Predicates on fingerprints: the statements of drivers/ each have text of their own, so a
# row is recognised by it whatever the driver's placeholders and sloprobe's normalisation.
def is_sleep(q):
    return "pg_sleep" in q and "after_batch" not in q and "prepared_v" not in q


def is_prepared(q):
    return "prepared_v" in q


def is_insert(q):
    return "conformance_batch" in q


def is_after(q):
    return "after_batch" in q


def is_keyword(word):
    return lambda q: q.strip().rstrip(";").strip().lower() == word


# Any counter that says something was lost or could not be followed. Nothing is lost on a
# loopback run of a few thousand queries, so each must be zero. Not wire_write_gaps: a write
# longer than what the kernel forwards (head and tail) has a gap by design; whether its
# Executes were still counted is what the count assertions check.
LOSS_WORDS = ("lost", "dropped", "overflow", "full", "resync", "malformed", "fault",
              "not_walked", "not_forwarded", "evicted", "desync", "approx", "truncated")
# The wire parser's own counters in db_stats, named so that a report without them fails
# instead of passing for want of a counter to check.
WIRE_COUNTERS = ("wire_malformed", "wire_lost_sync", "wire_resync", "wire_queue_overflow",
                 "wire_execs_overflow", "wire_names_evicted")


class Check:
    """Collects every mismatch of one run, so that a failure shows all of them at once."""

    def __init__(self, run, label):
        self.run, self.label, self.problems = run, label, []

    def expect(self, ok, msg):
        if not ok:
            self.problems.append(msg)
        return ok

    def done(self):
        assert not self.problems, "%s:\n  %s\nreport db rows: %s" % (
            self.label, "\n  ".join(self.problems),
            [(q["query"], q["count"]) for q in self.run.report["db"]])

    def rows(self, pred):
        return [q for q in self.run.report["db"] if pred(q["query"])]

    def one_row(self, pred, name, n):
        """The one row of a statement sent n times; None (and a problem) when it is not
        exactly one row with count n."""
        rows = self.rows(pred)
        if not self.expect(len(rows) == 1, "%s: want 1 fingerprint row (count %d), report has "
                           "%d: %s" % (name, n, len(rows),
                                       [(q["query"], q["count"]) for q in rows])):
            if not rows:
                return None
        total = sum(q["count"] for q in rows)
        self.expect(total == n, "%s count: sloprobe %d, client sent %d" % (name, total, n))
        for q in rows:
            self.expect(q["errors"] == 0, "%s errors: sloprobe %d, client saw none" % (
                name, q["errors"]))
            for flag in ("truncated", "unknown_statement", "approximate"):
                self.expect(not q.get(flag), "%s is %s" % (name, flag))
        return rows[0] if len(rows) == 1 and total == n else None

    def result_rows(self, row, name, n, exact):
        """rows: each statement here returns or inserts one row; sloprobe may know fewer
        (CommandComplete in bytes it did not capture), never more. None is honest where the
        count is not on the wire: asyncpg's fetchval/fetchrow Execute with max_rows 1, so the
        server ends them with PortalSuspended and sends no CommandComplete."""
        if row is None or row.get("rows") is None:
            return
        if exact:
            self.expect(row["rows"] == n, "%s rows: sloprobe %s, truth %d" % (
                name, row["rows"], n))
        else:
            self.expect(row["rows"] <= n, "%s rows: sloprobe %s > truth %d" % (
                name, row["rows"], n))

    def within(self, row, name, calls, what, floor_ms=None):
        """No execution longer than the client call that contained it, plus tol().

        The client's timer starts before the driver writes and stops after it has read and
        decoded the answer, so it bounds the wire latency from above; it is no lower bound
        (its own overhead, its scheduling on 2 busy cores, a Parse round trip of its own).
        The lower bound is the server's: floor_ms, what pg_sleep made the statement wait.
        calls: one client time per execution (a batch's time repeated for each of its
        executions); compared sorted against sorted (if each execution is within its call,
        the k-th smallest is within the k-th smallest call), on the histogram's bucket lower
        bounds, and on its exact min, max and mean."""
        if row is None:
            return
        h = row.get("histogram")
        if not self.expect(h is not None, "%s: no histogram in the row" % name):
            return
        c = sorted(calls)
        s_min, s_max, s_mean = h["min"] / 1e6, h["max"] / 1e6, h["sum"] / 1e6 / h["count"]
        c_mean = sum(c) / len(c)
        for stat, v, t in (("min", s_min, c[0]), ("max", s_max, c[-1]), ("mean", s_mean, c_mean)):
            self.expect(v <= t + tol(t), "%s latency %s: sloprobe %.3f ms > %s %.3f ms + %.2f" % (
                name, stat, v, what, t, tol(t)))
        if floor_ms is not None:
            self.expect(s_min >= floor_ms, "%s latency min: sloprobe %.3f ms < the %g ms the "
                        "server slept" % (name, s_min, floor_ms))
        lows = sorted(lo / 1e6 for lo, hi, k in h["buckets"] for _ in range(k))
        if len(lows) != len(c):
            return  # the count is already wrong
        bad = [(k, lo, t) for k, (lo, t) in enumerate(zip(lows, c)) if lo > t + tol(t)]
        self.expect(not bad, "%s latency: %d of %d executions (sorted) longer than %s + "
                    "tolerance, e.g. %s" % (name, len(bad), len(c), what, "; ".join(
                        "#%d sloprobe >= %.3f ms vs %.3f" % b for b in bad[:4])))

    def nothing_lost(self, resync_ok=False):
        """resync_ok: an answer can be longer than a read's capture (16 KiB, docs/db.md), and
        when the client reads it at once the parser loses its framing in the middle and finds
        it again at the read's ReadyForQuery: allowed when every loss was so recovered."""
        r = self.run.report
        db = r.get("db_stats") or {}
        recovered = resync_ok and db.get("wire_lost_sync", 0) == db.get("wire_resync", 0)

        def walk(section, d):
            for k, v in d.items():
                if isinstance(v, dict):
                    walk(section + "." + k, v)
                elif isinstance(v, (int, float)) and not isinstance(v, bool) and v and \
                        any(w in k for w in LOSS_WORDS) and not (
                            recovered and k in ("wire_lost_sync", "wire_resync")):
                    self.problems.append("%s.%s = %s where nothing was lost" % (section, k, v))

        for section in ("events", "connections", "db_stats"):
            walk(section, r.get(section) or {})
        missing = [k for k in WIRE_COUNTERS if k not in r["db_stats"]]
        self.expect(not missing, "db_stats lacks the wire parser's counters %s" % missing)
        self.expect(r["db_stats"].get("tls_connections", 0) == 0,
                    "db_stats.tls_connections = %s, no connection used TLS" %
                    r["db_stats"].get("tls_connections"))
        unknown = [q["query"] for q in r["db"] if q.get("unknown_statement")]
        self.expect(not unknown, "unknown statements (every Parse was sent while recording): %s"
                    % unknown)


def recorded(tmp_path, pg, command):
    """sloprobe record -q -P PGPORT -- COMMAND, which must succeed and write a report."""
    run = record(tmp_path, ["-q", "-P", str(pg.port)], command, timeout=120, check=False)
    assert run.rc == 0, "sloprobe exited %d: %s" % (run.rc, run.err[-2000:])
    assert run.report is not None, "no report: %s" % run.err[-2000:]
    return run


@pytest.fixture(scope="module")
def batch_table(pg):
    pg.psql(["-c", "create table if not exists conformance_batch (id int, name text)"])


@pytest.fixture(scope="module")
def jdbc_classes(tmp_path_factory):
    """drivers/PgJdbc.java compiled against Debian's PgJDBC, once per module."""
    out = str(tmp_path_factory.mktemp("jdbc"))
    subprocess.run(["javac", "-d", out, "-cp", PGJDBC, os.path.join(DRIVERS, "PgJdbc.java")],
                   check=True, capture_output=True, timeout=120)
    return out


# Each client runs under timeout(1), so that it ends by itself even if the database hangs
# (sloprobe record is bounded by record()'s timeout, and it stops with its command).
BOUNDED = ["timeout", "-k", "5", "60"]


def client(driver, pg, workload, n, out, request):
    """The command line of one client program; request brings the compiled Java client only
    to the PgJDBC cases (no JDK needed for the others)."""
    args = [str(pg.port), workload, str(n), str(out)]
    if driver in ("asyncpg", "psycopg"):
        return BOUNDED + [PYTHON, os.path.join(DRIVERS, "pg_python.py"), driver] + args
    if driver.startswith("node-"):
        return BOUNDED + [shutil.which("node") or "node", os.path.join(DRIVERS, "pg_node.js"),
                          driver[len("node-"):]] + args
    if driver == "pgjdbc":
        classes = request.getfixturevalue("jdbc_classes")
        return BOUNDED + [shutil.which("java") or "java", "-cp", PGJDBC + ":" + classes,
                          "PgJdbc"] + args
    raise ValueError(driver)


CALL_CASES = [
    # 23 x select pg_sleep($1) with 0.05, parameterized (extended protocol).
    ("node-stock", "sleep", 23),
    ("node-writev", "sleep", 23),
    ("asyncpg", "sleep", 23),
    ("psycopg", "sleep", 23),
    ("pgjdbc", "sleep", 23),  # crosses prepareThreshold: unnamed, then a named statement
    # One named / server-side prepared statement executed 17 times.
    ("node-stock", "prepared", 17),
    ("node-writev", "prepared", 17),
    ("asyncpg", "prepared", 17),  # prepare(), 30 ms idle, then 17 x fetchrow
    ("psycopg", "prepared", 17),
    ("pgjdbc", "prepared", 17),
]


@pytest.mark.parametrize("driver,workload,n", CALL_CASES,
                         ids=["%s-%s%d" % c for c in CALL_CASES])
def test_per_call(request, tmp_path, pg, driver, workload, n):
    """Statements timed one call each: exact count, latency within tolerance of each call."""
    truth_file = tmp_path / "truth.json"
    run = recorded(tmp_path, pg, client(driver, pg, workload, n, truth_file, request))
    truth = json.loads(truth_file.read_text())
    assert len(truth["calls"]) == n
    ck = Check(run, "%s %s %d" % (driver, workload, n))
    if workload == "sleep":
        row = ck.one_row(is_sleep, "pg_sleep($1)", n)
        ck.within(row, "pg_sleep($1)", truth["calls"], "its client call", floor_ms=50.0)
    else:
        row = ck.one_row(is_prepared, "prepared statement", n)
        ck.within(row, "prepared statement", truth["calls"], "its client call", floor_ms=10.0)
    ck.result_rows(row, workload, n, exact=True)
    ck.expect(run.report["db_stats"]["connections"] == 1, "db_stats.connections = %s, the "
              "client opened 1" % run.report["db_stats"]["connections"])
    ck.nothing_lost()
    ck.done()


BATCH_CASES = [
    ("asyncpg", "batch", 50),  # executemany: one 3245-byte sendto, 50 Bind/Execute, 1 Sync
    ("asyncpg", "batch", 1000),  # executemany: one 65895-byte sendto
    ("psycopg", "batch", 40),  # pipeline executemany: 40 sendto of Bind/Execute, 1 Sync
    ("psycopg", "pipeline", 1000),  # 1000 execute() in one pipeline, one Sync
    ("pgjdbc", "batch", 40),  # executeBatch: one 2195-byte write
    ("pgjdbc", "batch", 1000),  # executeBatch: 4 Sync groups, writes cut at 8192 bytes
    # Control: the same transaction with no batch before it (JDBC sends BEGIN in the group of
    # the query), to tell a batch's aftermath from the transaction's own framing.
    ("pgjdbc", "batch", 0),
]


@pytest.mark.parametrize("driver,workload,n", BATCH_CASES,
                         ids=["%s-%s%d" % c for c in BATCH_CASES])
def test_batch_then_transaction(request, tmp_path, pg, batch_table, driver, workload, n):
    """A batch of n INSERTs counts n executions, none longer than the batch; the transaction
    right after it (BEGIN, one timed pg_sleep(0.05) query, COMMIT) has its own latency.
    n = 0: no batch (the driver sends nothing for it), only the transaction."""
    truth_file = tmp_path / "truth.json"
    run = recorded(tmp_path, pg, client(driver, pg, workload, n, truth_file, request))
    truth = json.loads(truth_file.read_text())
    ck = Check(run, "%s %s %d (batch %.1f ms, query after it %.1f ms)" % (
        driver, workload, n, truth["batch_ms"], truth["after_ms"]))
    if n:
        ins = ck.one_row(is_insert, "INSERT", n)
        ck.result_rows(ins, "INSERT", n, exact=False)
        ck.within(ins, "INSERT", [truth["batch_ms"]] * n, "the whole batch")
    else:
        ck.expect(not ck.rows(is_insert), "INSERT rows for an empty batch: %s" % ck.rows(
            is_insert))
    after = ck.one_row(is_after, "query after the batch", 1)
    ck.within(after, "query after the batch", [truth["after_ms"]], "its client call",
              floor_ms=50.0)
    ck.result_rows(after, "query after the batch", 1, exact=True)
    for word in ("begin", "commit"):
        ck.one_row(is_keyword(word), word.upper(), 1)
    ck.expect(run.report["db_stats"]["connections"] == 1, "db_stats.connections = %s, the "
              "client opened 1" % run.report["db_stats"]["connections"])
    # asyncpg's 1000 answers (BindComplete + CommandComplete, 21 KB) come back in one read
    # when the client is slower than the server (seen with the host loaded).
    ck.nothing_lost(resync_ok=(driver, n) == ("asyncpg", 1000))
    ck.done()


def pgbench(pg, tmp_path, mode, scripts, transactions):
    """pgbench -n -c 2 -t T with weighted scripts; -l logs every transaction:
    client_id transaction_no latency_us script_no epoch_s epoch_us (PostgreSQL 15).
    Each script but the pipeline is one statement, so its transaction latency is the time of
    that one execution: per-execution truth, where -r would only give per-statement means."""
    cmd = BOUNDED + ["pgbench", "-n", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres",
           "-M", mode, "-c", "2", "-j", "1", "-t", str(transactions), "--random-seed=7",
           "-l", "--log-prefix=%s" % (tmp_path / "pgbench_log")]
    for s in scripts:
        cmd += ["-f", os.path.join(DRIVERS, s) + "@1"]
    return cmd + ["postgres"]


def pgbench_log(tmp_path):
    """Latencies in ms per script number, from every log file of the run."""
    by_script = {}
    files = glob.glob(str(tmp_path / "pgbench_log.*"))
    assert files, "pgbench wrote no log"
    for f in files:
        for line in open(f):
            cols = line.split()
            by_script.setdefault(int(cols[3]), []).append(int(cols[2]) / 1000.0)
    return by_script


# pgbench's own statements, on the wire (strace, PostgreSQL 15.18's pgbench and libpq; one
# sendto per message group, each answer in one recvfrom):
#   simple     Q with the literal substituted (29 bytes for pg_sleep, 43 for the SELECT)
#   extended   Parse/Bind/Describe/Execute/Sync of an unnamed statement in one sendto (69-89)
#   prepared   each command's Parse P_n + Sync once per connection (40 bytes, a group with no
#              Execute), then Bind/Describe/Execute/Sync (40-46 bytes)
#   pipeline   20 commands, one Sync: extended = one sendto of 1645 bytes (20 x
#              Parse/Bind/Describe/Execute + Sync), answered in one recvfrom of 1306; prepared =
#              20 Parse+Sync round trips at the start, then one 835-byte sendto per transaction
#              (20 x Bind/Describe/Execute + Sync), answered in 1206 bytes.
# pgbench also asks for SSL first (sslmode=prefer), which the server refuses ('N').
PGBENCH_CASES = ["simple", "extended", "prepared"]


@pytest.mark.parametrize("mode", PGBENCH_CASES, ids=["pgbench-" + m for m in PGBENCH_CASES])
def test_pgbench(tmp_path, pg, mode):
    """Two one-statement scripts picked at random by 2 clients: pgbench's log times every
    execution of each statement, and counts them."""
    run = recorded(tmp_path, pg, pgbench(pg, tmp_path, mode,
                                         ["pgbench_sleep.sql", "pgbench_item.sql"], 30))
    log = pgbench_log(tmp_path)
    assert sum(len(v) for v in log.values()) == 60
    ck = Check(run, "pgbench -M %s" % mode)
    sleep = ck.one_row(is_sleep, "pg_sleep(0.01)", len(log.get(0, [])))
    ck.within(sleep, "pg_sleep(0.01)", log.get(0, []), "its transaction", floor_ms=10.0)
    ck.result_rows(sleep, "pg_sleep(0.01)", len(log.get(0, [])), exact=True)
    item = ck.one_row(lambda q: "from items where id" in q, "item select", len(log.get(1, [])))
    ck.within(item, "item select", log.get(1, []), "its transaction")
    ck.result_rows(item, "item select", len(log.get(1, [])), exact=True)
    ck.nothing_lost()
    ck.done()


PIPELINE_CASES = ["extended", "prepared"]


@pytest.mark.parametrize("mode", PIPELINE_CASES,
                         ids=["pgbench-pipeline-" + m for m in PIPELINE_CASES])
def test_pgbench_pipeline(tmp_path, pg, mode):
    """\\startpipeline with 20 statements and one Sync per transaction: 20 executions each, none
    longer than its transaction."""
    run = recorded(tmp_path, pg, pgbench(pg, tmp_path, mode, ["pgbench_pipeline.sql"], 20))
    txs = pgbench_log(tmp_path)[0]
    assert len(txs) == 40
    ck = Check(run, "pgbench -M %s pipeline of 20" % mode)
    row = ck.one_row(lambda q: "select id from items where id" in q, "pipelined select",
                     20 * len(txs))
    ck.within(row, "pipelined select", [t for t in txs for _ in range(20)], "its transaction")
    ck.result_rows(row, "pipelined select", 20 * len(txs), exact=False)
    ck.nothing_lost()
    ck.done()
