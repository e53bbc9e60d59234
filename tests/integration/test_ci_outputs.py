# SPDX-License-Identifier: GPL-2.0-only
"""Verdicts for CI: `report` and `diff` with --format json (docs/verdicts.schema.json) and
--format junit, markdown as a job summary, `record --command-exit`, and the exit-code table of
docs/exit-codes.md against every --help.

The fixtures' expected figures are recomputed here from their histograms and status counts
(test_analyze.hist_percentile_ms); the recorded runs' from the client's own timer.
"""
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from conftest import HERE, PYTHON, SLOPROBE, client_times_ms, nearest_rank, record, within_truth
from test_analyze import FIX, hist_percentile_ms, run

ROOT = os.path.dirname(os.path.dirname(HERE))
with open(os.path.join(ROOT, "docs", "verdicts.schema.json")) as f:
    VSCHEMA = json.load(f)


def verdicts(args, code, cwd=FIX):
    """sloprobe ARGS --format json: exit code, then the document, validated against the schema."""
    p = run(args + ["--format", "json"], cwd=cwd)
    assert p.returncode == code, (p.returncode, p.stderr)
    doc = json.loads(p.stdout)
    jsonschema.validate(doc, VSCHEMA, cls=jsonschema.Draft202012Validator)
    return doc


def junit(args, code, cwd=FIX):
    """sloprobe ARGS --format junit: exit code, then the parsed tree's root (<testsuites>)."""
    p = run(args + ["--format", "junit"], cwd=cwd)
    assert p.returncode == code, (p.returncode, p.stderr)
    assert p.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(p.stdout.encode())
    assert root.tag == "testsuites"
    check_counts(root)
    return root


def check_counts(root):
    """Every count attribute is the number of cases of its kind below it."""
    cases = root.findall("./testsuite/testcase")
    for node, below in [(root, cases)] + [(s, s.findall("testcase"))
                                           for s in root.findall("testsuite")]:
        assert int(node.get("tests")) == len(below), node.attrib
        assert int(node.get("failures")) == sum(c.find("failure") is not None for c in below)
        assert int(node.get("skipped")) == sum(c.find("skipped") is not None for c in below)
        assert node.get("errors") == "0"


def case(root, name):
    found = [c for c in root.iter("testcase") if c.get("name") == name]
    assert len(found) == 1, (name, [c.get("name") for c in root.iter("testcase")])
    return found[0]


def fixture(name):
    with open(os.path.join(FIX, name)) as f:
        return json.load(f)


def endpoint(rep, route):
    return [e for e in rep["http"] if e["route"] == route][0]


# report --format json / junit on the fixtures -------------------------------------------------

def test_report_json_verdicts_exact():
    """baseline.json against items-slo.yaml: /items/{id} (40 requests of ~50 ms) breaches
    p95 <= 40 ms, passes 5xx <= 1 %; /health (5 requests) passes p99 <= 10 ms."""
    doc = verdicts(["report", "--slo", "items-slo.yaml", "baseline.json"], 3)
    rep = fixture("baseline.json")
    items, health = endpoint(rep, "/items/{id}"), endpoint(rep, "/health")
    assert doc["kind"] == "report" and doc["schema"] == "sloprobe.verdicts/v1"
    # a report from before --command-exit was saved: its mapping is unknown (null)
    assert doc["run"]["command"] == {"argv": rep["command"]["argv"], "exit_status": 0,
                                     "failed": False, "exit_map": None, "exit_mapped": None}
    assert doc["run"]["events"]["dropped"] == 0 and not doc["run"]["events"]["incomplete_data"]
    assert doc["slo"] == {"judged": "offline", "file": "items-slo.yaml", "verdict": "breach",
                          "incomplete_data": False, "objectives": 3, "pass": 2, "breach": 1,
                          "insufficient_data": 0}
    o = {(x["name"], x["objective"]): x for x in doc["objectives"]}
    assert len(o) == 3
    p95 = o[("items", "p95 <= 40 ms")]
    want = hist_percentile_ms(items["histogram"], 95)
    assert p95["verdict"] == "breach" and p95["target"] == "http GET /items/{id}"
    # described as a recorded verdict is: the endpoint's service, the SLO's source
    assert (p95["service"], p95["source"]) == (items["service"], "http")
    assert (o[("health", "p99 <= 10 ms")]["service"], o[("health", "p99 <= 10 ms")]["source"]) \
        == (health["service"], "http")
    assert p95["unit"] == "ms" and p95["target_value"] == 40
    assert abs(p95["observed"] - want) < 1e-6, (p95["observed"], want)
    assert abs(p95["margin"] - (40 - want)) < 1e-6
    # every one of the 40 requests is over 40 ms (the histogram's min is 50.466 ms): 40 bad
    # where 5 % of 40 = 2 are allowed
    assert items["histogram"]["min"] > 40e6
    assert (p95["good"], p95["judged"], p95["budget_consumed"]) == (0, 40, 20)
    assert p95["budget_exceeded"] and not p95["approximate"]
    assert not p95["insufficient_data"] and not p95["incomplete_data"]
    err = o[("items", "5xx rate <= 1%")]
    assert items["status"] == {"200": 40}
    assert (err["verdict"], err["observed"], err["target_value"], err["margin"]) == (
        "pass", 0, 0.01, 0.01)
    assert (err["good"], err["judged"], err["budget_consumed"]) == (40, 40, 0)
    h = o[("health", "p99 <= 10 ms")]
    assert h["verdict"] == "pass" and (h["good"], h["judged"]) == (5, 5)
    assert abs(h["observed"] - hist_percentile_ms(health["histogram"], 99)) < 1e-6


def test_report_json_recorded_verdicts():
    """ramp.json holds the verdicts `record --slo` stored: kept as recorded, first breach too."""
    rep = fixture("ramp.json")
    doc = verdicts(["report", "ramp.json"], 0)
    assert doc["slo"]["judged"] == "recorded"
    assert len(doc["objectives"]) == len(rep["slo"])
    for got, want in zip(doc["objectives"], rep["slo"]):
        assert (got["name"], got["objective"], got["verdict"]) == (
            want["name"], want["objective"], want["verdict"])
        assert got["first_breach_s"] == want.get("first_breach_s")
    # no objective at all
    doc = verdicts(["report", "db.json"], 0)
    assert doc["slo"]["verdict"] == "none" and doc["objectives"] == []


def test_report_junit_failures_and_evidence():
    root = junit(["report", "--slo", "items-slo.yaml", "baseline.json"], 3)
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("5", "1", "0")
    suites = [s.get("name") for s in root.findall("testsuite")]
    assert suites == ["run", "SLO items", "SLO health"]
    c = case(root, "p95 <= 40 ms: http GET /items/{id}")
    assert c.get("classname") == "sloprobe.slo.items"
    f = c.find("failure")
    want = hist_percentile_ms(endpoint(fixture("baseline.json"), "/items/{id}")["histogram"], 95)
    assert f.get("type") == "breach"
    svc = endpoint(fixture("baseline.json"), "/items/{id}")["service"]
    assert f.get("message") == ("p95 <= 40 ms breached on http GET /items/{id} of %s: observed "
                                "%.2f ms, target 40.00 ms" % (svc, want))
    assert "good/judged: 0/40\n" in f.text and "error budget used: 2000.00 %\n" in f.text
    assert ("service: %s\n" % svc) in f.text
    # time: judged offline, over the whole run (3.788 s), as every suite and the whole
    dur = "%.3f" % fixture("baseline.json")["window"]["duration_s"]
    assert dur == "3.788"
    assert c.get("time") == dur and root.get("time") == dur
    assert all(s.get("time") == dur for s in root.findall("testsuite"))
    assert all(t.get("time") == dur for t in root.iter("testcase"))
    assert case(root, "5xx rate <= 1%: http GET /items/{id}").find("*") is None
    assert case(root, "load-test command exit status").find("*") is None
    # the passing run: no failure at all
    root = junit(["report", "--slo", "items-slo.yaml", "after.json"], 0)
    assert (root.get("tests"), root.get("failures")) == ("5", "0")


def test_report_insufficient_is_skipped(tmp_path):
    """min_samples above the requests judged: insufficient data, a skipped case, exit 0."""
    slo = tmp_path / "few.yaml"
    slo.write_text("apiVersion: sloprobe/v1\nkind: SLO\nmin_samples: 41\nslos:\n"
                   "  - name: items\n    http: {route: \"/items/*\"}\n"
                   "    objectives: [\"p(95)<=40ms\"]\n")
    doc = verdicts(["report", "--slo", str(slo), "baseline.json"], 0)
    (o,) = doc["objectives"]
    assert o["verdict"] == "insufficient_data" and o["insufficient_data"] and o["judged"] == 40
    assert doc["slo"]["verdict"] == "insufficient_data"
    root = junit(["report", "--slo", str(slo), "baseline.json"], 0)
    assert (root.get("failures"), root.get("skipped")) == ("0", "1")
    s = case(root, "p95 <= 40 ms: http GET /items/{id}").find("skipped")
    assert s.get("message") == "insufficient data: 40 observations judged"


def test_report_incomplete_data(tmp_path):
    """A run that lost more than its --max-drop-pct: exit 4 with --slo, every verdict marked,
    and the "events lost" case of the run suite fails."""
    rep = fixture("baseline.json")
    rep["events"]["dropped"] = 10  # of 513 + 10: 1.9 %
    path = tmp_path / "lossy.json"
    path.write_text(json.dumps(rep))
    doc = verdicts(["report", "--slo", os.path.join(FIX, "items-slo.yaml"), str(path)], 4)
    assert doc["run"]["events"]["incomplete_data"] and doc["slo"]["incomplete_data"]
    assert all(o["incomplete_data"] for o in doc["objectives"])
    root = junit(["report", "--slo", os.path.join(FIX, "items-slo.yaml"), str(path)], 4)
    f = case(root, "events lost").find("failure")
    assert f.get("type") == "incomplete_data"
    assert f.get("message").startswith("1.91 % of events lost (10 of 523)"), f.get("message")


def test_xml_special_characters_round_trip(tmp_path):
    """A route and an SLO name with < & " ' > and a control character: the JUnit is well formed
    and gives back the exact names (the control character as \\x01 text, which XML cannot
    carry)."""
    rep = fixture("baseline.json")
    odd = "/q<a&b\"c'd>/{id}"
    endpoint(rep, "/items/{id}")["route"] = odd
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(rep))
    slo = tmp_path / "odd.yaml"
    slo.write_text("apiVersion: sloprobe/v1\nkind: SLO\nslos:\n"
                   "  - name: \"a<b & 'c' \\\"d\\\" \\x01\"\n    http: {route: \"/q*\"}\n"
                   "    objectives: [\"p(95)<=40ms\"]\n")
    root = junit(["report", "--slo", str(slo), str(path)], 3)
    c = case(root, "p95 <= 40 ms: http GET " + odd)
    assert c.get("classname") == "sloprobe.slo.a<b & 'c' \"d\" \\x01"
    assert ("on http GET %s of python3:18431:" % odd) in c.find("failure").get("message")
    doc = verdicts(["report", "--slo", str(slo), str(path)], 3)
    assert doc["objectives"][0]["target"] == "http GET " + odd
    assert doc["objectives"][0]["name"] == "a<b & 'c' \"d\" \x01"


# diff --format json / junit ---------------------------------------------------------------------

def test_diff_json_changes():
    """baseline (50 ms items) -> after (20 ms): /items/{id} improved, the three rows of 2 to 5
    requests have too few samples (20 needed)."""
    doc = verdicts(["diff", "baseline.json", "after.json"], 0)
    a, b = fixture("baseline.json"), fixture("after.json")
    assert doc["kind"] == "diff" and doc["slo"] == []
    assert doc["baseline"]["label"] is None and doc["after"]["label"] is None
    named = verdicts(["diff", "baseline.json", "after.json", "--label", "baseline=main",
                      "--label", "after=pr-42"], 0)
    assert (named["baseline"]["label"], named["after"]["label"]) == ("main", "pr-42")
    assert doc["rule"]["min_samples"] == 20 and doc["rule"]["noise_pct"] == 5
    rows = {r["route"]: r for r in doc["changes"]["http"]}
    assert {k: r["class"] for k, r in rows.items()} == {
        "/items/{id}": "improved", "/health": "few_samples", "/missing/{id}": "few_samples",
        "/boom": "few_samples"}
    p95 = [v for v in rows["/items/{id}"]["values"] if v["metric"] == "p95 ms"][0]
    before = hist_percentile_ms(endpoint(a, "/items/{id}")["histogram"], 95)
    after = hist_percentile_ms(endpoint(b, "/items/{id}")["histogram"], 95)
    assert abs(p95["baseline"] - before) < 1e-3 and abs(p95["after"] - after) < 1e-3
    assert p95["class"] == "improved" and p95["change"] < 0
    assert doc["counts"]["http"] == {"unchanged": 0, "improved": 1, "regressed": 0,
                                     "few_samples": 3, "only_in_baseline": 0,
                                     "only_in_after": 0}
    # the other way round: a regression, which the exit code leaves to the SLOs
    doc = verdicts(["diff", "after.json", "baseline.json"], 0)
    assert doc["counts"]["http"]["regressed"] == 1
    root = junit(["diff", "after.json", "baseline.json"], 0)
    f = case(root, "GET /items/{id} (python3:18431)").find("failure")
    assert f.get("type") == "regressed" and "p95 ms: " in f.get("message")
    assert (root.get("failures"), root.get("skipped")) == ("1", "3")
    # duration: AFTER's (baseline.json here), on the root, every suite and every case
    dur = "%.3f" % a["window"]["duration_s"]
    assert {root.get("time")} | {x.get("time") for x in root.iter()
                                 if x.tag in ("testsuite", "testcase")} == {dur}


def test_diff_junit_labels():
    """--label names the runs in the JUnit diff as in the JSON one: the root's name, the run
    suite's properties, and each side's value in the messages, which are the JSON diff's."""
    labels = ["--label", "baseline=main", "--label", "after=pr-42 <x>"]
    args = ["diff", "after.json", "baseline.json"] + labels
    doc = verdicts(args, 0)
    root = junit(args, 0)
    assert root.get("name") == ("sloprobe diff after.json baseline.json --label baseline=main "
                                "--label after=pr-42 <x>")
    run_suite = [s for s in root.findall("testsuite") if s.get("name") == "run"][0]
    props = {p.get("name"): p.get("value") for p in run_suite.find("properties")}
    assert props == {"baseline": "after.json", "baseline.label": doc["baseline"]["label"],
                     "after": "baseline.json", "after.label": doc["after"]["label"]}
    assert (props["baseline.label"], props["after.label"]) == ("main", "pr-42 <x>")
    rows = {r["route"]: r for r in doc["changes"]["http"]}
    msg = case(root, "GET /items/{id} (python3:18431)").find("failure").get("message")
    p95 = [v for v in rows["/items/{id}"]["values"] if v["metric"] == "p95 ms"][0]
    m = re.search(r"p95 ms: main ([0-9.]+) ms -> pr-42 <x> ([0-9.]+) ms \(", msg)
    assert m, msg
    assert printed(m.group(1), p95["baseline"]) and printed(m.group(2), p95["after"]), msg
    skipped = case(root, "GET /health (python3:18431)").find("skipped").get("message")
    assert skipped == "few samples: main %d -> pr-42 <x> %d, fewer than 20 on a side" % (
        rows["/health"]["count_baseline"], rows["/health"]["count_after"])
    # Without labels: no label property, and the messages as before.
    root = junit(["diff", "after.json", "baseline.json"], 0)
    run_suite = [s for s in root.findall("testsuite") if s.get("name") == "run"][0]
    assert [p.get("name") for p in run_suite.find("properties")] == ["baseline", "after"]
    msg = case(root, "GET /items/{id} (python3:18431)").find("failure").get("message")
    assert re.search(r"p95 ms: [0-9.]+ ms -> [0-9.]+ ms \(", msg), msg


def printed(text, value):
    """text, a number as a message prints it, is value rounded to its printed digits."""
    digits = len(text.split(".")[1]) if "." in text else 0
    return abs(float(text) - value) <= 0.5 * 10 ** -digits + 1e-9


def test_diff_fail_on_regression(tmp_path):
    """--fail-on regression: exit 6 when a row regressed beyond the noise rule (after -> baseline:
    /items/{id} from ~20 ms to ~50 ms), whatever the format, with the rows counted in one line;
    0 when nothing regressed (the improvement); 3 (an SLO regressed) and 4 (AFTER lost too
    much) outrank it."""
    gate = ["diff", "--fail-on", "regression"]
    msg = ("sloprobe: baseline.json: 1 endpoint, 0 queries and 0 outbound calls regressed "
           "beyond the noise rule (--fail-on regression)")
    for fmt in ("text", "markdown", "html", "json", "junit"):
        p = run(gate + ["after.json", "baseline.json", "--format", fmt])
        assert p.returncode == 6, (fmt, p.returncode, p.stderr)
        assert p.stderr.splitlines() == [msg], p.stderr
    doc = verdicts(gate + ["after.json", "baseline.json"], 6)
    assert doc["counts"]["http"]["regressed"] == 1
    verdicts(gate + ["baseline.json", "after.json"], 0)
    # a noise rule wider than the change: no regression
    verdicts(gate + ["--noise", "200", "--floor-ms", "100", "after.json", "baseline.json"], 0)
    verdicts(gate + ["--slo", "items-slo.yaml", "after.json", "baseline.json"], 3)
    rep = fixture("baseline.json")
    rep["events"]["dropped"] = 10
    lossy = tmp_path / "lossy.json"
    lossy.write_text(json.dumps(rep))
    p = run(gate + [os.path.join(FIX, "after.json"), str(lossy)])
    assert p.returncode == 4, p.stderr
    assert p.stderr.splitlines() == [
        "sloprobe: %s: 1.91 %% of events were lost: regressions judged on incomplete data"
        % lossy]
    # without the option the same diff exits 0, and a bad value is a usage error
    assert run(["diff", str(lossy), os.path.join(FIX, "after.json")]).returncode == 0
    p = run(["diff", "--fail-on", "slower", "after.json", "baseline.json"])
    assert p.returncode == 2
    assert p.stderr.splitlines() == ["sloprobe: invalid --fail-on 'slower' (regression) "
                                     "(see 'sloprobe diff --help')"]


def test_diff_slo_regressed_and_fixed():
    doc = verdicts(["diff", "--slo", "items-slo.yaml", "after.json", "baseline.json"], 3)
    assert doc["slo_changes"] == {"regressed": 1, "fixed": 0}
    reg = [s for s in doc["slo"] if s["change"] == "regressed"]
    assert len(reg) == 1 and reg[0]["objective"] == "p95 <= 40 ms"
    assert (reg[0]["baseline"]["verdict"], reg[0]["after"]["verdict"]) == ("pass", "breach")
    root = junit(["diff", "--slo", "items-slo.yaml", "after.json", "baseline.json"], 3)
    suite = [s for s in root.findall("testsuite") if s.get("name") == "SLO verdicts"][0]
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    f = case(root, "items p95 <= 40 ms: http GET /items/{id}").find("failure")
    assert f.get("type") == "slo_regressed"
    assert f.get("message").startswith("regressed: passed in the baseline (")
    doc = verdicts(["diff", "--slo", "items-slo.yaml", "baseline.json", "after.json"], 0)
    assert doc["slo_changes"] == {"regressed": 0, "fixed": 1}


@pytest.mark.parametrize("pair", [("db.json", "db.json"), ("cache-baseline.json",
                                                             "cache-after.json"),
                                  ("outbound.json", "outbound.json"), ("ramp.json", "ramp.json")])
def test_every_fixture_validates(pair):
    """Every fixture's verdicts and diffs are of the schema and well-formed JUnit."""
    verdicts(["report", pair[0]], 0)
    junit(["report", pair[0]], 0)
    doc = verdicts(["diff", pair[0], pair[1]], 0)
    junit(["diff", pair[0], pair[1]], 0)
    if pair[0] == pair[1]:
        for rows in doc["changes"].values():
            assert all(r["class"] in ("unchanged", "few_samples") for r in rows), rows
    if pair[0] == "outbound.json":
        assert doc["changes"]["outbound"]
    if pair[0] == "db.json":
        assert doc["changes"]["db"]


def test_markdown_fits_a_job_summary():
    """--format markdown as a CI job summary: headings, no ANSI escapes, no carriage returns."""
    for args in (["report", "--slo", "items-slo.yaml", "baseline.json"],
                 ["diff", "baseline.json", "after.json"]):
        p = run(args + ["--format", "markdown"])
        assert p.returncode in (0, 3), p.stderr
        assert "\x1b" not in p.stdout and "\r" not in p.stdout
        lines = p.stdout.splitlines()
        assert lines[0].startswith("# ") and any(l.startswith("## ") for l in lines)


def test_bad_format_is_a_usage_error():
    p = run(["report", "--format", "xml", "baseline.json"])
    assert p.returncode == 2
    assert p.stderr.splitlines() == ["sloprobe: invalid --format 'xml' (text, markdown, html, "
                                     "json or junit) (see 'sloprobe report --help')"]


# record: exit codes, COMMAND's status and --command-exit --------------------------------------

SLO_FILE = """apiVersion: sloprobe/v1
kind: SLO
slos:
  - name: items
    http: {route: "/items/*"}
    min_samples: %d
    objectives: ["p(95)<=%dms"]
"""

# (threshold ms, min_samples, load-test exit status, --command-exit, sloprobe's exit code,
#  verdict): /items take 50 ms.
CASES = [
    (1000, 5, 0, None, 0, "pass"),
    (10, 5, 0, None, 3, "breach"),
    (1000, 50, 0, None, 0, "insufficient_data"),
    (1000, 5, 1, None, 1, "pass"),
    (1000, 5, 99, "99=load-failed", 5, "pass"),
    (10, 5, 99, "99=load-failed", 5, "breach"),
    (1000, 5, 99, "99=breach", 3, "pass"),
    (10, 5, 99, "99=ok", 3, "breach"),
    (1000, 5, 1, "99=load-failed", 1, "pass"),
    (1000, 5, 0, "99=load-failed", 0, "pass"),
]


@pytest.mark.skipif(os.geteuid() != 0, reason="recording needs root")
@pytest.mark.parametrize("ms,min_samples,status,mapping,code,verdict", CASES)
def test_record_exit_codes(tmp_path, server, ms, min_samples, status, mapping, code, verdict):
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO_FILE % (min_samples, ms))
    times = tmp_path / "client.log"
    script = "%s %s keepalive %d /items/ 1 5 > %s; exit %d" % (
        PYTHON, os.path.join(HERE, "clients.py"), server.port, times, status)
    args = ["-q", "--slo", str(slo), "-P", str(server.port)]
    if mapping:
        args += ["--command-exit", mapping]
    r = record(tmp_path, args, ["/bin/sh", "-c", script], check=False)
    assert r.rc == code, r.err
    assert r.report["command"]["exit_status"] == status
    # the mapping applied is saved: as given, and what this status was mapped to
    got = {x["status"]: x["as"] for x in r.report["command"]["exit_map"]}
    want_map = dict([(int(mapping.split("=")[0]), mapping.split("=")[1])] if mapping else [])
    assert got == want_map
    mapped = want_map.get(status)
    assert r.report["command"]["exit_mapped"] == mapped
    if status:
        want = "sloprobe: /bin/sh exited with status %d" % status
        if mapping and mapping.startswith("%d=" % status):
            want += " (--command-exit %s)" % mapping
        assert want in r.err.splitlines(), r.err
    else:
        assert "exited with status" not in r.err
    client = client_times_ms(times)
    assert len(client) == 5
    doc = verdicts(["report", str(tmp_path / "report.json")], 0, cwd=tmp_path)
    (o,) = doc["objectives"]
    assert o["verdict"] == verdict and o["judged"] == 5
    assert within_truth(o["observed"], nearest_rank(server.times_ms("/items/"), 95),
                        nearest_rank(client, 95)), (o["observed"], client)
    assert doc["run"]["command"]["exit_status"] == status
    assert doc["run"]["command"]["failed"] == (status != 0)
    assert doc["run"]["command"]["exit_map"] == r.report["command"]["exit_map"]
    assert doc["run"]["command"]["exit_mapped"] == mapped
    root = junit(["report", str(tmp_path / "report.json")], 0, cwd=tmp_path)
    f = case(root, "load-test command exit status").find("failure")
    if status and mapped != "ok":
        msg = "/bin/sh exited with status %d" % status
        if mapped:
            msg += " (--command-exit %d=%s)" % (status, mapped)
        assert f.get("message") == msg
        assert f.get("type") == {None: "command_failed", "breach": "breach",
                                 "load-failed": "load_failed"}[mapped]
    else:
        assert f is None
    # the text report's Load line says it too
    text = run(["report", str(tmp_path / "report.json")], cwd=tmp_path).stdout
    load, = [l.strip() for l in text.splitlines() if l.strip().startswith("Load ")]
    if mapped:
        assert load.endswith("(exit %d: %s by --command-exit %s)" % (status, mapped, mapping))
    elif mapping and status:
        assert load.endswith("(exit %d, not mapped by --command-exit %s)" % (status, mapping))
    elif mapping:
        assert load.endswith("(exit 0; --command-exit %s)" % mapping), load
    else:
        assert load.endswith("(exit %d)" % status), load
    c = case(root, o["objective"] + ": " + o["target"])
    assert (c.find("failure") is not None) == (verdict == "breach")
    assert (c.find("skipped") is not None) == (verdict == "insufficient_data")
    # judged while recording, without a warm-up: over the whole run
    assert c.get("time") == "%.3f" % r.report["window"]["duration_s"] == root.get("time")
    # judged offline from the same report without its verdicts: described the same way
    bare = dict(r.report)
    for k in ("slo", "slo_summary"):
        bare.pop(k, None)
    (tmp_path / "bare.json").write_text(json.dumps(bare))
    off = verdicts(["report", "--slo", str(slo), str(tmp_path / "bare.json")],
                   3 if verdict == "breach" else 0, cwd=tmp_path)
    (p,) = off["objectives"]
    assert off["slo"]["judged"] == "offline"
    assert (p["service"], p["source"], p["kind"], p["target"]) == (
        o["service"], o["source"], o["kind"], o["target"])
    assert o["service"] == r.row("/items/{id}")["service"] and o["source"] == "http"


@pytest.mark.skipif(os.geteuid() != 0, reason="recording needs root")
def test_recorded_route_with_markup(tmp_path, server):
    """A real request to a path with < & ' >: its route in the JUnit is the JSON report's."""
    path = "/q<a&b'c>/e"
    r = record(tmp_path, ["-q", "-P", str(server.port)],
               [PYTHON, os.path.join(HERE, "clients.py"), "paths", str(server.port), path])
    (row,) = [e for e in r.report["http"] if e["route"].startswith("/q<")]
    assert row["count"] == 1 and row["status"] == {"404": 1}
    slo = tmp_path / "q.yaml"
    slo.write_text("apiVersion: sloprobe/v1\nkind: SLO\nmin_samples: 1\nslos:\n"
                   "  - name: q\n    http: {route: \"/q*\"}\n    objectives: [\"p(95)<=1ms\","
                   " {errors: 4xx, le: 1%}]\n")
    root = junit(["report", "--slo", str(slo), str(tmp_path / "report.json")], 3)
    c = case(root, "4xx rate <= 1%: http GET " + row["route"])
    assert c.find("failure").get("message").startswith(
        "4xx rate <= 1%% breached on http GET %s of %s: observed 100.00 %%" % (
            row["route"], row["service"]))


@pytest.mark.parametrize("arg,why", [
    ("99", "'99' is not STATUS=WHAT"),
    ("0=ok", "status '0' is not 1 to 255"),
    ("99=4", "'4' is not ok, breach or load-failed"),
])
def test_command_exit_bad_values(arg, why):
    p = subprocess.run([SLOPROBE, "record", "--command-exit", arg, "--", "true"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert p.stderr.splitlines() == [
        "sloprobe: invalid --command-exit '%s': %s (see 'sloprobe record --help')" % (arg, why)]


# the exit-code table -------------------------------------------------------------------------

def exit_table():
    """docs/exit-codes.md: {code: (help words, {commands marked})}."""
    with open(os.path.join(ROOT, "docs", "exit-codes.md")) as f:
        rows = [l for l in f if re.match(r"\| \d \|", l)]
    cmds = ["record", "report", "diff", "merge"]
    table = {}
    for l in rows:
        cells = [c.strip() for c in l.strip().strip("|").split("|")]
        table[int(cells[0])] = (cells[1], {c for c, m in zip(cmds, cells[2:6]) if m == "x"})
    return table


@pytest.mark.parametrize("cmd", ["record", "report", "diff", "merge"])
def test_help_says_the_table(cmd):
    """Each --help lists exactly the codes the table marks for it, with the table's words."""
    table = exit_table()
    assert sorted(table) == [0, 1, 2, 3, 4, 5, 6]
    p = subprocess.run([SLOPROBE, cmd, "--help"], capture_output=True, text=True, timeout=30)
    text = " ".join(p.stdout.split())
    m = re.search(r"Exit status: (.*?) \(docs/exit-codes\.md\)\.", text)
    assert m, p.stdout
    items = re.split(r", (?=\d )", m.group(1))
    got = {int(i.split(" ", 1)[0]): i.split(" ", 1)[1] for i in items}
    want = {c for c, (_, cmds) in table.items() if cmd in cmds}
    assert set(got) == want, (got, want)
    for c in want:
        assert got[c].startswith(table[c][0]), (c, got[c], table[c][0])
    # README and slo.md point at the table rather than keep their own
    for doc in ("README.md", "docs/slo.md", "docs/analyze.md"):
        with open(os.path.join(ROOT, doc)) as f:
            assert "exit-codes.md" in f.read(), doc
