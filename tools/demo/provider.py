# SPDX-License-Identifier: GPL-2.0-only
"""A fake payment provider for the sloprobe demo: the external API that POST /orders charges.

    /usr/bin/python3 provider.py PORT LOG

serves POST /v1/charges on 127.0.0.1:PORT, with a JSON body {"order_id": N, "amount_cents": C}
and an Idempotency-Key header, and answers 200 with a charge id. It misbehaves on a schedule
fixed by the order id, so that both modes of the demo meet the same failures whatever the
concurrency, and so that a retry of one order never shifts the failures of another:

    N % 100 == 0   busy (1 %): 503 to every attempt for BUSY_MS (60 ms) after the order's
                   first attempt, then 200 (a provider shedding load: retrying at once only
                   adds to it; backing off gets through)
    N % 50 == 25   slow (2 %): the order's first attempt is answered after SLOW_MS (1000 ms);
                   the attempts after it are answered at once
    otherwise      200 at once

A charge is kept per Idempotency-Key, so an attempt answered after its client gave up and
retried charges once. Every attempt is written to LOG, one line each (the ground truth that
run.sh counts next to sloprobe's outbound section):

    <order id> <attempt number> <status> <busy|slow|ok> <arrival> <answer>

arrival and answer in ms of CLOCK_MONOTONIC: when the request had been read, and when the
answer was written; the answer of one attempt to the arrival of the next one of the same
order is the client's backoff, as the provider sees it.

GET /health answers 200 (run.sh waits for it). The process calls itself fakepay (its comm);
it stops on SIGTERM or SIGINT.
"""

import http.server
import json
import signal
import socket
import socketserver
import sys
import threading
import time

BUSY_MS = 60
SLOW_MS = 1000


def kind_of(order_id):
    if order_id % 100 == 0:
        return "busy"
    if order_id % 50 == 25:
        return "slow"
    return "ok"


class Charges:
    """The provider's memory: per order its first attempt and number of attempts; per key the
    charge made."""

    def __init__(self, log):
        self.lock = threading.Lock()
        self.orders = {}
        self.charges = {}
        self.log = log

    def attempt(self, order_id, now):
        with self.lock:
            first, n = self.orders.get(order_id, (now, 0))
            self.orders[order_id] = (first, n + 1)
        return now - first, n + 1

    def charge(self, key, order_id, amount):
        with self.lock:
            if key not in self.charges:
                self.charges[key] = {"id": "ch_%d" % (len(self.charges) + 1),
                                     "order_id": order_id, "amount_cents": amount}
            return self.charges[key]

    def record(self, order_id, attempt, status, kind, arrival):
        now = time.monotonic()
        with self.lock:
            self.log.write("%d %d %d %s %.3f %.3f\n"
                           % (order_id, attempt, status, kind, arrival * 1000, now * 1000))


class Provider(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the clients' pools reuse their connections
    charges = None

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Each answer is one write: without this, Nagle against the client's delayed ACK
        # would add 40 ms stalls that are not the schedule's.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def answer(self, code, body):
        data = json.dumps(body).encode()
        head = ("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (code, self.responses.get(code, ("",))[0], len(data)))
        try:
            self.wfile.write(head.encode() + data)
        except OSError:
            # A slow answer whose client timed out: nobody reads it.
            self.close_connection = True

    def do_GET(self):
        if self.path == "/health":
            self.answer(200, {"status": "ok"})
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            order_id = int(body["order_id"])
            amount = int(body.get("amount_cents", 0))
        except (ValueError, KeyError, TypeError):
            self.answer(400, {"error": "bad charge"})
            return
        if self.path != "/v1/charges":
            self.answer(404, {"error": "not found"})
            return
        arrival = time.monotonic()
        since_first, attempt = self.charges.attempt(order_id, arrival)
        kind = kind_of(order_id)
        if kind == "busy" and since_first * 1000 < BUSY_MS:
            self.answer(503, {"error": "busy, try again later"})
            self.charges.record(order_id, attempt, 503, kind, arrival)
            return
        if kind == "slow" and attempt == 1:
            time.sleep(SLOW_MS / 1000)
        key = self.headers.get("Idempotency-Key") or "order-%d" % order_id
        charge = self.charges.charge(key, order_id, amount)
        self.answer(200, charge)
        self.charges.record(order_id, attempt, 200, kind, arrival)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True  # a slow answer must not hold up the exit
    allow_reuse_address = True


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: provider.py PORT LOG")
    port = int(sys.argv[1])
    # Named apart from the shop's python3 processes, before its first socket: run.sh records
    # with --comm python3, so this stand-in for a remote API is not traced as one of the
    # shop's servers (its 503s would count as the shop's errors); the shop's calls to it are.
    # Threads inherit the name.
    with open("/proc/self/comm", "w") as comm:
        comm.write("fakepay")
    with open(sys.argv[2], "a", buffering=1) as log:
        Provider.charges = Charges(log)
        srv = Server(("127.0.0.1", port), Provider)

        def stop(signum, frame):
            # shutdown() waits for serve_forever, which runs in this thread: from another.
            threading.Thread(target=srv.shutdown).start()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        srv.serve_forever()
        srv.server_close()


if __name__ == "__main__":
    main()
