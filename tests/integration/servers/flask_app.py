# SPDX-License-Identifier: GPL-2.0-only
"""Flask serving the conformance API under gunicorn's sync workers (a WSGI prefork server).

  gunicorn -k sync -b 127.0.0.1:PORT --chdir servers flask_app:app

The server's own measure is gunicorn's access log with %(L)s: the time from the parsed
request head to the end of the response, in seconds with microseconds. With CONFORMANCE_LOG
set, a WSGI wrapper also logs "METHOD TARGET STATUS LOWER_MS": from the call of the app (the
head has been read) to the moment it hands gunicorn the last piece of the body (which gunicorn
then writes, and the chunked terminator after it). Both ends lie inside the interval from the
read of the head to the return of the last write: a lower bound of that interval.

How gunicorn's sync worker writes (strace, gunicorn 20.1; every response says Connection:
close, sync workers do not keep connections):
  - a plain response: sendto(head + body), Content-Length;
  - /stream (chunked): sendto(head), one sendto("65\r\n" + data + "\r\n") per chunk, then
    the terminator alone: sendto("0\r\n\r\n"), then the close;
  - HTTP/1.0 /stream: sendto(head), sendto(data) per chunk, then the close.
"""
import os
import time

from flask import Flask, Response, request

app = Flask(__name__)
CHUNK = b"c" * 100 + b"\n"


class LowerBound:
    """WSGI middleware writing the lower-bound log (see the module docstring)."""

    def __init__(self, app, path):
        self.app, self.path = app, path

    def __call__(self, environ, start_response):
        t0 = time.monotonic()
        status = []

        def start(s, headers, exc_info=None):
            status.append(s.split()[0])
            return start_response(s, headers, exc_info)
        return Body(self.app(environ, start), t0, environ, status, self.path)


class Body:
    def __init__(self, inner, t0, environ, status, path):
        self.inner, self.t0, self.status, self.path = inner, t0, status, path
        q = environ.get("QUERY_STRING")
        self.line = "%s %s%s" % (environ["REQUEST_METHOD"], environ["PATH_INFO"],
                                 "?" + q if q else "")
        self.last = None

    def __iter__(self):
        for piece in self.inner:
            if piece:
                self.last = time.monotonic()  # before gunicorn writes it
            yield piece

    def close(self):
        # gunicorn calls this after its last write: the line is written, not timed, here.
        if hasattr(self.inner, "close"):
            self.inner.close()
        end = self.last if self.last is not None else time.monotonic()
        with open(self.path, "a") as f:
            f.write("%s %s %.3f\n" % (self.line, self.status[0], (end - self.t0) * 1000))


if os.environ.get("CONFORMANCE_LOG"):
    app.wsgi_app = LowerBound(app.wsgi_app, os.environ["CONFORMANCE_LOG"])


def text(body, status=200):
    return Response(body, status=status, mimetype="text/plain")


@app.get("/delay/<int:ms>")
def delay(ms):
    time.sleep(ms / 1000.0)
    return text("delayed %d\n" % ms)


@app.get("/stream/<int:n>")
def stream(n):
    # A generator: gunicorn cannot know the length, so it chunks (HTTP/1.1) or closes (1.0).
    def chunks():
        for _ in range(n):
            time.sleep(0.010)
            yield CHUNK
    return Response(chunks(), mimetype="text/plain")


@app.get("/missing/<ident>")
def missing(ident):
    return text("not found\n", 404)


@app.get("/boom")
def boom():
    return text("boom\n", 500)


@app.post("/echo")
def echo():
    return text("%d\n" % len(request.get_data()), 201)
