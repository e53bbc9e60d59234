# SPDX-License-Identifier: GPL-2.0-only
"""A run that lost events cannot pass an SLO gate: --max-drop-pct, exit status 4.

Real losses, not simulated ones: the load test stops sloprobe (SIGSTOP) while it sends its
requests, so the kernel's 1 MiB ring buffer fills and the rest of the events are dropped
(events.ringbuf_full); it lets sloprobe go on (SIGCONT) before it exits.
"""
import subprocess

from conftest import SLOPROBE, record, sh

N = 3000
SLO = """apiVersion: sloprobe/v1
kind: SLO
min_samples: 1
slos:
  - name: everything
    http: all
    objectives: ["p(95)<=10s", {errors: 5xx, le: 50%}]
"""


def ab(port, stop):
    load = "ab -q -n %d -c 4 http://127.0.0.1:%d/ >/dev/null" % (N, port)
    return sh("kill -STOP $PPID; %s; kill -CONT $PPID" % load if stop else load)


def run(tmp_path, server, stop, extra=()):
    slo = tmp_path / "slo.yaml"
    slo.write_text(SLO)
    args = ["-q", "--ringbuf-mb", "1", "-P", str(server.port), "--slo", str(slo)] + list(extra)
    return record(tmp_path, args, ab(server.port, stop), timeout=120, check=False), slo


def test_lost_events_make_verdicts_incomplete(tmp_path, server):
    run_, slo = run(tmp_path, server, True)
    rep = run_.report
    ev = rep["events"]
    assert ev["ringbuf_full"] > 0, ev
    pct = 100.0 * ev["dropped"] / (ev["dropped"] + ev["total"])
    assert pct > 0.1, ev
    # Every request answered, yet not every one seen: the verdicts cannot be trusted either way.
    seen = sum(r["count"] for r in rep["http"])
    assert seen < N, seen
    assert run_.rc == 4, (run_.rc, run_.err)
    err = run_.err.strip().splitlines()
    assert any(l.startswith("sloprobe: SLO verdicts judged on incomplete data: ") for l in err), err
    assert any("events dropped" in l and "SLO verdicts judged on incomplete data" in l
               for l in err), err
    summ = rep["slo_summary"]
    assert summ["incomplete_data"] is True and summ["max_drop_pct"] == 0.1, summ
    assert abs(summ["dropped_pct"] - pct) < 1e-3, (summ, pct)
    assert rep["slo"] and all(r["incomplete_data"] is True for r in rep["slo"]), rep["slo"]

    # The analyzer says so too, and exits 4 when it judges.
    out = tmp_path / "report.json"
    p = subprocess.run([SLOPROBE, "report", "--slo", str(slo), str(out)], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 4, (p.returncode, p.stderr)
    assert "* judged on incomplete data" in p.stdout, p.stdout
    assert p.stderr.strip().endswith("SLO verdicts judged on incomplete data"), p.stderr
    p = subprocess.run([SLOPROBE, "report", str(out)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and "figures are incomplete" in p.stderr, (p.returncode, p.stderr)


def test_limit_is_the_users(tmp_path, server):
    """The same losses under --max-drop-pct 100 are accepted: exit 0, verdicts complete."""
    run_, _ = run(tmp_path, server, True, ["--max-drop-pct", "100"])
    assert run_.report["events"]["dropped"] > 0
    assert run_.rc == 0, (run_.rc, run_.err)
    assert run_.report["slo_summary"]["incomplete_data"] is False
    assert not any(r["incomplete_data"] for r in run_.report["slo"])


def test_whole_run_passes(tmp_path, server):
    run_, _ = run(tmp_path, server, False)
    assert run_.rc == 0, (run_.rc, run_.err)
    assert run_.report["events"]["dropped"] == 0
    assert sum(r["count"] for r in run_.report["http"]) == N
    assert run_.report["slo_summary"]["incomplete_data"] is False
    assert run_.report["slo_summary"]["verdict"] == "pass"
