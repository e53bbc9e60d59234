# SPDX-License-Identifier: GPL-2.0-only
"""Untrusted text never reaches a terminal or a markdown document raw (issue 11).

Any local user names its processes (prctl), a query names its columns, a client picks its
paths: escape sequences there must not drive root's terminal, and markup must not render when
a report is pasted into a merge request. Every text sink shows them escaped (src/lib/textesc.h);
the JSON report keeps the exact value.
"""
import json
import os
import re
import shlex
import subprocess

from conftest import HERE, PYTHON, SLOPROBE, PyApp

# OSC "set the window title" ended by BEL, then CSI "red background": 13 bytes, within the 15
# that a process name keeps.
EVIL = "\x1b]0;PWN\x07\x1b[41m"
EVIL_SHOWN = b"\\x1b]0;PWN\\x07\\x1b[41m"
SQL_EVIL = "\x1b]0;PWN\x07"
SQL_EVIL_SHOWN = b"\\x1b]0;PWN\\x07"


def sloprobe(args, timeout=90):
    """Runs sloprobe ARGS; stdout and stderr as bytes, undecoded: every byte is checked."""
    return subprocess.run([SLOPROBE] + list(args), capture_output=True, timeout=timeout,
                          cwd=HERE)


def record(out, args, command):
    p = sloprobe(["record", "-o", str(out)] + list(args) + ["--"] + list(command))
    assert p.returncode == 0, (p.returncode, p.stderr)
    return p


def assert_no_raw(data, what):
    """No ESC, BEL or other C0 control but line ends, no C1 control, no invalid UTF-8."""
    text = data.decode("utf-8")  # raises on invalid UTF-8
    bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]
    assert not bad, "%s has raw control characters %r" % (what, sorted(set(bad)))


def client(port, *paths):
    """A shell command: the paths requested 3 times each, then one request held open
    for 1.2 s so that the live view prints intervals."""
    cmds = ["%s %s path %d %s 3" % (PYTHON, os.path.join(HERE, "clients.py"), port,
                                     shlex.quote(p)) for p in paths]
    cmds.append("%s %s idle %d /idle 1.2" % (PYTHON, os.path.join(HERE, "clients.py"), port))
    return ["/bin/sh", "-ec", " && ".join(cmds)]


def outside_code(line):
    """A markdown line less its code spans: a run of n backticks opens one, the next run of
    exactly n closes it (CommonMark); a backslash-escaped backtick opens nothing."""
    out, i = [], 0
    while i < len(line):
        if line[i] == "\\":
            out.append(line[i:i + 2])
            i += 2
            continue
        if line[i] != "`":
            out.append(line[i])
            i += 1
            continue
        j = i
        while j < len(line) and line[j] == "`":
            j += 1
        close = None
        for m in re.finditer(r"`+", line[j:]):
            if len(m.group()) == j - i:
                close = j + m.end()
                break
        if close is None:
            out.append(line[i:j])
            i = j
        else:
            out.append(" ")
            i = close
    return "".join(out)


def assert_no_markup(md, what):
    """Outside code spans: no HTML (a tag, a comment), no link or image, no autolink, no
    mention; a table row keeps its cells."""
    for line in md.splitlines():
        t = outside_code(line)
        assert not re.search(r"<[A-Za-z/!?]", t), "%s: HTML in %r" % (what, line)
        assert "](" not in t and "://" not in t, "%s: link in %r" % (what, line)
        assert "@all" not in t, "%s: mention in %r" % (what, line)
    # A table: consecutive lines starting with '|', every one with as many cell bars.
    for table in re.findall(r"(?m)(?:^\|.*\n)+", md):
        bars = {len(re.findall(r"(?<!\\)\|", l)) for l in table.splitlines()}
        assert len(bars) == 1, "%s: a row splits into more cells:\n%s" % (what, table)


def test_process_name(tmp_path):
    """A server named by prctl with OSC and CSI sequences: the live view, the summary, the
    reports and the diff show the name escaped; the JSON keeps it."""
    app = PyApp("nameapp.py", "{port}", EVIL)
    try:
        runs = []
        for name in ("a.json", "b.json"):
            p = record(tmp_path / name, ["-i", "0.5", "--port", str(app.port)],
                       client(app.port, "/items/1"))
            for data, what in ((p.stdout, "record's stdout"), (p.stderr, "record's stderr")):
                assert_no_raw(data, what)
            # The live view's intervals and the summary both name the service.
            assert p.stdout.count(EVIL_SHOWN) >= 2, p.stdout
            assert b"Summary:" in p.stdout
            runs.append(str(tmp_path / name))
    finally:
        app.stop()
    report = json.load(open(runs[0]))
    assert {r["service"] for r in report["http"]} == {"%s:%d" % (EVIL, app.port)}
    outputs = {
        "report": ["report", runs[0]],
        "report -f markdown": ["report", "-f", "markdown", runs[0]],
        "diff": ["diff", runs[0], runs[1]],
        "diff -f markdown": ["diff", "-f", "markdown", runs[0], runs[1]],
    }
    for what, args in outputs.items():
        p = sloprobe(args)
        assert p.returncode == 0, (what, p.stderr)
        assert_no_raw(p.stdout, what)
        assert EVIL_SHOWN in p.stdout, (what, p.stdout)
        if "markdown" in what:
            assert_no_markup(p.stdout.decode(), what)


def test_sql_identifier(tmp_path, pg):
    """A quoted identifier stays in the fingerprint, escapes and all: escaped in the summary and
    the reports, exact in the JSON."""
    sql = 'select 1 as "%s"' % SQL_EVIL
    out = tmp_path / "db.json"
    p = record(out, ["-P", str(pg.port)],
               ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres",
                "-d", "postgres", "-o", "/dev/null", "-c", sql])
    assert_no_raw(p.stdout, "record's stdout")
    assert_no_raw(p.stderr, "record's stderr")
    assert SQL_EVIL_SHOWN in p.stdout, p.stdout
    queries = [q["query"] for q in json.load(open(out))["db"]]
    assert 'select ? as "%s"' % SQL_EVIL in queries, queries
    for fmt in ("text", "markdown"):
        p = sloprobe(["report", "-f", fmt, str(out)])
        assert p.returncode == 0, p.stderr
        assert_no_raw(p.stdout, "report -f " + fmt)
        # The fingerprint, and the traced command line (the Load line) that carries it.
        assert p.stdout.count(SQL_EVIL_SHOWN) >= 2, p.stdout
        if fmt == "markdown":
            assert b'`select ? as "\\x1b]0;PWN\\x07"`' in p.stdout, p.stdout
            assert_no_markup(p.stdout.decode(), "report -f markdown")


MARKUP_PATHS = [
    "/<img/src=x/onerror=alert(1)>",
    "/[x](http://evil.example/)",
    "/![i](https://evil.example/i.png)",
    "/<!--x-->/a|b/`c`/@all",
    "/https://evil.example/",
]


def test_markup_in_paths(tmp_path):
    """Paths with HTML, links, images, a table bar, backticks, a bare URL and a mention: the
    markdown report and diff render none of it."""
    app = PyApp("nameapp.py", "{port}", "web")
    try:
        out = tmp_path / "paths.json"
        record(out, ["-q", "--port", str(app.port)], client(app.port, *MARKUP_PATHS))
    finally:
        app.stop()
    routes = {r["route"] for r in json.load(open(out))["http"]}
    assert "/<img/src=x/onerror=alert(1)>" in routes, routes
    assert "/[x](http://evil.example/)" in routes, routes
    for what, args in (("report -f markdown", ["report", "-f", "markdown", str(out)]),
                       ("diff -f markdown", ["diff", "-f", "markdown", str(out), str(out)])):
        p = sloprobe(args)
        assert p.returncode == 0, (what, p.stderr)
        md = p.stdout.decode()
        assert "`GET /<img/src=x/onerror=alert(1)>`" in md, md
        assert_no_markup(md, what)


def test_routes_from_warnings_bounded(tmp_path):
    """50 000 paths route.h cannot take: five warnings, then one line with the count; the
    escapes in a path are shown escaped."""
    paths = {"/a%s" % SQL_EVIL: {}}
    paths.update(("bad%d" % i, {}) for i in range(50000))
    paths["/ok"] = {"get": {}}
    doc = tmp_path / "openapi.json"
    doc.write_text(json.dumps({"openapi": "3.0.0", "paths": paths}))
    p = sloprobe(["record", "-q", "--routes-from", str(doc), "-o", str(tmp_path / "r.json"),
                  "--", "true"])
    assert p.returncode == 0, p.stderr
    assert_no_raw(p.stderr, "record's stderr")
    lines = [l for l in p.stderr.decode().splitlines() if "openapi.json" in l]
    assert len(lines) == 6, lines
    assert lines[0].endswith("path '/a\\x1b]0;PWN\\x07' skipped: space or control byte at "
                             "offset 2"), lines[0]
    assert lines[5].endswith("openapi.json: 49996 more paths skipped"), lines[5]
