#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Screenshots of the demo's HTML reports for the README (docs/img/), in headless Chromium.

Run after `sudo make demo`, from the repository's root:
    /usr/bin/python3 tools/demo/screenshots.py
It shows the top of demo-baseline.html (the overview: verdicts, causes) and of demo-diff.html,
and the waterfall of the slowest GET /users/{user_id}/orders request of the baseline.
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import chromium  # noqa: E402


def main():
    out = os.path.join(ROOT, "docs", "img")
    base = os.path.join(ROOT, "demo-baseline.html")
    diff = os.path.join(ROOT, "demo-diff.html")
    for f in (base, diff, os.path.join(ROOT, "demo-baseline.json")):
        if not os.path.exists(f):
            sys.exit("screenshots: %s is missing: run 'sudo make demo' first" % f)
    ex = json.load(open(os.path.join(ROOT, "demo-baseline.json"))).get("exemplars") or []
    orders = [i for i, e in enumerate(ex) if e["route"] == "/users/{user_id}/orders"]
    if not orders:
        sys.exit("screenshots: the baseline kept no /users/{user_id}/orders request")
    slowest = max(orders, key=lambda i: ex[i]["latency_ms"])
    os.makedirs(out, exist_ok=True)
    shots = [
        (base, "demo-overview.png", 1280, 800, None),
        (diff, "demo-diff.png", 1280, 800, None),
        (base, "demo-waterfall.png", 760, 560,
         "document.getElementById('exemplar-%d').scrollIntoView(); 1" % slowest),
    ]
    for html, name, w, h, js in shots:
        _, errors, _ = chromium._load(html, os.path.join(out, name), w, h, 30, False, js)
        if errors:
            sys.exit("screenshots: %s: %s" % (name, "; ".join(errors)))
        print("screenshots: docs/img/%s" % name)


if __name__ == "__main__":
    main()
