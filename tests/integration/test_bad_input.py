# SPDX-License-Identifier: GPL-2.0-only
"""Inputs the analyzer must refuse quickly, in one line, or read in bounded memory.

- Reports whose numbers no recording can produce together (a histogram sum beyond 64 bits or
  beyond count x max, status counts that do not add up to the count...): each is refused with
  the JSON path of the field at fault and exit code 2, by report, diff and merge alike.
- SLO files built to make the YAML parser slow (4 MiB of nesting, aliases expanding a small
  file into millions of nodes): refused in well under a second of CPU time.
- A report of 100 000 endpoints or 100 000 queries (~350-500 MB of JSON) is read in a few
  hundred MB: the file in blocks, one row's DOM at a time, histograms kept sparse.
"""
import json
import os
import resource
import subprocess
import sys

import pytest

from conftest import HERE, SLOPROBE

FIX = os.path.join(HERE, "fixtures")
U64_MAX = 2**64 - 1


def fixture(name):
    with open(os.path.join(FIX, name)) as f:
        return json.load(f)


def run(args, cwd=FIX):
    return subprocess.run([SLOPROBE] + args, capture_output=True, text=True, timeout=120, cwd=cwd)


def refused(p, message):
    """Exit 2 (a malformed report) and exactly one line."""
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.splitlines() == [message], p.stderr


def write(tmp_path, report, name="run.json"):
    f = tmp_path / name
    f.write_text(json.dumps(report, indent=2) if not isinstance(report, str) else report)
    return str(f)


def sum_bounds(h):
    """The smallest and largest sums of a histogram's values: each lies in its bucket and within
    [min, max] (the layout's last bucket, above 2^40 ns, is not used here)."""
    lo = sum(n * max(b, h["min"]) for b, _, n in h["buckets"])
    hi = sum(n * min(t, h["max"]) for _, t, n in h["buckets"])
    return lo, hi


def g(v):
    return "%g" % v


def bad_http_sum_u64(r):
    r["http"][0]["histogram"]["sum"] = 2**64 + 5
    return ("http[0].histogram.sum: 18446744073709551621 is out of range "
            "(at most 18446744073709551615)")


def bad_http_sum_high(r):
    h = r["http"][0]["histogram"]
    _, hi = sum_bounds(h)
    h["sum"] = hi + 1
    return "http[0].histogram.sum: %d exceeds what the buckets and max allow (%d)" % (hi + 1, hi)


def bad_http_sum_low(r):
    h = r["http"][0]["histogram"]
    lo, _ = sum_bounds(h)
    h["sum"] = lo - 1
    return "http[0].histogram.sum: %d is less than the buckets and min allow (%d)" % (lo - 1, lo)


def bad_http_min_max(r):
    h = r["http"][0]["histogram"]
    h["buckets"] = h["buckets"][:1]
    h["count"] = r["http"][0]["count"] = h["buckets"][0][2]
    r["http"][0]["status"] = {"200": h["count"]}
    h["min"], h["max"] = h["buckets"][0][1], h["buckets"][0][0]
    return "http[0].histogram.min: %d is above max (%d)" % (h["min"], h["max"])


def bad_status_total(r):
    e = r["http"][0]
    e["status"] = {"200": e["count"] + 1}
    return "http[0].status: adds up to %d, but count is %d" % (e["count"] + 1, e["count"])


def bad_status_5xx(r):
    e = r["http"][0]
    e["errors"]["5xx"] = 1
    return "http[0].errors.5xx: 1, but status has 0 5xx responses (and 0 other)"


def bad_status_4xx(r):
    e = [e for e in r["http"] if e["status"].get("404")][0]
    i = r["http"].index(e)
    e["errors"]["4xx"] -= 1
    return "http[%d].errors.4xx: %d, but status has %d 4xx responses (and 0 other)" % (
        i, e["errors"]["4xx"], e["status"]["404"])


def bad_percentiles(r):
    lat = r["http"][0]["latency_ms"]
    lat["p99"] = 0
    return "http[0].latency_ms.p99: 0 is below p95 (%s)" % g(lat["p95"])


def bad_mean(r):
    lat = r["http"][1]["ttfb_ms"]
    lat["mean"] = lat["max"] + 1
    return "http[1].ttfb_ms.mean: %s is above max (%s)" % (g(lat["mean"]), g(lat["max"]))


def bad_port(r):
    r["http"][0]["port"] = -2**63 - 1
    return ("http[0].port: -9223372036854775809 is out of range "
            "(at least -9223372036854775808)")


def bad_twice(r):
    return "http: given twice"


CASES_HTTP = [bad_http_sum_u64, bad_http_sum_high, bad_http_sum_low, bad_http_min_max,
              bad_status_total, bad_status_5xx, bad_status_4xx, bad_percentiles, bad_mean,
              bad_port]


@pytest.mark.parametrize("case", CASES_HTTP, ids=[c.__name__ for c in CASES_HTTP])
def test_inconsistent_http(tmp_path, case):
    r = fixture("baseline.json")
    message = case(r)
    f = write(tmp_path, r)
    refused(run(["report", f]), "sloprobe: %s: %s" % (f, message))


def test_merge_refuses_what_it_would_average(tmp_path):
    """The sum 2^64+5 was clamped to 2^64-1 and merged: the mean of /items came out as 2.3e5 s.
    Now neither report nor merge nor diff reads it, and merge writes nothing."""
    r = fixture("baseline.json")
    message = bad_http_sum_u64(r)
    f = write(tmp_path, r)
    out = tmp_path / "m.json"
    refused(run(["merge", "after.json", f, "-o", str(out)]), "sloprobe: %s: %s" % (f, message))
    assert not out.exists()
    refused(run(["diff", "after.json", f]), "sloprobe: %s: %s" % (f, message))


def test_member_given_twice(tmp_path):
    text = open(os.path.join(FIX, "after.json")).read()
    f = write(tmp_path, text.replace("{", '{"http": [],', 1))
    refused(run(["report", f]), "sloprobe: %s: http: given twice" % f)


def test_inconsistent_db(tmp_path):
    r = fixture("db.json")
    q = r["db"][1]
    q["errors"] = q["count"] + 1
    f = write(tmp_path, r)
    refused(run(["report", f]), "sloprobe: %s: db[1].errors: %d, but count is %d" % (
        f, q["count"] + 1, q["count"]))

    r = fixture("db.json")
    q = r["db"][0]
    q["slow"] = q["count"] + 2
    f = write(tmp_path, r)
    refused(run(["report", f]), "sloprobe: %s: db[0].slow: %d, but count is %d" % (
        f, q["count"] + 2, q["count"]))

    r = fixture("db.json")
    q = r["db"][2]
    q["sqlstates"] = {"57014": q["errors"] + 1}
    f = write(tmp_path, r)
    refused(run(["report", f]), "sloprobe: %s: db[2].sqlstates: add up to %d, but errors is %d"
            % (f, q["errors"] + 1, q["errors"]))

    r = fixture("db.json")
    d = r["http"][0]["db"]
    d["attribution"]["shared"] += 1
    n = sum(d["attribution"][k] for k in ("exact", "thread", "shared"))
    f = write(tmp_path, r)
    refused(run(["report", f]), "sloprobe: %s: http[0].db.attribution: %d requests, but "
            "requests is %d" % (f, n, d["requests"]))


def test_inconsistent_slo_and_timeline(tmp_path):
    r = fixture("ramp.json")
    s = r["slo"][0]
    s["good"] = s["total"] + 1
    f = write(tmp_path, r)
    refused(run(["report", f]), "sloprobe: %s: slo[0].good: %d, but total is %d" % (
        f, s["total"] + 1, s["total"]))
    s.update(good=5, judged=4)
    f = write(tmp_path, r)
    refused(run(["report", f]), "sloprobe: %s: slo[0].good: 5, but judged is 4" % f)

    r = fixture("ramp.json")
    p = r["timeline"]["http"][0]["points"][3]
    p["errors"] = p["count"] + 1
    f = write(tmp_path, r)
    refused(run(["report", f]), "sloprobe: %s: timeline.http[0].points[3].errors: %d, but "
            "count is %d" % (f, p["count"] + 1, p["count"]))


@pytest.mark.parametrize("content,message", [
    ("null", "not a sloprobe report: the top level is null"),
    ("null\n", "not a sloprobe report: the top level is null"),
    ("\"x\"", "not a sloprobe report: the top level is a string"),
    ("42", "not a sloprobe report: the top level is a number"),
    ("{\"schema\": \"sloprobe.report/v1\", \"definitions\": " + "[" * 70 + "]" * 70 + "}",
     "malformed JSON at line 1, column 112: nesting too deep"),
])
def test_not_a_report(tmp_path, content, message):
    f = write(tmp_path, content)
    refused(run(["report", f]), "sloprobe: %s: %s" % (f, message))


def test_unreadable_report_exit_2(tmp_path):
    """A report that cannot be read is a bad input like a malformed one: exit 2, as the SLO
    file (docs/analyze.md, README.md and --help say so)."""
    refused(run(["report", "/nonexistent/run.json"]),
            "sloprobe: /nonexistent/run.json: No such file or directory")
    refused(run(["report", str(tmp_path)]), "sloprobe: %s: Is a directory" % tmp_path)
    refused(run(["diff", "after.json", "/nonexistent/b.json"]),
            "sloprobe: /nonexistent/b.json: No such file or directory")
    refused(run(["report", "--slo", "/nonexistent/slo.yaml", "after.json"]),
            "sloprobe: /nonexistent/slo.yaml: No such file or directory")


# SLO files

SLO_MAX = 4 << 20


def fill(head, unit, tail=""):
    """head, unit repeated, tail: just under the 4 MiB limit of an SLO file."""
    n = (SLO_MAX - 64 - len(head) - len(tail)) // len(unit)
    return head + unit * n + tail


def cpu_of(args):
    """Run sloprobe; its CPU seconds (user + system) and the process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = run(args)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), p


def alias_bomb():
    """One objective with a 600-entry status list, aliased 10 times, the list of 10 aliased by
    1000 SLOs: 6 million status entries to check from a 44 KB file."""
    codes = ",".join(str(500 + i % 100) for i in range(600))
    lines = ["apiVersion: sloprobe/v1", "kind: SLO", "slos:", "- name: s0", "  http: all",
             "  objectives: &o", "  - &obj {le: 1%%, errors: [%s]}" % codes]
    lines += ["  - *obj"] * 9
    for i in range(1, 1000):
        lines += ["- name: s%d" % i, "  http: all", "  objectives: *o"]
    return "\n".join(lines) + "\n"


SLO_CASES = [
    ("flow", fill("", "["), "1:65: nested more than 64 levels deep"),
    ("block", fill("", "- ", "x\n"), "1:129: nested more than 64 levels deep"),
    ("mapping", fill("", "{a: "), "1:257: nested more than 64 levels deep"),
    ("nodes", fill("a: [", "1, ", "1]\n"), "1:599996: more than 200000 YAML nodes"),
    ("directives", fill("", "%TAG !t! tag:x,2000:\n", "--- x\n"),
     "17:1: more than 16 YAML directives"),
    ("aliases", alias_bomb(), "7:27: aliases expand the file to more than 200000 nodes"),
]


@pytest.mark.parametrize("name,text,message", SLO_CASES, ids=[c[0] for c in SLO_CASES])
def test_slo_file_refused_fast(tmp_path, name, text, message):
    """libyaml's own loader took 15 s for 100 KB of "[" (minutes at 4 MiB) and 4.8 s to accept
    the alias bomb; CPU time, not wall time, so a loaded machine does not fail the test."""
    slo = tmp_path / "slo.yaml"
    slo.write_text(text)
    cpu, p = cpu_of(["report", "--slo", str(slo), "after.json"])
    assert p.returncode == 2, p.stderr
    assert p.stderr.splitlines() == ["sloprobe: %s:%s" % (slo, message)]
    assert cpu < 1.0, cpu


# Memory

def big_report(src, kind, n, out):
    """src's rows of kind ("http" or "db") replicated to n rows with distinct routes or query
    ids, written in the recorder's layout (indent 2) one row at a time."""
    with open(os.path.join(FIX, src)) as f:
        r = json.load(f)
    rows = r[kind]
    r[kind] = []
    head = json.dumps(r, indent=2)
    cut = head.index('"%s": []' % kind) + len('"%s": [' % kind)
    protos = [json.dumps(x, indent=2).replace("\n", "\n    ") for x in rows]
    with open(out, "w") as f:
        f.write(head[:cut] + "\n    ")
        for i in range(n):
            p, x = protos[i % len(protos)], rows[i % len(rows)]
            if kind == "http":
                p = p.replace('"route": "%s"' % x["route"], '"route": "/r%d%s"' % (i, x["route"]))
            else:
                p = p.replace('"query_id": "%s"' % x["query_id"], '"query_id": "%016x"' % (i + 1))
            f.write(("," if i else "") + p)
        f.write("\n  ]" + head[cut + 1:])


PEAK_RSS_MB = 300


@pytest.mark.parametrize("kind", ["http", "db"])
def test_100k_rows_in_bounded_memory(tmp_path, kind):
    """100 000 endpoints (350 MB of JSON) took 4.3 GB to report: a json-c DOM of the whole file
    and an 18 KiB dense histogram per row. Now about 170 MB (endpoints), 110 MB (queries)."""
    src = tmp_path / "big.json"
    big_report("db.json", kind, 100000, src)
    # A fresh interpreter, so that its children's peak is sloprobe's alone.
    code = ("import resource, subprocess, sys\n"
            "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
            "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
            "sys.stderr.write(p.stderr.decode())\n")
    p = subprocess.run([sys.executable, "-c", code, SLOPROBE, "report", str(src)],
                       capture_output=True, text=True, timeout=300)
    rc, kb = (int(x) for x in p.stdout.split())
    assert rc == 0, p.stderr
    assert kb < PEAK_RSS_MB * 1024, "peak RSS %d MB" % (kb // 1024)
