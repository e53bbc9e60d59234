# SPDX-License-Identifier: GPL-2.0-only
"""The HTML/SVG building blocks: the sample page that build/tests/test_svg writes must be
well-formed XML, self-contained, and render in headless Chromium without errors."""
import os
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

import chromium

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
