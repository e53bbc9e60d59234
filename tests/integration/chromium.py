# SPDX-License-Identifier: GPL-2.0-only
"""Renders a local HTML file in Debian's headless Chromium and reports what went wrong.

    png, errors = render("/tmp/report.html")
    value, errors = evaluate("/tmp/report.html", "document.title", width=700)

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: fds 3 and 4,
NUL-terminated JSON), so one launch gives the screenshot, console errors, uncaught exceptions,
log errors and every network request. `errors` is a list of one-line strings; a request for
anything but file:, data: or about: is an error, because reports must be self-contained.

Also pure-Python PNG helpers (png_size, png_colours) to check that the screenshot is sane.
"""
import base64
import fcntl
import json
import os
import re
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib

CHROMIUM = "/usr/bin/chromium"
LOCAL_SCHEMES = ("file:", "data:", "about:")


class _Pipe:
    """The browser end of --remote-debugging-pipe: commands, their results, and events."""

    def __init__(self, proc, wfd, rfd, deadline):
        self.proc, self.wfd, self.rfd, self.deadline = proc, wfd, rfd, deadline
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self):
        while b"\0" not in self.buf:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self.rfd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe (exit %s)" %
                                   self.proc.poll())
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.wfd, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read_message()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"].get("message")))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method, session=None):
        for i, m in enumerate(self.events):
            if m["method"] == method and m.get("sessionId") == session:
                return self.events.pop(i)
        while True:
            m = self._read_message()
            if "method" not in m:
                continue
            if m["method"] == method and m.get("sessionId") == session:
                return m
            self.events.append(m)


def _errors_from(events):
    errors = []
    for m in events:
        method, p = m["method"], m.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            errors.append("console.%s: %s" % (p["type"], text))
        elif method == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            errors.append("exception: %s" % d.get("exception", {}).get("description",
                                                                       d.get("text")))
        elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
            errors.append("log: %s %s" % (p["entry"].get("text"), p["entry"].get("url", "")))
        elif method == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if not url.startswith(LOCAL_SCHEMES):
                errors.append("network request: %s" % url)
        elif method == "Network.loadingFailed":
            errors.append("load failed: %s %s" % (p.get("errorText"), p.get("blockedReason",
                                                                             "")))
    return errors


def render(html_path, png_path=None, width=1200, height=2000, timeout=20, full_page=True):
    """Loads html_path, screenshots it (the whole page if full_page) to png_path (default: the
    HTML path with .png). Returns (png_path, errors)."""
    return _load(html_path, png_path, width, height, timeout, full_page)[:2]


def evaluate(html_path, expression, width=1200, height=2000, timeout=20):
    """Loads html_path as render() does (the screenshot is not kept) and returns (value,
    errors): value is expression's on the loaded page, JSON-able (the layout of elements, say)."""
    png, errors, value = _load(html_path, None, width, height, timeout, False, expression)
    os.unlink(png)
    return value, errors


def _load(html_path, png_path, width, height, timeout, full_page, expression=None):
    html_path = os.path.abspath(html_path)
    if png_path is None:
        png_path = os.path.splitext(html_path)[0] + ".png"
    # Chromium wants a writable HOME and profile; keep both private and throw them away.
    home = tempfile.mkdtemp(prefix="sloprobe-chromium.")
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    env = dict(os.environ, HOME=home)
    cmd = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--no-default-browser-check", "--disable-extensions",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--user-data-dir=" + os.path.join(home, "profile"),
           "--window-size=%d,%d" % (width, height), "--remote-debugging-pipe", "about:blank"]

    # The child's ends go above 10 first so that moving them to 3 and 4 cannot clobber one.
    child_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD_CLOEXEC, 10)
    child_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD_CLOEXEC, 10)
    for fd in (to_chrome_r, from_chrome_w):
        os.close(fd)

    def fds():
        os.dup2(child_r, 3)
        os.dup2(child_w, 4)

    try:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                pass_fds=(3, 4), preexec_fn=fds)
    finally:
        os.close(child_r)
        os.close(child_w)
    pipe = _Pipe(proc, to_chrome_w, from_chrome_r, time.monotonic() + timeout)
    errors, value = [], None
    try:
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = pipe.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            pipe.call(domain + ".enable", session=s)
        nav = pipe.call("Page.navigate", {"url": "file://" + html_path}, session=s)
        if nav.get("errorText"):
            errors.append("navigation: %s" % nav["errorText"])
        pipe.wait_event("Page.loadEventFired", session=s)
        if expression:
            res = pipe.call("Runtime.evaluate", {"expression": expression,
                                                 "returnByValue": True}, session=s)
            if "exceptionDetails" in res:
                errors.append("evaluate: %s" % res["exceptionDetails"].get("text"))
            value = res.get("result", {}).get("value")
        shot = {"format": "png"}
        if full_page:
            size = pipe.call("Page.getLayoutMetrics", session=s)["cssContentSize"]
            shot["clip"] = {"x": 0, "y": 0, "width": width,
                            "height": max(1, min(size["height"], 16000)), "scale": 1}
            shot["captureBeyondViewport"] = True
        data = pipe.call("Page.captureScreenshot", shot, session=s)["data"]
        with open(png_path, "wb") as f:
            f.write(base64.b64decode(data))
        errors += _errors_from(pipe.events)
        try:
            pipe.call("Browser.close")
        except (RuntimeError, TimeoutError):
            pass
    finally:
        os.close(to_chrome_w)
        os.close(from_chrome_r)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(home, ignore_errors=True)
    return png_path, errors, value


def _png_chunks(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    p = 8
    while p + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[p:p + 8])
        yield kind, data[p + 8:p + 8 + n]
        p += 12 + n


def png_size(path):
    """(width, height) from the IHDR chunk."""
    with open(path, "rb") as f:
        for kind, body in _png_chunks(f.read()):
            if kind == b"IHDR":
                return struct.unpack(">II", body[:8])
    raise ValueError("%s: no IHDR" % path)


def _add_bytes(a, b, mask_lo, mask_hi):
    """Bytewise a + b mod 256 over whole rows held as big integers (no carry across bytes)."""
    return ((a & mask_lo) + (b & mask_lo)) ^ ((a ^ b) & mask_hi)


def _unfilter(raw, width, height, bpp):
    stride = width * bpp
    prev = bytes(stride)
    mask_lo = int.from_bytes(b"\x7f" * stride, "big")
    mask_hi = int.from_bytes(b"\x80" * stride, "big")
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], raw[start + 1:start + 1 + stride]
        if ftype == 0:
            cur = line
        elif ftype in (1, 2):
            x = int.from_bytes(line, "big")
            if ftype == 2:
                x = _add_bytes(x, int.from_bytes(prev, "big"), mask_lo, mask_hi)
            else:
                # Prefix sum of pixels to the left, by doubling the shift each step.
                shift = bpp * 8
                while shift < stride * 8:
                    x = _add_bytes(x, x >> shift, mask_lo, mask_hi)
                    shift *= 2
            cur = x.to_bytes(stride, "big")
        else:
            out = bytearray(line)
            for i in range(stride):
                a = out[i - bpp] if i >= bpp else 0
                b = prev[i]
                if ftype == 3:
                    out[i] = (out[i] + ((a + b) >> 1)) & 0xff
                    continue
                c = prev[i - bpp] if i >= bpp else 0
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                out[i] = (out[i] + pred) & 0xff
            cur = bytes(out)
        rows.append(cur)
        prev = cur
    return rows


def png_colours(path, limit=64):
    """Number of distinct pixel values (stops counting at limit). 8-bit RGB/RGBA/grey only."""
    with open(path, "rb") as f:
        chunks = list(_png_chunks(f.read()))
    ihdr = dict(chunks)[b"IHDR"]
    width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
    if depth != 8 or bpp is None or interlace:
        raise ValueError("%s: unsupported PNG (depth %d, colour type %d)" % (path, depth, ctype))
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    seen = set()
    for row in _unfilter(raw, width, height, bpp):
        for i in range(0, len(row), bpp * 7):
            seen.add(row[i:i + bpp])
        if len(seen) >= limit:
            break
    return len(seen)


_URL_ATTR = re.compile(
    r"""\b(?:src|srcset|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
_CSS_URL = re.compile(r"""(?:url\(\s*["']?|@import\s+["']?)\s*(?:https?:)?//""", re.I)


def external_refs(html):
    """Attribute values or CSS urls pointing off the machine (text mentioning URLs is fine)."""
    found = [m.group(0) for m in _URL_ATTR.finditer(html)]
    found += [m.group(0) for m in _CSS_URL.finditer(html)]
    return found
