# SPDX-License-Identifier: GPL-2.0-only
"""sloprobe demo shop: a small FastAPI service over PostgreSQL, with a Redis cache and a payment
provider to call, in two modes.

Run from this directory with the database of schema.sql (and tuned.sql for the tuned mode), a
Redis server and the fake provider of provider.py:

    DEMO_MODE=baseline DEMO_DSN=postgresql+psycopg2://postgres@127.0.0.1:55432/demo \
    DEMO_REDIS_URL=redis://127.0.0.1:56379/0 DEMO_PAYMENT_URL=http://127.0.0.1:58080 \
        /usr/bin/python3 -m uvicorn app:app --workers 2 --host 127.0.0.1 --port 8000

DEMO_MODE=baseline (the default) carries the database, cache and retry anti-patterns that
sloprobe flags; DEMO_MODE=tuned is the same API with them fixed. Same routes, same answers:

    GET  /health                  no database
    GET  /items/{item_id}         baseline: SELECT * by primary key; a Redis read first, under
                                  a key that holds the request's id (every read misses) and a
                                  SET without TTL after it
                                  tuned: named columns, behind Redis (item:{id}, with a TTL)
    GET  /items?limit=&offset=    baseline: SELECT * ... ORDER BY created_at LIMIT n OFFSET m
                                  (no index: a sort of the 20000 items; OFFSET up to 2000)
                                  plus a count(*)
                                  tuned: index on items(created_at, id), keyset from a cached
                                  page bookmark (OFFSET below 100), cached count
    GET  /users/{user_id}/quota   baseline: user (twice: a redundant query, and two Redis
                                  reads of user:{id}:plan, which nothing writes: the SETs go
                                  to user:{id}, without TTL) + an aggregate over all ~100000
                                  orders (no index on user_id: a full scan, the slow query)
                                  tuned: user:{id}:plan read once from Redis (warmed at
                                  startup, with a TTL), index on orders(user_id, created_at)
                                  429 with Retry-After when the user is over the daily quota
    GET  /users/{user_id}/orders  the last 20 orders of a user with their items
                                  baseline: user (twice, as above), orders (full scan), then
                                  one items lookup per order (N+1)
                                  tuned: user from Redis and one JOIN over the index
    GET  /stats/daily             orders and revenue per day over the last 7 days
                                  baseline: a new psycopg2 connection per request (no pooling)
                                  tuned: the pool, and the result cached for a minute
    POST /orders                  one INSERT ... SELECT in both modes, then a charge at the
                                  payment provider; 201, 404 for an unknown user or item, 409
                                  on a reused Idempotency-Key, 502 when the charge failed
                                  baseline: retries at once, up to 5 attempts, 10 s timeout
                                  tuned: urllib3 Retry with backoff (3 retries), 0.25 s timeout

The handlers are plain `def` functions, so FastAPI runs them in its thread pool and every
request holds a pooled database connection while it runs. The pool is sized by
DEMO_POOL_SIZE (10), DEMO_POOL_MAX_OVERFLOW (10) and DEMO_POOL_TIMEOUT (10 s) per worker. The
in-process caches keep the daily statistics 12 times DEMO_CACHE_TTL seconds (5) and the page
bookmarks 60 times as long; both are loaded at startup. Redis entries of the tuned mode live
DEMO_REDIS_TTL seconds (300).
"""

import json
import logging
import math
import os
import socket
import threading
import time
import uuid
from typing import Optional

import psycopg2
import redis
import urllib3
from fastapi import FastAPI, Header, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from urllib3.util.retry import Retry

log = logging.getLogger("uvicorn.error")

INT4_MAX = 2**31 - 1  # ids beyond this would make PostgreSQL fail instead of answering 404

# SQLSTATE codes (psycopg2 puts them in exc.orig.pgcode)
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


DSN = os.environ.get("DEMO_DSN", "")
if not DSN:
    raise RuntimeError("DEMO_DSN is not set (postgresql+psycopg2://USER@HOST:PORT/DB)")
MODE = os.environ.get("DEMO_MODE", "baseline") or "baseline"
if MODE not in ("baseline", "tuned"):
    raise RuntimeError(f"DEMO_MODE must be baseline or tuned, not {MODE!r}")
TUNED = MODE == "tuned"
CACHE_TTL = _env_int("DEMO_CACHE_TTL", 5)
REDIS_URL = os.environ.get("DEMO_REDIS_URL", "")
if not REDIS_URL:
    raise RuntimeError("DEMO_REDIS_URL is not set (redis://HOST:PORT/DB)")
REDIS_TTL = _env_int("DEMO_REDIS_TTL", 300)
PAYMENT_URL = os.environ.get("DEMO_PAYMENT_URL", "")
if not PAYMENT_URL:
    raise RuntimeError("DEMO_PAYMENT_URL is not set (http://HOST:PORT of provider.py)")

# One engine (and pool) per worker process: uvicorn imports this module in each worker and no
# connection is opened before the first request.
engine = create_engine(
    DSN,
    future=True,
    pool_size=_env_int("DEMO_POOL_SIZE", 10),
    max_overflow=_env_int("DEMO_POOL_MAX_OVERFLOW", 10),
    pool_timeout=_env_int("DEMO_POOL_TIMEOUT", 10),
    pool_recycle=1800,
    # Tuned: autocommit. Every request here is a single statement or only reads, so the
    # BEGIN before the first query and the ROLLBACK (COMMIT) when the connection goes back to
    # the pool are two round trips for nothing.
    isolation_level="AUTOCOMMIT" if TUNED else None,
    connect_args={"application_name": f"sloprobe-demo-{MODE}", "connect_timeout": 5},
)
# libpq keywords of the same database, for the baseline's unpooled connections.
PG_ARGS = engine.url.translate_connect_args(username="user", database="dbname")

# One client (and connection pool) per worker, shared by the handler threads. A cache that does
# not answer within a second is treated as down: the request fails rather than hangs.
cache = redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)

# The payment provider, over one urllib3 pool per worker (thread-safe; as many connections as
# FastAPI has handler threads). Baseline: a loop that retries a 503 at once, up to 5
# attempts, with a 10 s timeout: against a provider that sheds load for a moment, all the
# attempts land inside that moment and the order fails; a stalled answer is waited out.
# Tuned: urllib3's Retry, which sleeps backoff_factor * 2^(n-1) between consecutive failures
# (urllib3 1.26 repeats the first failure at once: 0, then 100 ms, 200 ms), and a read
# timeout just above the provider's normal answer, so a stall costs 250 ms and a retry. POST
# is not retried by default: the Idempotency-Key sent with every attempt makes it safe here
# (the provider charges a key once).
PAYMENT_ATTEMPTS = 1 if TUNED else 5
if TUNED:
    PAYMENT_RETRIES = Retry(total=3, backoff_factor=0.05, status_forcelist=[503],
                            allowed_methods=frozenset({"POST"}), raise_on_status=False)
    PAYMENT_TIMEOUT = urllib3.Timeout(connect=0.1, read=0.25)
else:
    PAYMENT_RETRIES = False
    PAYMENT_TIMEOUT = urllib3.Timeout(connect=10, read=10)
payment = urllib3.PoolManager(num_pools=1, maxsize=40)

ITEM_COLUMNS = "id, sku, name, category, price_cents, stock, created_at, updated_at"
USER_COLUMNS = "id, username, plan, daily_limit"
ORDER_COLUMNS = "id, item_id, qty, unit_price_cents, status, created_at"

# Baseline: every column, whether the client needs it or not.
SQL_ITEM_STAR = text("SELECT * FROM items WHERE id = :id")
SQL_ITEMS_PAGE_STAR = text(
    "SELECT * FROM items ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset"
)
SQL_ITEM = text(f"SELECT {ITEM_COLUMNS} FROM items WHERE id = :id")
# Tuned: a page starts at a bookmark (the row at a multiple of BOOKMARK_STEP), so the server
# walks the index from there and skips fewer than BOOKMARK_STEP rows.
BOOKMARK_STEP = 100
SQL_ITEMS_PAGE = text(
    f"SELECT {ITEM_COLUMNS} FROM items"
    " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :skip"
)
SQL_ITEMS_PAGE_AFTER = text(
    f"SELECT {ITEM_COLUMNS} FROM items WHERE (created_at, id) <= (:created_at, :id)"
    " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :skip"
)
SQL_ITEMS_BOOKMARKS = text(
    f"""
    SELECT rn, created_at, id
    FROM (SELECT created_at, id,
                 row_number() OVER (ORDER BY created_at DESC, id DESC) - 1 AS rn
          FROM items) AS r
    WHERE rn % {BOOKMARK_STEP} = 0 AND rn > 0
    """
)
SQL_ITEMS_COUNT = text("SELECT count(*) FROM items")
SQL_USER = text(f"SELECT {USER_COLUMNS} FROM users WHERE id = :id")
# Without the index of tuned.sql on orders(user_id, ...), a full scan of orders.
SQL_USAGE = text(
    """
    SELECT count(*) FILTER (WHERE created_at > now() - interval '24 hours') AS used_24h,
           min(created_at) FILTER (WHERE created_at > now() - interval '24 hours')
               + interval '24 hours' - now() AS oldest_expires_in,
           count(*) AS lifetime_orders,
           coalesce(sum(qty * unit_price_cents), 0) AS lifetime_spent_cents
    FROM orders
    WHERE user_id = :id
    """
)
SQL_USER_ORDERS = text(
    f"SELECT {ORDER_COLUMNS} FROM orders WHERE user_id = :id"
    " ORDER BY created_at DESC, id DESC LIMIT :limit"
)
SQL_ORDER_ITEM = text("SELECT id, sku, name, category FROM items WHERE id = :id")
SQL_USER_ORDERS_JOIN = text(
    """
    SELECT o.id, o.item_id, o.qty, o.unit_price_cents, o.status, o.created_at,
           i.sku, i.name, i.category
    FROM orders o
    JOIN items i ON i.id = o.item_id
    WHERE o.user_id = :id
    ORDER BY o.created_at DESC, o.id DESC
    LIMIT :limit
    """
)
SQL_DAILY = """
    SELECT to_char(date_trunc('day', created_at), 'YYYY-MM-DD') AS day,
           count(*) AS orders, coalesce(sum(qty * unit_price_cents), 0) AS revenue_cents
    FROM orders
    WHERE created_at > now() - interval '7 days'
    GROUP BY 1
    ORDER BY 1
"""
SQL_INSERT_ORDER = text(
    """
    INSERT INTO orders (user_id, item_id, qty, unit_price_cents, idempotency_key)
    SELECT :user_id, i.id, :qty, i.price_cents, :key
    FROM items i
    WHERE i.id = :item_id
    RETURNING id, user_id, item_id, qty, unit_price_cents, status, created_at
    """
)

USER_ORDERS_LIMIT = 20
USER_WARM_SQL = text(f"SELECT {USER_COLUMNS} FROM users")

app = FastAPI(title="sloprobe demo shop", version="1.1")


class TTLCache:
    """A tiny per-process cache with a fixed time to live. Entries expire, they are never
    invalidated: fine for data that may be a few seconds stale (users, catalogue, stats)."""

    def __init__(self, ttl: float, max_entries: int = 50000):
        self.ttl = ttl
        self.max_entries = max_entries
        self.data = {}
        self.lock = threading.Lock()

    def get(self, key, load):
        now = time.monotonic()
        with self.lock:
            hit = self.data.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        # Loaded outside the lock: two threads may both load a missing key, which is cheaper
        # than serializing every miss.
        value = load()
        with self.lock:
            if len(self.data) >= self.max_entries:
                self.data.clear()
            self.data[key] = (now + self.ttl, value)
        return value


# Page bookmarks and the item count: the catalogue changes rarely, a stale bookmark only
# shifts a deep page by the items added since.
page_cache = TTLCache(60 * CACHE_TTL)
# Statistics over days may be a minute old.
stats_cache = TTLCache(12 * CACHE_TTL)


class OrderIn(BaseModel):
    user_id: int = Field(..., ge=1, le=INT4_MAX)
    item_id: int = Field(..., ge=1, le=INT4_MAX)
    qty: int = Field(1, ge=1, le=100)


@app.on_event("startup")
def _announce_mode():
    log.info("demo shop in %s mode", MODE)
    if not TUNED:
        return
    # Warm the caches of the expensive, rarely changing answers before taking traffic.
    with engine.connect() as conn:
        page_cache.get("bookmarks", lambda: _bookmarks(conn))
        page_cache.get("count", lambda: conn.execute(SQL_ITEMS_COUNT).scalar_one())
        stats_cache.get("daily", lambda: _daily(conn.exec_driver_sql(SQL_DAILY).all()))
        users = conn.execute(USER_WARM_SQL).mappings().all()
    # The users' plans are read on every quota and orders request, evenly over all 2000 users:
    # filled on demand, a 20 s run would meet most users once and miss half of its reads.
    # The table is small, so it goes to Redis whole, in one pipeline (both workers do it; the
    # second one only renews the entries).
    pipe = cache.pipeline(transaction=False)
    for user in users:
        pipe.set(_plan_key(user["id"]), _dumps(dict(user)), ex=REDIS_TTL)
    pipe.execute()
    log.info("%d user plans cached in Redis", len(users))


@app.on_event("startup")
def _nodelay_on_listeners():
    """Work around uvicorn#3149: with --workers N the listening socket is created with proto 0,
    so asyncio does not set TCP_NODELAY on accepted connections, and every keep-alive request
    after the first waits ~40 ms (Nagle against the client's delayed ACK) for the body of
    its response. Accepted sockets inherit TCP_NODELAY from the listener on Linux, so set it
    on the listening socket this worker inherited (bound, not connected; it may not be
    listening yet when the first worker starts). DEMO_TCP_NODELAY=0 leaves it alone, to see
    the stall."""
    if os.environ.get("DEMO_TCP_NODELAY", "1") == "0":
        return
    for name in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            sock = socket.fromfd(int(name), socket.AF_INET, socket.SOCK_STREAM)  # a dup
        except OSError:
            continue
        with sock:
            try:
                domain = sock.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN)
                if domain not in (socket.AF_INET, socket.AF_INET6):
                    continue
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) != socket.IPPROTO_TCP:
                    continue
                try:
                    sock.getpeername()
                    continue  # a connection, not the listener
                except OSError:
                    pass
                if not sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    log.info("TCP_NODELAY set on listening socket %s:%s", *sock.getsockname()[:2])
            except OSError:
                pass


@app.get("/health")
def health():
    return {"status": "ok"}


def _row(row):
    return dict(row) if row is not None else None


def _dumps(value) -> str:
    # Rows hold datetimes: stored as FastAPI renders them, so a cached answer is the same.
    return json.dumps(value, default=lambda v: v.isoformat())


def _plan_key(user_id: int) -> str:
    return f"user:{user_id}:plan"


def _load_user(conn, user_id: int):
    return _row(conn.execute(SQL_USER, {"id": user_id}).mappings().first())


def _cached_user_baseline(conn, user_id: int):
    """The first version's cache-aside, with its writer and reader disagreeing on the key: the
    plan is looked for under user:{id}:plan and stored under user:{id}, with no TTL. Every
    read misses, and the entries written are never read nor expire."""
    hit = cache.get(_plan_key(user_id))
    if hit is not None:
        return json.loads(hit)
    user = _load_user(conn, user_id)
    if user is not None:
        cache.set(f"user:{user_id}", _dumps(user))
    return user


def _user(conn, user_id: int):
    """The user, or 404. Tuned: one read of the plan cache (a user that does not exist is
    cached too, as null). Baseline: looked up twice, as when one helper checks that the user
    exists and another loads it again to render it: two reads of the same key in one request,
    and after each miss the same query with the same id, a redundant round trip."""
    if TUNED:
        hit = cache.get(_plan_key(user_id))
        if hit is not None:
            user = json.loads(hit)
        else:
            user = _load_user(conn, user_id)
            cache.set(_plan_key(user_id), _dumps(user), ex=REDIS_TTL)
    else:
        user = _cached_user_baseline(conn, user_id)
        if user is not None:
            user = _cached_user_baseline(conn, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="user not found")
    return user


def _bookmarks(conn):
    rows = conn.execute(SQL_ITEMS_BOOKMARKS).mappings().all()
    return {r["rn"]: (r["created_at"], r["id"]) for r in rows}


@app.get("/items")
def list_items(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0, le=100000)):
    with engine.connect() as conn:
        if not TUNED:
            page = conn.execute(SQL_ITEMS_PAGE_STAR, {"limit": limit, "offset": offset})
            rows = [{k: r[k] for k in ITEM_COLUMNS.split(", ")} for r in page.mappings()]
            total = conn.execute(SQL_ITEMS_COUNT).scalar_one()
        else:
            start = offset - offset % BOOKMARK_STEP
            mark = page_cache.get("bookmarks", lambda: _bookmarks(conn)).get(start)
            params = {"limit": limit, "skip": offset - start}
            if mark is None:  # the first page, or beyond the last bookmark
                params["skip"] = offset
                rows = conn.execute(SQL_ITEMS_PAGE, params).mappings().all()
            else:
                params["created_at"], params["id"] = mark
                rows = conn.execute(SQL_ITEMS_PAGE_AFTER, params).mappings().all()
            rows = [dict(r) for r in rows]
            total = page_cache.get(
                "count", lambda: conn.execute(SQL_ITEMS_COUNT).scalar_one())
    return {"total": total, "limit": limit, "offset": offset, "items": rows}


@app.get("/items/{item_id}")
def get_item(item_id: int = Path(..., ge=1, le=INT4_MAX)):
    if TUNED:
        # Cache-aside with a TTL; an id that does not exist is cached too (as null).
        key = f"item:{item_id}"
        hit = cache.get(key)
        if hit is not None:
            row = json.loads(hit)
        else:
            with engine.connect() as conn:
                row = _row(conn.execute(SQL_ITEM, {"id": item_id}).mappings().first())
            cache.set(key, _dumps(row), ex=REDIS_TTL)
    else:
        # The key is built from the request's context, its id included, so no two requests
        # share an entry: every read misses, and every entry, written without a TTL, stays.
        key = f"item:{item_id}:{uuid.uuid4().hex}"
        hit = cache.get(key)
        if hit is not None:
            row = json.loads(hit)
        else:
            with engine.connect() as conn:
                row = _row(conn.execute(SQL_ITEM_STAR, {"id": item_id}).mappings().first())
            cache.set(key, _dumps(row))
    if row is None:
        raise HTTPException(status_code=404, detail="item not found")
    return row


@app.get("/users/{user_id}/quota")
def user_quota(user_id: int = Path(..., ge=1, le=INT4_MAX)):
    with engine.connect() as conn:
        user = _user(conn, user_id)
        usage = conn.execute(SQL_USAGE, {"id": user_id}).mappings().one()

    limit = user["daily_limit"]
    used = usage["used_24h"]
    body = {
        "user_id": user["id"],
        "username": user["username"],
        "plan": user["plan"],
        "daily_limit": limit,
        "used_24h": used,
        "remaining": max(limit - used, 0),
        "lifetime_orders": usage["lifetime_orders"],
        "lifetime_spent_cents": int(usage["lifetime_spent_cents"]),
    }
    if used > limit:
        expires = usage["oldest_expires_in"]
        retry_after = max(1, math.ceil(expires.total_seconds())) if expires is not None else 3600
        body["detail"] = "order quota exceeded"
        headers = {"Retry-After": str(retry_after)}
        return JSONResponse(status_code=429, content=body, headers=headers)
    return body


ORDER_KEYS = ("id", "item_id", "qty", "unit_price_cents", "status", "created_at")
ITEM_KEYS = ("sku", "name", "category")


@app.get("/users/{user_id}/orders")
def user_orders(user_id: int = Path(..., ge=1, le=INT4_MAX)):
    params = {"id": user_id, "limit": USER_ORDERS_LIMIT}
    with engine.connect() as conn:
        user = _user(conn, user_id)
        if TUNED:
            rows = conn.execute(SQL_USER_ORDERS_JOIN, params).mappings().all()
            orders = [{k: r[k] for k in ORDER_KEYS} | {"item": {k: r[k] for k in ITEM_KEYS}}
                      for r in rows]
        else:
            # The ORM-style way: the orders, then each order's item lazily, one query each.
            orders = [dict(r) for r in conn.execute(SQL_USER_ORDERS, params).mappings()]
            for o in orders:
                item = conn.execute(SQL_ORDER_ITEM, {"id": o["item_id"]}).mappings().one()
                o["item"] = {k: item[k] for k in ITEM_KEYS}
    return {
        "user_id": user["id"],
        "username": user["username"],
        "count": len(orders),
        "orders": orders,
    }


def _daily(rows):
    return [{"day": day, "orders": n, "revenue_cents": int(revenue)} for day, n, revenue in rows]


@app.get("/stats/daily")
def daily_stats():
    if TUNED:
        def load():
            with engine.connect() as conn:
                return _daily(conn.exec_driver_sql(SQL_DAILY).all())
        days = stats_cache.get("daily", load)
    else:
        # A fresh connection per request: TCP and backend start-up every time.
        pg = psycopg2.connect(**PG_ARGS, application_name="sloprobe-demo-stats",
                              connect_timeout=5)
        try:
            with pg.cursor() as cur:
                cur.execute(SQL_DAILY)
                days = _daily(cur.fetchall())
        finally:
            pg.close()
    return {"days": days}


def _charge(order_id: int, amount_cents: int, key: str) -> bool:
    """Charges the order at the provider; False when it would not (after the retries)."""
    body = json.dumps({"order_id": order_id, "amount_cents": amount_cents}).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": key}
    for _ in range(PAYMENT_ATTEMPTS):
        try:
            resp = payment.request("POST", PAYMENT_URL + "/v1/charges", body=body,
                                   headers=headers, retries=PAYMENT_RETRIES,
                                   timeout=PAYMENT_TIMEOUT)
        except urllib3.exceptions.HTTPError as exc:
            log.warning("payment of order %d failed: %s", order_id, type(exc).__name__)
            return False
        if resp.status != 503:
            return resp.status == 200
    return False


@app.post("/orders", status_code=201)
def create_order(order: OrderIn, idempotency_key: Optional[str] = Header(None, max_length=128)):
    params = {
        "user_id": order.user_id,
        "item_id": order.item_id,
        "qty": order.qty,
        "key": idempotency_key,
    }
    try:
        with engine.begin() as conn:
            row = conn.execute(SQL_INSERT_ORDER, params).mappings().first()
    except IntegrityError as exc:
        code = getattr(exc.orig, "pgcode", None)
        if code == UNIQUE_VIOLATION:
            raise HTTPException(status_code=409, detail="duplicate Idempotency-Key") from None
        if code == FOREIGN_KEY_VIOLATION:
            raise HTTPException(status_code=404, detail="user not found") from None
        raise
    if row is None:
        raise HTTPException(status_code=404, detail="item not found")
    # Charged after the commit: a transaction is never held open across a call to another
    # service. A real shop would cancel the order or charge it again from a queue when the
    # charge fails; the demo keeps POST /orders to its one statement and answers 502.
    total = row["qty"] * row["unit_price_cents"]
    if not _charge(row["id"], total, idempotency_key or f"order-{row['id']}"):
        raise HTTPException(status_code=502, detail="the payment provider did not answer")
    result = dict(row)
    result["total_cents"] = total
    return result
