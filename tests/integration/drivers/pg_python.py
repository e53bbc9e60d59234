# SPDX-License-Identifier: GPL-2.0-only
"""Known PostgreSQL workloads from asyncpg and psycopg 3, each call timed by the client itself,
for tests/integration/test_conformance_pg.py.

    pg_python.py DRIVER PORT WORKLOAD N OUT

DRIVER: asyncpg | psycopg. WORKLOAD (the same meaning in drivers/pg_node.js and PgJdbc.java):
    sleep N      N x "select pg_sleep($1)" with 0.05, one call timed each
    prepared N   N executions of one server-side prepared statement that sleeps 10 ms
    batch N      one batch of N INSERTs (asyncpg executemany, psycopg pipeline executemany),
                 timed as one call, then a transaction whose one query is timed on its own
    pipeline N   psycopg only: N separate INSERTs in one pipeline and one Sync, then the same
                 transaction
OUT gets the client's truth as JSON: {"calls": [ms...]} or {"batch_ms", "after_ms"}.

The truth is the driver's own clock (perf_counter) around each call, so it includes the
driver's overhead and is an upper bound on the wire latency plus that overhead.

What goes on the wire (strace -f -e trace=write,writev,sendto,sendmsg,read,recvfrom on
asyncpg 0.27.0 and psycopg 3.1.7 with the python libpq implementation, libpq 15):
  asyncpg    every message group is one sendto(). executemany first prepares:
             Parse+Describe+Flush (113 bytes for the INSERT, no Sync), then executemany(50) is
             ONE sendto of 3245 bytes holding 50 x Bind/Execute and one Sync, answered in one
             recvfrom of 1056 bytes; executemany(1000) is ONE sendto of 65895 bytes, answered
             in recvfrom()s of 8192, 8192 and 4622 bytes (1000 x BindComplete/CommandComplete,
             one ReadyForQuery at the very end). conn.prepare() is Parse/Describe/Flush (105
             bytes) with no Sync, so the group it opens is closed by the first fetch's Sync; a
             fetch is one 58-byte sendto of Bind/Execute/Sync. transaction() sends BEGIN; and
             COMMIT; as simple queries.
  psycopg    (libpq) pipeline executemany(40): one sendto for Parse (79 bytes), one sendto per
             row of Bind+Describe+Execute (57-58 bytes), one 5-byte sendto for Sync: 42 sendto,
             the answers in one recvfrom of 1051 bytes. The 1000-statement pipeline: the first
             5 statements unprepared (124-byte sendto of Parse/Bind/Describe/Execute each),
             then Parse of a named statement (79) and 995 sendto of 57-59 bytes; the server's
             answers are read while the client still sends (recvfrom of 8192 bytes, three
             times), then Sync, a read of 1460 bytes ending with ReadyForQuery, and a second
             Sync from leaving the pipeline block, answered by a lone ReadyForQuery (6 bytes):
             a group with no Execute. prepare=True: Parse+Sync (72 bytes, answered in 11) on
             the first call, then Bind/Describe/Execute/Sync (51 bytes) per call.
"""
import asyncio
import json
import sys
import time

DRIVER, PORT, WORKLOAD, N, OUT = (sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]),
                                   sys.argv[5])

SLEEP_SQL = "select pg_sleep($1)"
# The statement of the prepared workload: 10 ms of server time gives the report a floor to
# check, and its own text so that no other query shares its fingerprint.
PREPARED_SQL = "select $1::int + 1 as prepared_v, pg_sleep(0.01)"
INSERT_SQL = "insert into conformance_batch (id, name) values ($1, $2)"
AFTER_SQL = "select pg_sleep($1) as after_batch"
# A query of another fingerprint run once before the timed calls: the first call of a
# driver loads code and caches type information, time that no wire latency contains.
WARMUP_SQL = "select $1::float8 as warmup"
# Between preparing a statement and executing it: a report that dated an execution from the
# write of its Parse would add this to the first execution.
PREPARE_GAP_S = 0.03


def ms_since(t0):
    return (time.perf_counter() - t0) * 1000.0


def psy(sql):
    """psycopg 3 takes %s placeholders and sends them as $n."""
    for i in range(9, 0, -1):
        sql = sql.replace("$%d::" % i, "%s::").replace("$%d" % i, "%s")
    return sql


async def run_asyncpg():
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", port=PORT, user="postgres",
                                 database="postgres", ssl=False)
    out = {}
    await conn.fetchval(WARMUP_SQL, 1.0)
    if WORKLOAD == "sleep":
        calls = []
        for _ in range(N):
            t0 = time.perf_counter()
            await conn.fetchval(SLEEP_SQL, 0.05)
            calls.append(ms_since(t0))
        out["calls"] = calls
    elif WORKLOAD == "prepared":
        stmt = await conn.prepare(PREPARED_SQL)
        await asyncio.sleep(PREPARE_GAP_S)
        calls = []
        for i in range(N):
            t0 = time.perf_counter()
            await stmt.fetchrow(i)
            calls.append(ms_since(t0))
        out["calls"] = calls
    elif WORKLOAD == "batch":
        rows = [(i, "row %d" % i) for i in range(N)]
        t0 = time.perf_counter()
        await conn.executemany(INSERT_SQL, rows)
        out["batch_ms"] = ms_since(t0)
        async with conn.transaction():
            t0 = time.perf_counter()
            await conn.fetchval(AFTER_SQL, 0.05)
            out["after_ms"] = ms_since(t0)
    else:
        raise SystemExit("asyncpg: unknown workload " + WORKLOAD)
    await conn.close()
    return out


def run_psycopg():
    import psycopg

    conn = psycopg.connect("host=127.0.0.1 port=%d user=postgres dbname=postgres "
                           "sslmode=disable" % PORT, autocommit=True)
    cur = conn.cursor()
    out = {}
    cur.execute(psy(WARMUP_SQL), (1.0,))
    cur.fetchall()
    if WORKLOAD == "sleep":
        calls = []
        for _ in range(N):
            t0 = time.perf_counter()
            cur.execute(psy(SLEEP_SQL), (0.05,))
            cur.fetchall()
            calls.append(ms_since(t0))
        out["calls"] = calls
    elif WORKLOAD == "prepared":
        calls = []
        for i in range(N):
            t0 = time.perf_counter()
            # prepare=True: a named server-side statement from the first call on (Parse+Sync,
            # then Bind/Describe/Execute/Sync; later calls only the latter).
            cur.execute(psy(PREPARED_SQL), (i,), prepare=True)
            cur.fetchall()
            calls.append(ms_since(t0))
        out["calls"] = calls
    elif WORKLOAD in ("batch", "pipeline"):
        rows = [(i, "row %d" % i) for i in range(N)]
        t0 = time.perf_counter()
        with conn.pipeline() as p:
            if WORKLOAD == "batch":
                cur.executemany(psy(INSERT_SQL), rows)
            else:
                for r in rows:
                    cur.execute(psy(INSERT_SQL), r)
                p.sync()
        out["batch_ms"] = ms_since(t0)
        with conn.transaction():
            t0 = time.perf_counter()
            cur.execute(psy(AFTER_SQL), (0.05,))
            cur.fetchall()
            out["after_ms"] = ms_since(t0)
    else:
        raise SystemExit("psycopg: unknown workload " + WORKLOAD)
    conn.close()
    return out


if DRIVER == "asyncpg":
    result = asyncio.run(run_asyncpg())
elif DRIVER == "psycopg":
    result = run_psycopg()
else:
    raise SystemExit("unknown driver " + DRIVER)
with open(OUT, "w") as f:
    json.dump(result, f)
