# SPDX-License-Identifier: GPL-2.0-only
"""sloprobe demo shop: a small FastAPI service over PostgreSQL.

Run from this directory with the database of schema.sql:

    DEMO_DSN=postgresql+psycopg2://postgres@127.0.0.1:55432/demo \
        /usr/bin/python3 -m uvicorn app:app --workers 2 --host 127.0.0.1 --port 8000

Endpoints, cheapest first (one client, no other load, 2-core VM):

    GET  /health                  ~0.25 ms  no database
    GET  /items/{item_id}         ~0.5 ms   primary-key lookup; 404 when the id does not exist
    POST /orders                  ~0.8 ms   one INSERT ... SELECT; 201, 404 for an unknown
                                            user or item, 409 on a reused Idempotency-Key
    GET  /items?limit=&offset=    3-5 ms    newest items: top-N sort of the 20000-row table
                                            (no index on created_at) plus a count(*)
    GET  /users/{user_id}/quota   ~3.5 ms   aggregate over all ~100000 orders (no index on
                                            user_id: a full scan); 429 with Retry-After when
                                            the user placed more orders in 24 h than allowed

The handlers are plain `def` functions, so FastAPI runs them in its thread pool and every
request holds a pooled database connection while it runs. The pool is sized by
DEMO_POOL_SIZE (5), DEMO_POOL_MAX_OVERFLOW (5) and DEMO_POOL_TIMEOUT (10 s) per worker.
"""

import logging
import math
import os
import socket
from typing import Optional

from fastapi import FastAPI, Header, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

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

# One engine (and pool) per worker process: uvicorn imports this module in each worker and no
# connection is opened before the first request.
engine = create_engine(
    DSN,
    future=True,
    pool_size=_env_int("DEMO_POOL_SIZE", 5),
    max_overflow=_env_int("DEMO_POOL_MAX_OVERFLOW", 5),
    pool_timeout=_env_int("DEMO_POOL_TIMEOUT", 10),
    pool_recycle=1800,
    connect_args={"application_name": "sloprobe-demo", "connect_timeout": 5},
)

ITEM_COLUMNS = "id, sku, name, category, price_cents, stock, created_at, updated_at"

SQL_ITEM = text(f"SELECT {ITEM_COLUMNS} FROM items WHERE id = :id")
SQL_ITEMS_PAGE = text(
    f"SELECT {ITEM_COLUMNS} FROM items"
    " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset"
)
SQL_ITEMS_COUNT = text("SELECT count(*) FROM items")
SQL_USER = text("SELECT id, username, plan, daily_limit FROM users WHERE id = :id")
# Full scan of orders: there is no index on user_id.
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
SQL_INSERT_ORDER = text(
    """
    INSERT INTO orders (user_id, item_id, qty, unit_price_cents, idempotency_key)
    SELECT :user_id, i.id, :qty, i.price_cents, :key
    FROM items i
    WHERE i.id = :item_id
    RETURNING id, user_id, item_id, qty, unit_price_cents, status, created_at
    """
)

app = FastAPI(title="sloprobe demo shop", version="1.0")


class OrderIn(BaseModel):
    user_id: int = Field(..., ge=1, le=INT4_MAX)
    item_id: int = Field(..., ge=1, le=INT4_MAX)
    qty: int = Field(1, ge=1, le=100)


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


@app.get("/items")
def list_items(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0, le=100000)):
    with engine.connect() as conn:
        rows = conn.execute(SQL_ITEMS_PAGE, {"limit": limit, "offset": offset}).mappings().all()
        total = conn.execute(SQL_ITEMS_COUNT).scalar_one()
    return {"total": total, "limit": limit, "offset": offset, "items": [dict(r) for r in rows]}


@app.get("/items/{item_id}")
def get_item(item_id: int = Path(..., ge=1, le=INT4_MAX)):
    with engine.connect() as conn:
        row = conn.execute(SQL_ITEM, {"id": item_id}).mappings().first()
    if row is None:
        raise HTTPException(status_code=404, detail="item not found")
    return dict(row)


@app.get("/users/{user_id}/quota")
def user_quota(user_id: int = Path(..., ge=1, le=INT4_MAX)):
    with engine.connect() as conn:
        user = conn.execute(SQL_USER, {"id": user_id}).mappings().first()
        if user is None:
            raise HTTPException(status_code=404, detail="user not found")
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
    result = dict(row)
    result["total_cents"] = row["qty"] * row["unit_price_cents"]
    return result
