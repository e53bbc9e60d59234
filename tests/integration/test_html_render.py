# SPDX-License-Identifier: GPL-2.0-only
"""The HTML/SVG building blocks: the sample page that build/tests/test_svg writes must be
well-formed XML, self-contained, and render in headless Chromium without errors."""
import json
import os
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

import chromium
from conftest import PyApp, Redis, free_port, record, sh

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
TEST_SVG = os.path.join(REPO, "build", "tests", "test_svg")
SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    subprocess.run(["make", "-s", "-C", REPO, "build/tests/test_svg"], check=True,
                   capture_output=True, timeout=300)
    path = tmp_path_factory.mktemp("html") / "sample.html"
    p = subprocess.run([TEST_SVG], env=dict(os.environ, SVG_SAMPLE_OUT=str(path)),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    return path


def test_sample_is_well_formed(sample):
    text = sample.read_text(encoding="utf-8")  # strict: invalid UTF-8 would raise here
    root = ET.fromstring(text)
    assert root.tag == "html"
    svgs = list(root.iter(SVG_NS + "svg"))
    assert len(svgs) == 12
    for svg in svgs:
        assert svg.get("viewBox").startswith("0 0 900 ")
        # Every chart has an accessible title and no script.
        assert svg.find(SVG_NS + "title") is not None
        assert not list(svg.iter(SVG_NS + "script"))
    # The escaped texts come back intact through a real parser.
    assert root.find("head/title").text == 'sloprobe sample report <test> & "charts"'
    rows = root.findall(".//tbody/tr")
    assert [r.get("class") for r in rows] == ["breach", "pass", "insufficient"]
    assert rows[2].find("td").text == 'POST /orders p99 <all> & "quoted" \ufffd'
    titles = [t.text for t in root.iter(SVG_NS + "title")]
    assert any(t.startswith('UPDATE stock SET qty = qty - $1 WHERE item_id = $2 -- "quoted" '
                            '& <tagged>') for t in titles)
    assert "bad utf-8: \ufffd\ufffd \ufffd( end: 12 ms" in titles
    # Chart contents: one bar per non-empty bucket of the first histogram, two CDF lines.
    first = svgs[0]
    bars = [r for r in first.iter(SVG_NS + "rect") if r.get("class") == "bar"]
    assert len(bars) > 20
    assert len([e for e in svgs[1].iter(SVG_NS + "polyline") if e.get("class") == "cdf"]) == 2
    assert len([e for e in root.iter() if e.get("class") == "nodata"]) == 5


def test_sample_is_self_contained(sample):
    text = sample.read_text(encoding="utf-8")
    assert chromium.external_refs(text) == []
    assert "<script" not in text
    # The one URL on the page is text, which the check must let through.
    assert "https://example.com/x?a=1&amp;b=2" in text


def test_external_refs_detector():
    assert chromium.external_refs('<img src="http://x/a.png"/>') == ['src="http://']
    assert chromium.external_refs("<link href='//cdn/x.css'/>") == ["href='//"]
    assert chromium.external_refs("<style>@import 'https://f/x.css';</style>") != []
    assert chromium.external_refs("<div style=\"background:url(https://x/y)\"></div>") != []
    assert chromium.external_refs("<p>see https://example.com</p><a href=\"#x\">x</a>") == []


def test_sample_renders_in_chromium(sample):
    t0 = time.monotonic()
    png, errors = chromium.render(str(sample))
    elapsed = time.monotonic() - t0
    assert errors == []
    width, height = chromium.png_size(png)
    assert width == 1200
    # Twelve charts and tables make a long page; the screenshot covers all of it.
    assert 2500 <= height <= 16000, height
    assert chromium.png_colours(png, limit=16) > 8
    assert elapsed < 15, elapsed


def test_render_reports_errors(tmp_path):
    """The harness itself: a broken page must come back with its errors."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><p>x</p><script>console.error("boom");'
                    'undefined_fn();</script><img src="http://127.0.0.1:9/x.png"/>'
                    '<svg xmlns="http://www.w3.org/2000/svg"><rect width="-1" height="2"/></svg>'
                    '</body></html>')
    png, errors = chromium.render(str(page), timeout=20)
    assert os.path.getsize(png) > 0
    assert "console.error: boom" in errors
    assert any(e.startswith("exception: ReferenceError: undefined_fn") for e in errors), errors
    assert "network request: http://127.0.0.1:9/x.png" in errors
    # Invalid SVG attributes are only logged: the harness must see those too.
    assert any(e.startswith("log: Error: <rect> attribute width") for e in errors), errors


# The report pages, rendered: a recorded run with a breached SLO, and a synthetic report for
# the edge cases (a partial last interval, a 300-character fingerprint, 7 endpoints, tcp).

FIX = os.path.join(HERE, "fixtures")
SLOPROBE = os.path.join(REPO, "sloprobe")

# Every section the report page of a run with SLOs, a timeline, queries and tcp must have.
SECTIONS = ["overview", "causes", "slo", "scope", "endpoints", "saturation", "tcp", "db",
            "db-flags", "advice"]

# Per page, at a given width: the section ids, the text boxes of each chart that overlap, the
# page's scroll width, the banner, the causes and the figure captions.
PAGE_FACTS = r"""(() => {
  const box = t => { const r = t.getBoundingClientRect();
                     return [r.left, r.top, r.right, r.bottom, t.textContent]; };
  const overlaps = [];
  document.querySelectorAll('svg').forEach((svg, si) => {
    const b = [...svg.querySelectorAll('text')].map(box).filter(x => x[2] > x[0]);
    for (let i = 0; i < b.length; i++)
      for (let j = i + 1; j < b.length; j++) {
        const ox = Math.min(b[i][2], b[j][2]) - Math.max(b[i][0], b[j][0]);
        const oy = Math.min(b[i][3], b[j][3]) - Math.max(b[i][1], b[j][1]);
        if (ox > 0.5 && oy > 0.5)
          overlaps.push([svg.getAttribute('aria-label'), b[i][4], b[j][4]]);
      }
  });
  const banner = document.querySelector('#verdict');
  return {
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    overlaps: overlaps,
    scrollWidth: document.documentElement.scrollWidth,
    banner: banner ? [banner.className, banner.textContent] : null,
    bannerBottom: banner ? banner.getBoundingClientRect().bottom : null,
    causes: [...document.querySelectorAll('#causes li')].map(li =>
      [li.textContent, [...li.querySelectorAll('a')].map(a => a.getAttribute('href'))]),
    captions: [...document.querySelectorAll('figcaption')].map(c => c.textContent),
    charts: document.querySelectorAll('svg').length,
  };
})()"""


def analyze(args, cwd=FIX):
    return subprocess.run([SLOPROBE] + args, capture_output=True, text=True, timeout=60,
                          cwd=cwd)


def page_facts(path, width):
    value, errors = chromium.evaluate(str(path), PAGE_FACTS, width=width, height=800)
    assert errors == []
    return value


def synthetic(tmp_path):
    """db.json with 7 endpoints, an SLO that /list breached at t=3 s, a 1 s timeline whose last
    interval is 0.4 s long, a 300-character fingerprint and a tcp section."""
    with open(os.path.join(FIX, "db.json")) as f:
        r = json.load(f)
    lst, pair = r["http"][0], r["http"][1]
    assert (lst["route"], pair["route"]) == ("/list", "/pair")
    for i in range(5):
        e = json.loads(json.dumps(pair))
        e["route"] = "/quiet/%d" % i if i else \
            "/quiet/{tenant}/projects/{project_id}/builds/{build_id}/artifacts"
        r["http"].append(e)
    long_q = "select " + ", ".join("column_number_%03d" % i for i in range(16)) + \
        " from a_table_with_a_long_name where id = ?"
    assert len(long_q) >= 300
    r["db"][1]["query"] = long_q
    ts = [float(t) for t in range(1, 11)] + [10.4]

    def points(n_of):
        return [{"t": t, "count": n_of(k), "rate_per_s": n_of(k) / (0.4 if k == 10 else 1.0),
                 "p50": 10.0 + k, "p95": 20.0 + 5 * k, "p99": 30.0 + 8 * k, "errors": k % 3,
                 "5xx": k % 2, "4xx": (k % 3) - (k % 2) if k % 3 >= k % 2 else 0}
                for k, t in enumerate(ts)]
    r["timeline"] = {
        "interval_s": 1.0, "points_dropped": 0,
        "http": [{"service": e["service"], "method": e["method"], "route": e["route"],
                  "points": points(lambda k: 120 if k < 10 else 2)} for e in r["http"]],
        "db": [{"query": r["db"][0]["query"], "points": points(lambda k: 30)}],
    }
    r["slo"] = [
        {"name": "list", "objective": "p95 <= 20 ms", "target": "http GET /list",
         "kind": "latency_percentile", "threshold_ms": 20, "percentile": 95,
         "target_ratio": 0.95, "observed": 28.9, "margin": -8.9, "good": 10, "total": 20,
         "budget_consumed": 10.0, "verdict": "breach", "first_breach_s": 3.0},
        {"name": "pair", "objective": "p95 <= 500 ms", "target": "http GET /pair",
         "kind": "latency_percentile", "threshold_ms": 500, "percentile": 95,
         "target_ratio": 0.95, "observed": 1.0, "margin": 499.0, "good": 20, "total": 20,
         "budget_consumed": 0.0, "verdict": "pass", "first_breach_s": 7.0},
        {"name": "items-db", "objective": "p95 <= 5 ms", "target": "db " + long_q,
         "source": "db", "kind": "latency_percentile", "threshold_ms": 5, "percentile": 95,
         "target_ratio": 0.95, "observed": 1.0, "margin": 4.0, "good": 15, "total": 15,
         "budget_consumed": 0.0, "verdict": "pass", "first_breach_s": None},
    ]
    r["tcp"] = {
        "listeners": [{"port": 8000, "sockets": 1, "drops": 2, "accept_queue_max": 129,
                       "backlog": 128}],
        "peers": [{"role": "server", "port": 8000, "peer": "127.0.0.1", "retransmits": 5,
                   "syn_retransmits": 0, "resets_sent": 0, "resets_received": 0}],
        "host": {"listen_overflows": 4, "listen_drops": 4},
        "timeline": [{"t": t, "drops": 1 if k in (4, 5) else 0, "retransmits": k % 2,
                      "syn_retransmits": 0, "resets_sent": 0, "resets_received": 0}
                     for k, t in enumerate(ts)],
        "peers_lost": 0, "listeners_lost": 0, "reads_failed": 0,
    }
    src = tmp_path / "synthetic.json"
    src.write_text(json.dumps(r))
    return src, long_q


@pytest.fixture(scope="module")
def synthetic_page(tmp_path_factory):
    d = tmp_path_factory.mktemp("synthetic")
    src, long_q = synthetic(d)
    page = d / "synthetic.html"
    p = analyze(["report", "-f", "html", "-o", str(page), str(src)])
    assert p.returncode == 0, p.stderr
    return page, long_q


def test_synthetic_sections_banner_and_causes(synthetic_page):
    page, _ = synthetic_page
    v = page_facts(page, 1280)
    missing = [s for s in SECTIONS if s not in v["ids"]]
    assert missing == []
    # Every endpoint has its section, breaching first; its charts' anchor is ep-<index>.
    assert [i for i in v["ids"] if i.startswith("ep-")] == ["ep-%d" % i for i in range(7)]
    cls, text = v["banner"]
    assert cls == "banner breach"
    assert "SLOs breached: 1 of 3 objectives" in text
    assert "GET /list: p95 <= 20 ms, observed 28.90 ms, first breached at t=3.0 s" in text
    # Above the fold of a 1280x800 window: the banner.
    assert v["bannerBottom"] < 800
    # The N+1 on the breaching endpoint is the first cause, linked to its evidence.
    r = json.loads(page.with_suffix(".json").read_text())
    flag = r["db_flags"][0]
    assert flag["kind"] == "n_plus_one"
    qi = [q["query_id"] for q in r["db"]].index(flag["query_id"])
    first, links = v["causes"][0]
    assert first.startswith("n_plus_one on GET /list"), first
    assert links == ["#ep-0", "#q-%d" % qi, "#flag-0"], links
    assert len(v["causes"]) == 3
    for href in (h for _, hs in v["causes"] for h in hs):
        assert href[1:] in v["ids"], href


def test_synthetic_charts_rules_in_legends(synthetic_page):
    page, _ = synthetic_page
    html = page.read_text()
    root = ET.fromstring(html)
    v = page_facts(page, 1280)
    # Timelines say what they leave out; bars draw the 0.4 s interval hollow and say so.
    rules = [c for c in v["captions"] if "p95 drawn for intervals of >= 20 requests, p99 for"
             " >= 100" in c]
    assert rules and all("the last interval (0.4 s, cut short by the end of the run) is left"
                         " out" in c for c in rules), v["captions"]
    partial = [e for e in root.iter(SVG_NS + "rect") if "partial" in (e.get("class") or "")]
    assert partial and all(e.get("fill") == "#fff" for e in partial)
    assert "hollow: partial last interval (0.4 s)" in html
    # The partial interval is no cliff: no timeline path reaches t=10.4 s. Its x is where
    # the axis' 10.4 would be; every p95 path ends at t=10 instead.
    for svg in root.iter(SVG_NS + "svg"):
        paths = [e for e in svg.iter(SVG_NS + "path") if e.get("class") == "tl-p95"]
        for pth in paths:
            xs = [float(tok[1:]) for tok in pth.get("d").split() if tok[0] in "ML"]
            assert len(xs) == 10, (svg.get("aria-label"), len(xs))


def test_synthetic_fingerprint_cut_with_title(synthetic_page):
    page, long_q = synthetic_page
    root = ET.fromstring(page.read_text())
    # The scope of a DB objective, in the SLO table.
    slo = [tr for tr in root.iter("tr") if tr.find("td") is not None and
           tr.find("td").text == "items-db"][0]
    span = slo.findall("td")[2].find("span")
    assert span.get("title") == "db " + long_q
    assert len(span.text) == 80 and span.text.startswith("db select column_number_000")
    row = [tr for tr in root.iter("tr") if tr.get("id") == "q-1"][0]
    span = row.findall("td")[1].find("span")
    assert span.get("title") == long_q
    assert len(span.text) == 80 and span.text.endswith("\u2026")


def test_synthetic_verdict_cells_coloured(synthetic_page):
    """A passing objective's first breach is not green; only the verdict cell carries it."""
    page, _ = synthetic_page
    colours, errors = chromium.evaluate(str(page), """[...document.querySelectorAll(
        '#slo tbody tr')].map(tr => [...tr.cells].map(c => getComputedStyle(c).color))""")
    assert errors == []
    breach, pas, _ = colours
    # Columns: ... Verdict (7), First breach (8).
    assert breach[7] == "rgb(198, 40, 40)" and pas[7] == "rgb(26, 127, 55)"
    assert pas[8] == pas[0] and breach[8] == breach[0]


# 1000: two charts a row, each drawn below its natural size (the axes' corner labels of the
# demo's pages touched at 720-1200 px but not at 700 or 1280).
@pytest.mark.parametrize("width", [1280, 1000, 700])
def test_synthetic_no_overlap_no_overflow(synthetic_page, width):
    page, _ = synthetic_page
    v = page_facts(page, width)
    assert v["overlaps"] == []
    assert v["scrollWidth"] <= width


def test_histogram_rebinned(tmp_path):
    """No more than 8 bars per doubling of latency, whatever the 64 sub-buckets of the
    report's layout: ramp.json's endpoint has 440 buckets, up to 63 in one octave."""
    import math
    page = tmp_path / "ramp.html"
    assert analyze(["report", "-f", "html", "-o", str(page), "ramp.json"]).returncode == 0
    root = ET.fromstring(page.read_text())
    hists = [s for s in root.iter(SVG_NS + "svg") if s.get("aria-label") == "Latency histogram"]
    assert hists
    for svg in hists:
        bars = [float(r.get("x")) for r in svg.iter(SVG_NS + "rect") if r.get("class") == "bar"]
        assert bars
        # The x axis is log10(latency): an octave is log10(2) of the axis' span in pixels.
        ticks = [(float(t.get("x")), t.text) for t in svg.iter(SVG_NS + "text")
                 if t.get("y") == "288.0"]  # tick labels: plot bottom 270 + 18
        (x0, _), (x1, _) = ticks[0], ticks[-1]
        decades = math.log10(parse_ms(ticks[-1][1]) / parse_ms(ticks[0][1]))
        octave_px = (x1 - x0) / decades * math.log10(2)
        per = {}
        for x in bars:
            per.setdefault(int((x - x0) // octave_px), []).append(x)
        # 8 an octave; octaves of the axis and of the histogram's layout may be misaligned,
        # so an axis octave may hold parts of two: 9 at most.
        assert max(len(v) for v in per.values()) <= 9, per
        assert len(bars) >= 40  # 440 buckets over about 7 octaves


def parse_ms(label):
    n, unit = label.split()
    return float(n) * {"ns": 1e-6, "\u00b5s": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """23 requests of 50 ms against p95 <= 40 ms (breached), /boom answering 500 three times
    against a 5xx rate objective, /missing/1 answering 404 twice (test_slo.py's load)."""
    from conftest import Server, record
    from test_slo import load, slo_file

    d = tmp_path_factory.mktemp("recorded")
    server = Server()
    try:
        slo = slo_file(d, """
slos:
  - name: items-fast
    http: {route: "/items/*"}
    objectives:
      - {p: 95, le: 40ms}
  - name: health
    http: {route: "/missing/*"}
    objectives: [{p: 99, le: 5s}]
""")
        run = record(d, ["-q", "--slo", slo, "-P", str(server.port), "--interval", "1"],
                     load(server.port, d), check=False)
    finally:
        server.stop()
    assert run.rc == 3, run.err
    page = d / "report.html"
    p = analyze(["report", "-f", "html", "-o", str(page), str(d / "report.json")])
    assert p.returncode == 0, p.stderr
    return run, page


def test_recorded_banner_names_the_breach(recorded):
    run, page = recorded
    items = run.row("/items/{id}")
    assert items["count"] == 23
    v = page_facts(page, 1280)
    cls, text = v["banner"]
    assert cls == "banner breach"
    assert "SLOs breached: 1 of 2 objectives" in text
    assert "GET /items/{id}: p95 <= 40 ms, observed" in text
    lat = [s for s in run.report["slo"] if s["name"] == "items-fast"][0]
    assert "first breached at t=%.1f s" % lat["first_breach_s"] in text
    assert v["bannerBottom"] < 800
    # The breaching endpoint's section comes first among the endpoints.
    eps = [i for i in v["ids"] if i.startswith("ep-")]
    idx = [k for k, e in enumerate(run.report["http"]) if e["route"] == "/items/{id}"][0]
    assert eps[0] == "ep-%d" % idx
    for s in ("overview", "causes", "slo", "scope", "endpoints", "advice"):
        assert s in v["ids"]
    # The causes name the unexplained breach rather than leaving it out.
    assert any(links and links[0] == "#ep-%d" % idx for _, links in v["causes"]), v["causes"]


@pytest.mark.parametrize("width", [1280, 1000, 700])
def test_recorded_no_overlap_no_overflow(recorded, width):
    _, page = recorded
    v = page_facts(page, width)
    assert v["overlaps"] == []
    assert v["scrollWidth"] <= width


def test_recorded_screenshot(recorded):
    _, page = recorded
    png, errors = chromium.render(str(page), width=1280, height=800)
    assert errors == []
    w, h = chromium.png_size(png)
    assert w == 1280 and 2000 <= h <= 16000, h
    assert os.path.getsize(png) > 50000
    assert chromium.png_colours(png, limit=32) >= 16


def test_diff_banner_and_only_in(tmp_path):
    """The demo's headline in the diff: the N+1 query is gone, the endpoint got faster, the
    objective it breached is fixed."""
    with open(os.path.join(FIX, "db.json")) as f:
        r = json.load(f)
    slo = {"name": "list", "objective": "p95 <= 20 ms", "target": "http GET /list",
           "kind": "latency_percentile", "threshold_ms": 20, "percentile": 95,
           "target_ratio": 0.95, "observed": 28.9, "margin": -8.9, "good": 10, "total": 20,
           "budget_consumed": 10.0, "verdict": "breach", "first_breach_s": 3.0}
    r["slo"] = [slo]
    base = tmp_path / "base.json"
    base.write_text(json.dumps(r))
    nplus = r["flags"] if "flags" in r else r["db_flags"]
    gone = [f["query"] for f in nplus if f["kind"] == "n_plus_one"][0]
    r["db"] = [q for q in r["db"] if q["query"] != gone]
    r["db_flags"] = [f for f in r["db_flags"] if f.get("query") != gone]
    r["db_hotspots"] = {k: [i for i in v if i in [q["query_id"] for q in r["db"]]]
                        for k, v in r["db_hotspots"].items()}
    lst = r["http"][0]
    lst["db"]["queries_per_request"] = 1.0
    lst["db"]["db_time_ms_per_request"] = 0.5
    lst["db"]["top"] = [t for t in lst["db"].get("top", []) if t.get("query") != gone]
    r["slo"] = [dict(slo, observed=9.0, margin=11.0, good=20, verdict="pass",
                     first_breach_s=None, budget_consumed=0.0)]
    after = tmp_path / "after.json"
    after.write_text(json.dumps(r))
    page = tmp_path / "diff.html"
    p = analyze(["diff", "-f", "html", "-o", str(page), str(base), str(after)], cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    html = page.read_text()
    root = ET.fromstring(html)
    assert root.find("head/title").text == "sloprobe diff: base.json vs after.json"
    v = page_facts(page, 1280)
    cls, text = v["banner"]
    assert "1 objective fixed (breached, now pass)" in text, text
    assert "objective fixed list: p95 <= 20 ms" in text
    assert "endpoint improved GET /list: p95" in text
    slo_row = [[("".join(c.itertext())) for c in tr] for tr in root.iter("tr")
               if tr.find("td") is not None and tr.find("td").text == "list"][0]
    assert slo_row[2:] == ["breach (28.90 ms)", "pass (9.00 ms)", "fixed"], slo_row
    assert "gone: query only in the baseline: %s" % gone in html
    lst_row = [[("".join(c.itertext())) for c in tr] for tr in root.iter("tr")
               if tr.find("td") is not None and tr.find("td").text == "GET /list"][0]
    assert lst_row[6] == "21.00 -> 1.00", lst_row
    assert v["overlaps"] == [] and v["scrollWidth"] <= 1280
    assert page_facts(page, 700)["scrollWidth"] <= 700
    # With --label, what one run has alone is named by the label, in every format.
    labels = ["--label", "baseline=v1 <old>", "--label", "after=v2"]
    p = analyze(["diff", "-f", "html", "-o", str(page)] + labels + [str(base), str(after)],
                cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert "gone: query only in v1 &lt;old&gt;: %s" % gone in page.read_text()
    text = analyze(["diff"] + labels + [str(base), str(after)]).stdout
    assert "  only in v1 <old>: %s" % gone[:20] in text, text
    assert "0 only in v2, 1 only in v1 <old>" in text, text
    md = analyze(["diff", "-f", "markdown"] + labels + [str(base), str(after)]).stdout
    assert "- only in v1 \\<old\\>: `%s" % gone[:20] in md, md


def test_page_checks_see_overlap_and_overflow(tmp_path):
    """The checks above can fail: two labels on top of each other and a table wider than the
    window are found."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><svg xmlns="http://www.w3.org/2000/svg" '
                    'aria-label="c" width="300" height="100"><text x="10" y="20">p95 SLO</text>'
                    '<text x="30" y="24">p95</text></svg><table><tr><td>%s</td></tr></table>'
                    '</body></html>' % ("x" * 400))
    v = page_facts(page, 700)
    assert v["overlaps"] == [["c", "p95 SLO", "p95"]]
    assert v["scrollWidth"] > 700


def test_diff_labels(tmp_path):
    """--label names the runs in every format's headings; a bad one is a one-line usage
    error."""
    base, after = os.path.join(FIX, "baseline.json"), os.path.join(FIX, "after.json")
    labels = ["--label", "baseline=v1.4 <old>", "--label", "after=v1.5"]
    page = tmp_path / "diff.html"
    p = analyze(["diff", "-f", "html", "-o", str(page)] + labels + [base, after], cwd=FIX)
    assert p.returncode == 0, p.stderr
    root = ET.fromstring(page.read_text())
    assert root.find("head/title").text == \
        "sloprobe diff: v1.4 <old> (baseline.json) vs v1.5 (after.json)"
    texts = ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]
    assert "v1.4 <old>" in texts and "v1.5" in texts  # the legends
    text = analyze(["diff"] + labels + ["baseline.json", "after.json"]).stdout
    assert text.splitlines()[0] == "sloprobe diff: v1.4 <old> (baseline.json) -> v1.5 " \
        "(after.json)"
    assert [ln.split()[0] for ln in text.splitlines()[2:5]] == ["RUN", "v1.4", "v1.5"]
    md = analyze(["diff", "-f", "markdown"] + labels + ["baseline.json", "after.json"]).stdout
    assert md.splitlines()[0] == "# Tuning diff: v1.4 \\<old\\> (baseline.json) vs v1.5 " \
        "(after.json)"
    for bad in ("before=x", "after=", "baseline"):
        p = analyze(["diff", "--label", bad, "baseline.json", "after.json"])
        assert p.returncode == 2 and p.stdout == ""
        assert p.stderr.count("\n") == 1 and "invalid --label" in p.stderr, p.stderr


@pytest.mark.parametrize("verdicts,cls,head", [
    (("pass", "pass", "pass"), "pass", "SLOs held: 3 of 3 objectives passed"),
    (("insufficient_data",) * 3, "insufficient",
     "Insufficient data: none of 3 objectives could be judged"),
    ((), "insufficient", "No SLO judged"),
])
def test_banner_verdicts(tmp_path, verdicts, cls, head):
    src, _ = synthetic(tmp_path)
    r = json.loads(src.read_text())
    if verdicts:
        for s, v in zip(r["slo"], verdicts):
            s.update(verdict=v, first_breach_s=None)
            if v != "pass":
                s.update(observed=None, margin=None, budget_consumed=None)
    else:
        del r["slo"]
    src.write_text(json.dumps(r))
    page = tmp_path / "page.html"
    assert analyze(["report", "-f", "html", "-o", str(page), str(src)]).returncode == 0
    root = ET.fromstring(page.read_text())
    banner = [d for d in root.iter("div") if d.get("id") == "verdict"][0]
    assert banner.get("class") == "banner " + cls
    assert banner.find("div").text == head
    # Nothing breached: the causes are the flags, not an endpoint's breach.
    assert "breached its objectives" not in page.read_text()


def test_too_few_requests_said_not_drawn(tmp_path):
    """Intervals of 10 requests have no p95 worth drawing: the page says so instead of an
    empty chart, and names the partial interval it left out."""
    src, _ = synthetic(tmp_path)
    r = json.loads(src.read_text())
    for s in r["timeline"]["http"] + r["timeline"]["db"]:
        for p in s["points"]:
            p.update(count=10, rate_per_s=10.0, errors=0, **{"4xx": 0, "5xx": 0})
    src.write_text(json.dumps(r))
    page = tmp_path / "page.html"
    assert analyze(["report", "-f", "html", "-o", str(page), str(src)]).returncode == 0
    html = page.read_text()
    assert 'class="tl-p95"' not in html and 'class="tl-p99"' not in html
    said = "Percentiles per interval not drawn: no interval had 20 requests or more (the " \
        "last, 0.4 s long, is left out: the end of the run cut it short)"
    # The overview, each of the 7 endpoints, the queries.
    assert html.count(said) == 1 + 7 + 1


def md_tables(md):
    """{heading: [rows of cells]} of a markdown report's tables, code spans unwrapped."""
    out, head = {}, None
    for ln in md.splitlines():
        if ln.startswith("## "):
            head = ln[3:]
        elif ln.startswith("| ") and head:
            out.setdefault(head, []).append([c.strip().replace("`", "")
                                             for c in ln[2:-2].split(" | ")])
    return out


def html_rows(root, caption):
    for table in root.iter("table"):
        cap = table.find("caption")
        if cap is not None and cap.text == caption:
            return [["".join(c.itertext()) for c in tr] for tr in table.iter("tr")]
    raise AssertionError("no table " + caption)


def test_parity_with_markdown(synthetic_page, tmp_path):
    """The HTML tables hold the markdown report's figures, cell for cell (they are the same
    cells): scope, DB work per endpoint, hotspots, tcp; saturation's lines are the text's."""
    page, long_q = synthetic_page
    src = page.with_suffix(".json")
    md = md_tables(analyze(["report", "-f", "markdown", str(src)]).stdout)
    root = ET.fromstring(page.read_text())
    scope = None  # its table has no caption
    for sec in root.iter("section"):
        if sec.get("id") == "scope":
            scope = [["".join(c.itertext()) for c in tr] for tr in sec.iter("tr")]
    assert scope == md["Scope"]
    assert any(r[0] == "Load" and r[1].startswith("/bin/sh -ec 'for c in") for r in scope)
    assert html_rows(root, "Database work per endpoint") == md["Database work per endpoint"]
    hot, mdhot = html_rows(root, "by total time"), md["DB hotspots (by total time)"]
    assert hot[0] == mdhot[0]
    assert [r[2:] for r in hot] == [r[2:] for r in mdhot]  # the query: cut at 80, not 100
    assert html_rows(root, "Listeners")[1:] == md["TCP (what the kernel saw)"][1:2]
    text = analyze(["report", str(src)]).stdout
    sat = text.split("\nSaturation\n", 1)[1].split("\n\n", 1)[0]
    for sec in root.iter("section"):
        if sec.get("id") == "saturation":
            assert [p.text for p in sec.iter("p")] == [ln.strip() for ln in
                                                        sat.splitlines() if ln.strip()]


@pytest.mark.parametrize("args", [
    ["report", "ramp.json"],
    ["report", "--slo", "items-slo.yaml", "baseline.json"],
    ["report", "cache-baseline.json"],
    ["report", "outbound.json"],
    ["diff", "baseline.json", "after.json"],
    ["diff", "cache-baseline.json", "cache-after.json"],
], ids=["ramp", "slo", "cache", "outbound", "diff", "diff-cache"])
def test_fixture_pages_lay_out(tmp_path, args):
    """Every fixture's page, at 1280, 1000 and 700 px: no label over another, no sideways
    scroll."""
    page = tmp_path / "page.html"
    p = analyze([args[0], "-f", "html", "-o", str(page)] + args[1:])
    assert p.returncode in (0, 3), p.stderr
    for width in (1280, 1000, 700):
        v = page_facts(page, width)
        assert v["overlaps"] == [], (width, v["overlaps"])
        assert v["scrollWidth"] <= width
        assert v["banner"] is not None


def test_titles_relative_to_here(tmp_path):
    """A path under the current directory is shown relative to it, in every format's title;
    one elsewhere as given."""
    (tmp_path / "runs").mkdir()
    src = tmp_path / "runs" / "db.json"
    src.write_text(open(os.path.join(FIX, "db.json")).read())
    text = analyze(["report", str(src)], cwd=tmp_path).stdout
    assert text.splitlines()[0] == "sloprobe report: runs/db.json"
    html = analyze(["report", "-f", "html", str(src)], cwd=tmp_path).stdout
    assert ET.fromstring(html).find("head/title").text.startswith("sloprobe report: runs/db.json")
    diff = analyze(["diff", str(src), str(src)], cwd=tmp_path).stdout
    assert diff.splitlines()[0] == "sloprobe diff: runs/db.json -> runs/db.json"
    text = analyze(["report", str(src)], cwd=FIX).stdout
    assert text.splitlines()[0] == "sloprobe report: %s" % src


# The diff of two recorded runs of an API with a Redis cache and a payment provider, and of
# connects refused by a closed port: its cache, outbound, per-endpoint and tcp sections are HTML
# tables whose cells are the runs' own numbers.

TCPLOAD = os.path.join(HERE, "tcpload.py")
# Per run: /plan/<id> requests (ids 1..n, keys of 1..cached set: hits), /pay/<id> requests,
# connects refused.
DEP_RUNS = {"base": (10, 5, 4, 3), "tuned": (20, 20, 8, 7)}


@pytest.fixture(scope="module")
def dep_diff(tmp_path_factory):
    rs = Redis()
    provider = app = None
    try:
        provider = PyApp("test_outbound.py", "serve", "{port}")
        app = PyApp("redisapp.py", "{port}", rs.port, provider.port)
        closed = free_port()
        runs = {}
        for name, (plans, cached, pays, refused) in DEP_RUNS.items():
            d = tmp_path_factory.mktemp(name)
            rs.cli("FLUSHALL")
            rs.cli("SET", "cfg:flags", "1", "EX", "600")
            for i in range(1, cached + 1):
                rs.cli("SET", "user:%d:plan" % i, "pro", "EX", "600")
            url = "http://127.0.0.1:%d" % app.port
            script = ("curl -sf %s >/dev/null; curl -sf %s >/dev/null; %s %s refused %d %d %s"
                      % (" ".join("%s/plan/%d" % (url, i) for i in range(1, plans + 1)),
                         " ".join("%s/pay/%d" % (url, i) for i in range(1, pays + 1)),
                         "/usr/bin/python3", TCPLOAD, closed, refused, d / "refused"))
            run = record(d, ["-q"] + [a for p in (app.port, rs.port, provider.port, closed)
                                      for a in ("-P", str(p))], sh(script))
            # The known workload, as the clients saw it: every connect refused.
            assert int((d / "refused").read_text()) == refused
            runs[name] = (d / "report.json", run.report)
    finally:
        for p in (app, provider):
            if p:
                p.stop()
        rs.stop()
    out = tmp_path_factory.mktemp("depdiff")
    page = out / "diff.html"
    (a, ra), (b, rb) = runs["base"], runs["tuned"]
    labels = ["--label", "baseline=base", "--label", "after=tuned"]
    p = analyze(["diff", "-f", "html", "-o", str(page)] + labels + [str(a), str(b)], cwd=out)
    assert p.returncode == 0, p.stderr
    js = analyze(["diff", "-f", "json"] + labels + [str(a), str(b)], cwd=out)
    assert js.returncode == 0, js.stderr
    return page, ra, rb, json.loads(js.stdout), closed


def section_tables(root, sid):
    """The rows (cells' text) of each table of section sid, the header row first."""
    sec = [s for s in root.iter("section") if s.get("id") == sid]
    assert len(sec) == 1, sid
    tables = list(sec[0].iter("table"))
    for t in tables:
        assert t.find("thead") is not None  # the page's script sorts it by its headers
    return [[["".join(c.itertext()) for c in tr] for tr in t.iter("tr")] for t in tables], \
        ["".join(p.itertext()) for p in sec[0].iter("p")]


def pct(x):
    return "-" if x is None else "%.2f %%" % (x * 100)


def test_diff_dependency_sections_are_tables(dep_diff):
    page, ra, rb, doc, closed = dep_diff
    html = page.read_text()
    root = ET.fromstring(html)
    assert "<pre" not in html
    # Cache: a row per (command, pattern) of both runs, their calls and hit ratios as the reports
    # have them; the run's hit ratio above.
    (cache,), paras = section_tables(root, "cache")
    assert cache[0] == ["Command and key pattern", "Calls", "p95 ms", "Hit ratio", "Change"]
    rows_a = {(r["command"], r["pattern"]): r for r in ra["cache"]["rows"]}
    rows_b = {(r["command"], r["pattern"]): r for r in rb["cache"]["rows"]}
    both = sorted(set(rows_a) & set(rows_b))
    assert ("GET", "user:{id}:plan") in both and ("GET", "cfg:flags") in both
    assert len(cache) - 1 == len(both)
    cells = {tuple(r[0].split(" ", 1)): r for r in cache[1:]}
    for k in both:
        x, y = rows_a[k], rows_b[k]
        assert cells[k][1] == "%d -> %d" % (x["count"], y["count"])
        assert cells[k][3] == "%s -> %s" % (pct(x.get("hit_ratio")), pct(y.get("hit_ratio")))
    # The known workload: 2 reads of the user's plan per /plan request, hits for cached ids.
    assert cells[("GET", "user:{id}:plan")][1] == "20 -> 40"
    assert cells[("GET", "user:{id}:plan")][3] == "50.00 % -> 100.00 %"
    assert paras[0].startswith("Hit ratio of the run: %s -> %s" % (
        pct(ra["cache"]["hit_ratio"]), pct(rb["cache"]["hit_ratio"])))
    # Outbound: the rows the JSON diff compared, with its counts.
    (out,), _ = section_tables(root, "outbound")
    compared = [c for c in doc["changes"]["outbound"]
                if c["count_baseline"] is not None and c["count_after"] is not None]
    assert len(out) - 1 == len(compared) >= 1
    charge = [c for c in compared if c["route"] == "/shop/charge"]
    assert len(charge) == 1 and (charge[0]["count_baseline"], charge[0]["count_after"]) == (4, 8)
    row = [r for r in out[1:] if r[0].endswith("GET /shop/charge")]
    assert len(row) == 1 and row[0][1] == "4 -> 8", out
    # Per endpoint: the cache and outbound calls per request the reports have.
    (deps,), _ = section_tables(root, "deps")
    eps = {r[0]: r for r in deps[1:]}
    for route, kind, col in (("/plan/{id}", "cache", 1), ("/pay/{id}", "outbound", 5)):
        x = [e for e in ra["http"] if e["route"] == route][0][kind]
        y = [e for e in rb["http"] if e["route"] == route][0][kind]
        assert eps["GET " + route][col] == "%.2f -> %.2f" % (x["calls_per_request"],
                                                              y["calls_per_request"])
    assert eps["GET /plan/{id}"][1] == "3.00 -> 3.00"
    assert eps["GET /pay/{id}"][5] == "1.00 -> 1.00"
    # TCP: the refused connects, as the clients counted them, and as the reports sum them.
    (tcp,), _ = section_tables(root, "tcp")
    assert tcp[0] == ["Port", "Role", "Count", "Baseline", "After", "Change"]

    def summed(rep, role, port, kind):
        return sum(p[kind] for p in rep["tcp"]["peers"] if p["role"] == role and p["port"] == port)
    for role, kind in (("server", "resets_sent"), ("client", "resets_received")):
        want = [str(closed), role, kind, str(summed(ra, role, closed, kind)),
                str(summed(rb, role, closed, kind))]
        assert want[3:] == ["3", "7"] and want in [r[:5] for r in tcp[1:]], tcp
    # Numbers are right-aligned (the page's default past the first column; the port inline).
    sec = [s for s in root.iter("section") if s.get("id") == "tcp"][0]
    first = sec.find(".//tbody/tr")
    assert first[0].get("style") == "text-align:right" and first[3].get("style") is None
    assert first[1].get("style").startswith("text-align:left")


@pytest.mark.parametrize("width", [1280, 700])
def test_diff_dependency_sections_lay_out(dep_diff, width):
    page = dep_diff[0]
    v = page_facts(page, width)
    assert [i for i in ("deps", "cache", "outbound", "tcp") if i in v["ids"]] == \
        ["deps", "cache", "outbound", "tcp"]
    assert v["overlaps"] == [] and v["scrollWidth"] <= width
