# SPDX-License-Identifier: GPL-2.0-only
"""FastAPI sync endpoints under uvicorn: the event loop reads each request and hands it to a
thread-pool worker, which sends the queries. A known number of queries per endpoint:

    handoffapp.py HTTP_PORT PG_PORT [REDIS_PORT PROVIDER_PORT]

GET /health  none
GET /one     1
GET /pair    2 different queries
GET /list    1 + 20 (an N+1), each query a little slow so that requests overlap
With Redis and a provider (an HTTP server answering GET /items/ID):
GET /cached  2 Redis GETs: hit:ID (set beforehand by the test) and miss:ID (never set)
GET /pay     1 query, 1 GET of the provider's /items/ID (a new connection), 1 Redis INCR
GET /retry   GET of the provider's /boom (500) with urllib3's Retry(total=2): 3 attempts, the
             first retry at once, the second after 100 ms (urllib3 1.26), then it gives up
Prints "ready" once it serves.
"""
import socket
import sys
import threading
import time

import urllib.request

import fastapi
import sqlalchemy
import uvicorn

PORT, PG = int(sys.argv[1]), int(sys.argv[2])
# Autocommit: no BEGIN/ROLLBACK around each request, so the counts are exactly the above.
engine = sqlalchemy.create_engine(
    "postgresql+psycopg2://postgres@127.0.0.1:%d/postgres?sslmode=disable" % PG,
    pool_size=10, isolation_level="AUTOCOMMIT")
app = fastapi.FastAPI()
cache = None
if len(sys.argv) > 4:
    import redis

    import urllib3

    cache = redis.Redis(host="127.0.0.1", port=int(sys.argv[3]))
    PROVIDER = "http://127.0.0.1:%d/items/" % int(sys.argv[4])
    BOOM = "http://127.0.0.1:%d/boom" % int(sys.argv[4])
    pool = urllib3.PoolManager(maxsize=40)
    RETRY = urllib3.Retry(total=2, backoff_factor=0.05, status_forcelist=[500],
                          raise_on_status=False)


def run(*queries):
    with engine.connect() as c:
        return [c.exec_driver_sql(q).fetchall()[0][0] for q in queries]


@app.get("/health")
def health():
    return {"ok": True}


@app.get("/one")
def one():
    return run("select count(*) from items")


@app.get("/pair")
def pair():
    return run("select min(id) from items", "select max(id) from items")


@app.get("/list")
def list_items():
    with engine.connect() as c:
        ids = [r[0] for r in c.exec_driver_sql("select id from items order by id limit 20")]
        return [c.exec_driver_sql(
            "select name from items, pg_sleep(0.0005) where id = %d" % i).fetchall()[0][0]
            for i in ids]


@app.get("/cached/{n}")
def cached(n: int):
    return [cache.get("hit:%d" % n), cache.get("miss:%d" % n)]


@app.get("/pay/{n}")
def pay(n: int):
    run("select count(*) from items")
    with urllib.request.urlopen(PROVIDER + str(n), timeout=10) as r:
        r.read()
    return cache.incr("paid")


@app.get("/retry/{n}")
def retry(n: int):
    return pool.request("GET", BOOM, retries=RETRY).status


def announce():
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", PORT), 0.1).close()
            print("ready", flush=True)
            return
        except OSError:
            time.sleep(0.05)


threading.Thread(target=announce, daemon=True).start()
uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=PORT, log_level="warning",
                              access_log=False)).run()
