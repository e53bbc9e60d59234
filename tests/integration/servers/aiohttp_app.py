# SPDX-License-Identifier: GPL-2.0-only
"""aiohttp's own server (asyncio) serving the conformance API.

  python3 aiohttp_app.py PORT LOG LOWER_LOG

LOG is aiohttp's access log with %Tf, the server's own measure: the time from taking the
parsed request head off the connection to the end of write_eof(), in seconds with
microseconds. LOWER_LOG gets "METHOD TARGET STATUS LOWER_MS" from a middleware: from the
handler's start (the head has been read) to the moment before the response's last write (the
handler's return for a plain Response, which aiohttp writes after; for a stream, before its
last write() call). Both ends lie inside the interval from the read of the head to the return
of the last write: a lower bound of that interval.

How aiohttp writes (strace, aiohttp 3.8, one sendto per transport write):
  - web.Response: sendto(head + body), Content-Length;
  - /stream (chunked): sendto(head), one sendto("65\r\n" + data + "\r\n") per chunk, then
    the terminator alone: sendto("0\r\n\r\n");
  - HTTP/1.0 /stream: sendto(head), sendto(data) per chunk, then the close.
"""
import asyncio
import logging
import sys
import time

from aiohttp import web

CHUNK = b"c" * 100 + b"\n"
routes = web.RouteTableDef()


@routes.get(r"/delay/{ms:\d+}")
async def delay(request):
    ms = int(request.match_info["ms"])
    await asyncio.sleep(ms / 1000.0)
    return web.Response(text="delayed %d\n" % ms)


@routes.get(r"/stream/{n:\d+}")
async def stream(request):
    # No length: aiohttp chunks on HTTP/1.1 and closes on HTTP/1.0.
    resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await resp.prepare(request)
    for _ in range(int(request.match_info["n"])):
        await asyncio.sleep(0.010)
        request["before_last_write"] = time.monotonic()
        await resp.write(CHUNK)
    await resp.write_eof()
    return resp


@routes.get("/missing/{ident}")
async def missing(request):
    return web.Response(status=404, text="not found\n")


@routes.get("/boom")
async def boom(request):
    return web.Response(status=500, text="boom\n")


@routes.post("/echo")
async def echo(request):
    body = await request.read()
    return web.Response(status=201, text="%d\n" % len(body))


def lower_bound(path):
    @web.middleware
    async def log(request, handler):
        t0 = time.monotonic()
        resp = await handler(request)
        end = request.get("before_last_write") or time.monotonic()
        with open(path, "a") as f:
            f.write("%s %s %d %.3f\n" % (request.method, request.path_qs, resp.status,
                                         (end - t0) * 1000))
        return resp
    return log


def main():
    port, log_path, lower_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    access = logging.getLogger("conformance.access")
    access.setLevel(logging.INFO)
    access.propagate = False
    access.addHandler(logging.FileHandler(log_path))
    app = web.Application(client_max_size=16 << 20, middlewares=[lower_bound(lower_path)])
    app.add_routes(routes)
    web.run_app(app, host="127.0.0.1", port=port, access_log=access,
                access_log_format="%r %s %Tf", print=lambda *a: print("ready", flush=True))


if __name__ == "__main__":
    main()
