# SPDX-License-Identifier: GPL-2.0-only
"""Known PostgreSQL workloads from real drivers, for tests/integration/test_pg.py.

    pgclients.py DRIVER PORT WORKLOAD [N]

DRIVER: psycopg2 (libpq PQexec), psycopg (psycopg 3: PQsendQueryParams), asyncpg (its own
wire protocol, named prepared statements). WORKLOAD:
    sleep N      N x "select pg_sleep(0.05)" on one connection, each timed by the client:
                 a line "SLEEP <seconds>" per query
    prepared N   N executions of one prepared statement (server-side prepare)
    error        "select 1/0" (SQLSTATE 22012), then "select 1"
    nopool N     N connections, one "select 1" each
Prints "done" on success; any failure is an exception (exit status 1).
"""
import asyncio
import sys
import time

DRIVER, PORT, WORKLOAD = sys.argv[1], int(sys.argv[2]), sys.argv[3]
N = int(sys.argv[4]) if len(sys.argv) > 4 else 1
DSN = "host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable" % PORT


def run_sync(connect):
    def one(sql, params=None):
        cur = conn.cursor()
        cur.execute(sql, params)
        if cur.description:
            cur.fetchall()

    if WORKLOAD == "nopool":
        for _ in range(N):
            c = connect()
            c.autocommit = True
            c.cursor().execute("select 1")
            c.close()
        return
    conn = connect()
    conn.autocommit = True
    if WORKLOAD == "sleep":
        for _ in range(N):
            t = time.monotonic()
            one("select pg_sleep(0.05)")
            print("SLEEP %.6f" % (time.monotonic() - t), flush=True)
    elif WORKLOAD == "prepared":
        if DRIVER == "psycopg":
            cur = conn.cursor()
            for i in range(N):
                cur.execute("select %s::int + 1", (i,), prepare=True)
                cur.fetchall()
        else:
            one("prepare plus1 (int) as select $1 + 1")
            for i in range(N):
                one("execute plus1 (%d)" % i)
    elif WORKLOAD == "error":
        try:
            one("select 1/0")
        except Exception:
            pass
        else:
            raise SystemExit("no error")
        one("select 1")
    conn.close()


async def run_asyncpg():
    import asyncpg

    if WORKLOAD == "nopool":
        for _ in range(N):
            c = await asyncpg.connect(host="127.0.0.1", port=PORT, user="postgres", ssl=False)
            await c.fetchval("select 1")
            await c.close()
        return
    conn = await asyncpg.connect(host="127.0.0.1", port=PORT, user="postgres", ssl=False)
    if WORKLOAD == "sleep":
        for _ in range(N):
            t = time.monotonic()
            await conn.execute("select pg_sleep(0.05)")
            print("SLEEP %.6f" % (time.monotonic() - t), flush=True)
    elif WORKLOAD == "prepared":
        stmt = await conn.prepare("select $1::int + 1")
        for i in range(N):
            await stmt.fetchval(i)
    elif WORKLOAD == "error":
        try:
            await conn.fetchval("select 1/0")
        except asyncpg.exceptions.DivisionByZeroError:
            pass
        else:
            raise SystemExit("no error")
        await conn.fetchval("select 1")
    await conn.close()


if DRIVER == "psycopg2":
    import psycopg2

    run_sync(lambda: psycopg2.connect(DSN))
elif DRIVER == "psycopg":
    import psycopg

    run_sync(lambda: psycopg.connect(DSN))
elif DRIVER == "asyncpg":
    asyncio.run(run_asyncpg())
else:
    raise SystemExit("unknown driver " + DRIVER)
print("done")
