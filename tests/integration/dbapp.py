# SPDX-License-Identifier: GPL-2.0-only
"""An HTTP API over PostgreSQL with a known number of queries per request.

    dbapp.py MODE HTTP_PORT PG_PORT

MODE threaded: http.server.ThreadingHTTPServer, a thread per connection that reads the
request and runs its queries (psycopg2, a connection from a pool shared by the threads: a
connect per request would take most of the request and hide what its queries cost).
MODE fastapi: FastAPI sync endpoints under uvicorn: the event loop reads the request, a
thread-pool worker runs the queries (SQLAlchemy pool over psycopg2).

GET /list   1 + 20 queries: the ids of 20 items, then each item by id (an N+1)
GET /pair   2 different queries
Prints "ready" once it serves.
"""
import sys
import threading

MODE, PORT, PG = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
DSN = "host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable" % PG
LIST = "select id from items order by id limit 20"
ONE = "select name from items where id = %s"
PAIR = ("select count(*) from items", "select max(id) from items")


def list_items(execute):
    ids = [r[0] for r in execute(LIST)]
    return [execute(ONE, (i,))[0][0] for i in ids]


def pair(execute):
    return [execute(q)[0][0] for q in PAIR]


if MODE == "threaded":
    import http.server
    import json

    import psycopg2.pool

    pool = psycopg2.pool.ThreadedConnectionPool(1, 16, DSN)

    def with_conn(fn):
        conn = pool.getconn()
        conn.autocommit = True

        def execute(sql, params=None):
            cur = conn.cursor()
            cur.execute(sql, params)
            return cur.fetchall()
        try:
            return fn(execute)
        finally:
            pool.putconn(conn)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            if self.path == "/list":
                body = json.dumps(with_conn(list_items)).encode()
            elif self.path == "/pair":
                body = json.dumps(with_conn(pair)).encode()
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    srv.daemon_threads = True
    print("ready", flush=True)
    srv.serve_forever()
elif MODE == "fastapi":
    import fastapi
    import sqlalchemy
    import uvicorn

    # Autocommit: no BEGIN/ROLLBACK around each request, so the counts are exactly the
    # queries above. One pooled connection per request, as a session would hold.
    engine = sqlalchemy.create_engine(
        "postgresql+psycopg2://postgres@127.0.0.1:%d/postgres?sslmode=disable" % PG,
        pool_size=10, isolation_level="AUTOCOMMIT")
    app = fastapi.FastAPI()

    def with_conn(fn):
        with engine.connect() as c:
            return fn(lambda sql, params=None: c.exec_driver_sql(sql, params).fetchall())

    @app.get("/list")
    def get_list():
        return with_conn(list_items)

    @app.get("/pair")
    def get_pair():
        return with_conn(pair)

    config = uvicorn.Config(app, host="127.0.0.1", port=PORT, log_level="warning",
                            access_log=False)
    server = uvicorn.Server(config)

    def announce():
        import socket
        import time
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", PORT), 0.1).close()
                print("ready", flush=True)
                return
            except OSError:
                time.sleep(0.05)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
else:
    raise SystemExit("unknown mode " + MODE)
