# SPDX-License-Identifier: GPL-2.0-only
"""Safe to run as root on a shared host: the files sloprobe writes (-o) and who runs the COMMAND
of `record` (docs/security.md).

Other users' traps are planted by `nobody` in a sticky world-writable directory, as in /tmp.
Every -o path is replaced through a temporary file next to it, so the tests also check that
nothing but the target changed and that no temporary file ('.NAME.sloprobe-XXXXXX') is left.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time

import jsonschema
import pytest

from conftest import HERE, SCHEMA, SLOPROBE

FIX = os.path.join(HERE, "fixtures")
BASE = os.path.join(FIX, "baseline.json")
AFTER = os.path.join(FIX, "after.json")
NOBODY = 65534
TMP_RE = re.compile(r"^\.(.+)\.sloprobe-[A-Za-z0-9]{6}$")


def run(args, timeout=60, env=None):
    return subprocess.run([SLOPROBE] + args, capture_output=True, text=True, timeout=timeout,
                          cwd=HERE, env=env)


def one_line_error(p, code, needle):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sloprobe: "), p.stderr
    assert needle in lines[0], p.stderr


def as_nobody(argv):
    subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + argv,
                   check=True, capture_output=True, timeout=10)


def leftovers(d):
    return [n for n in os.listdir(d) if TMP_RE.match(n)]


def sudo_env(uid=NOBODY, gid=NOBODY):
    env = dict(os.environ)
    env.update(SUDO_UID=str(uid), SUDO_GID=str(gid), SUDO_USER="nobody")
    return env


@pytest.fixture
def shared():
    """A directory like /tmp: world-writable with the sticky bit, owned by root."""
    d = tempfile.mkdtemp(prefix="sloprobe-shared.")
    os.chmod(d, 0o1777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def victim(tmp_path):
    """A root-owned file in a directory only root can enter."""
    v = tmp_path / "victim"
    v.write_text("precious\n")
    v.chmod(0o644)
    return v


@pytest.fixture
def full_fs():
    """A tiny tmpfs holding a previous report, every block taken: any write gets ENOSPC."""
    d = tempfile.mkdtemp(prefix="sloprobe-full.")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0755", "tmpfs", d], check=True,
                   timeout=10)
    try:
        with open(os.path.join(d, "prev.json"), "w") as f:
            f.write('{"previous": true}\n')
        subprocess.run(["dd", "if=/dev/zero", "of=" + os.path.join(d, "filler"), "bs=1k"],
                       capture_output=True, timeout=10)
        assert os.statvfs(d).f_bavail == 0
        yield d
    finally:
        subprocess.run(["umount", d], check=True, timeout=10)
        os.rmdir(d)


# The analyzer commands that write -o, each as argv without the -o.
WRITERS = {
    "report": ["report", BASE],
    "report-md": ["report", "-f", "markdown", BASE],
    "report-html": ["report", "-f", "html", BASE],
    "diff": ["diff", BASE, AFTER],
    "diff-html": ["diff", "-f", "html", BASE, AFTER],
    "merge": ["merge", BASE, AFTER],
}


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_symlink_planted_by_another_user_is_refused(name, shared, victim):
    link = os.path.join(shared, "out")
    as_nobody(["ln", "-s", str(victim), link])
    p = run(WRITERS[name] + ["-o", link])
    one_line_error(p, 1, "%s: a symbolic link: refused" % link)
    assert victim.read_text() == "precious\n"
    assert os.readlink(link) == str(victim)
    assert leftovers(shared) == []


def test_record_symlink_refused_before_loading(shared, victim):
    link = os.path.join(shared, "run.json")
    as_nobody(["ln", "-s", str(victim), link])
    t = time.monotonic()
    p = run(["record", "-q", "-d", "1", "-o", link], timeout=30)
    one_line_error(p, 1, "%s: a symbolic link: refused" % link)
    assert time.monotonic() - t < 1.5  # refused before the BPF programs load
    assert victim.read_text() == "precious\n"
    assert leftovers(shared) == []


@pytest.mark.parametrize("cmd", [["report", BASE], ["merge", BASE, AFTER],
                                 ["record", "-q", "-d", "1"]], ids=["report", "merge", "record"])
def test_fifo_refused_without_opening_it(cmd, shared):
    fifo = os.path.join(shared, "out")
    as_nobody(["mkfifo", "-m", "0666", fifo])
    t = time.monotonic()
    p = run(cmd + ["-o", fifo], timeout=10)  # opening it would block until a reader came
    one_line_error(p, 1, "%s: a FIFO, not a regular file: refused" % fifo)
    assert time.monotonic() - t < 5
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert leftovers(shared) == []


def test_directory_refused(tmp_path):
    for target in (str(tmp_path), str(tmp_path) + "/", os.path.join(str(tmp_path), ".")):
        p = run(["report", BASE, "-o", target])
        one_line_error(p, 1, "a directory, not a regular file: refused")
        assert os.path.isdir(tmp_path)
    assert os.listdir(tmp_path) == []


def test_dev_full_refused_and_kept():
    p = run(["report", BASE, "-o", "/dev/full"])
    try:
        one_line_error(p, 1, "/dev/full: a character device, not a regular file: refused")
    finally:
        # The old code unlinked it: put it back before reporting the failure.
        if not os.path.exists("/dev/full"):
            os.mknod("/dev/full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
            os.chmod("/dev/full", 0o666)
            pytest.fail("sloprobe removed /dev/full")
    st = os.lstat("/dev/full")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 7)
    assert leftovers("/dev") == []


def precreated_by_nobody(shared, name):
    """A file nobody made world-writable in advance, and keeps open to read what lands in it."""
    path = os.path.join(shared, name)
    as_nobody(["sh", "-c", "umask 0; echo theirs > '%s'" % path])
    st = os.lstat(path)
    assert st.st_uid == NOBODY and stat.S_IMODE(st.st_mode) == 0o666
    return path, open(path)


def assert_replaced_by_roots(path, held):
    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode)
    assert (st.st_uid, st.st_gid) == (0, 0)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert held.read() == "theirs\n"  # their file did not receive the report
    held.close()


def test_precreated_file_replaced_by_roots_own(shared):
    path, held = precreated_by_nobody(shared, "report.txt")
    p = run(["report", BASE, "-o", path])
    assert p.returncode == 0, p.stderr
    assert_replaced_by_roots(path, held)
    assert open(path).read().startswith("sloprobe report: ")
    assert leftovers(shared) == []


def test_record_precreated_file_replaced_by_roots_own(shared):
    path, held = precreated_by_nobody(shared, "run.json")
    p = run(["record", "-q", "-d", "1", "-o", path])
    assert p.returncode == 0, p.stderr
    assert_replaced_by_roots(path, held)
    jsonschema.validate(json.load(open(path)), SCHEMA)
    assert leftovers(shared) == []


def test_new_file_0600_existing_own_file_keeps_its_mode(tmp_path):
    new = tmp_path / "new.txt"
    assert run(["report", BASE, "-o", str(new)]).returncode == 0
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    # The invoking user's own file, made readable on purpose, stays so.
    own = tmp_path / "own.txt"
    own.write_text("old\n")
    own.chmod(0o640)
    assert run(["report", BASE, "-o", str(own)]).returncode == 0
    assert stat.S_IMODE(own.stat().st_mode) == 0o640
    assert own.read_text().startswith("sloprobe report: ")
    # ... but not through a hard link: its other name may belong to anyone.
    linked = tmp_path / "linked.txt"
    linked.write_text("old\n")
    linked.chmod(0o640)
    os.link(linked, tmp_path / "other-name")
    assert run(["report", BASE, "-o", str(linked)]).returncode == 0
    assert stat.S_IMODE(linked.stat().st_mode) == 0o600
    assert (tmp_path / "other-name").read_text() == "old\n"


@pytest.mark.parametrize("cmd", [["report", BASE], ["merge", BASE, AFTER]],
                         ids=["report", "merge"])
def test_enospc_keeps_previous(cmd, full_fs):
    prev = os.path.join(full_fs, "prev.json")
    p = run(cmd + ["-o", prev])
    one_line_error(p, 1, "%s: No space left on device" % prev)
    assert open(prev).read() == '{"previous": true}\n'
    assert sorted(os.listdir(full_fs)) == ["filler", "prev.json"]


def test_record_enospc_keeps_previous(full_fs):
    prev = os.path.join(full_fs, "prev.json")
    p = run(["record", "-q", "-d", "1", "-o", prev])
    one_line_error(p, 1, "No space left on device")
    assert open(prev).read() == '{"previous": true}\n'
    assert sorted(os.listdir(full_fs)) == ["filler", "prev.json"]


def previous(tmp_path):
    prev = tmp_path / "run.json"
    prev.write_text('{"previous": true}\n')
    return prev


def assert_previous_intact(tmp_path, prev):
    assert prev.read_text() == '{"previous": true}\n'
    assert sorted(os.listdir(tmp_path)) == ["run.json"]


def test_record_missing_command_keeps_previous(tmp_path):
    prev = previous(tmp_path)
    p = run(["record", "-q", "-o", str(prev), "--", "/nonexistent/load-test"])
    one_line_error(p, 1, "/nonexistent/load-test: No such file or directory")
    assert_previous_intact(tmp_path, prev)


def test_record_bad_cgroup_keeps_previous(tmp_path):
    prev = previous(tmp_path)
    # Caught by the command line...
    p = run(["record", "-q", "-d", "1", "-o", str(prev), "--cgroup", "/nonexistent"])
    one_line_error(p, 2, "--cgroup /nonexistent: not a cgroup v2 directory")
    assert_previous_intact(tmp_path, prev)
    # ... and a directory that is no cgroup, when the BPF programs load.
    p = run(["record", "-q", "-d", "1", "-o", str(prev), "--cgroup", str(tmp_path)])
    one_line_error(p, 1, "cgroup filter %s" % tmp_path)
    assert_previous_intact(tmp_path, prev)


def test_record_sigkill_keeps_previous(tmp_path):
    prev = previous(tmp_path)
    p = subprocess.Popen([SLOPROBE, "record", "-q", "-o", str(prev)], stderr=subprocess.PIPE,
                         text=True)
    try:
        # The temporary file exists from the start; then give the programs time to load.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not leftovers(tmp_path):
            time.sleep(0.05)
        assert leftovers(tmp_path), "no temporary file next to %s" % prev
        time.sleep(3)
        assert p.poll() is None, p.stderr.read()
    finally:
        p.kill()
        p.wait(10)
    assert prev.read_text() == '{"previous": true}\n'
    # At worst a temporary file sloprobe's name gives away.
    left = leftovers(tmp_path)
    assert len(left) == 1 and TMP_RE.match(left[0]).group(1) == "run.json", left
    # With the mode of the file it was to replace (root's own, 0644 here): no wider.
    assert os.lstat(tmp_path / left[0]).st_mode == prev.stat().st_mode
    assert sorted(os.listdir(tmp_path)) == sorted(["run.json"] + left)


def test_dash_is_stdout(tmp_path):
    p = run(["report", BASE, "-o", "-"])
    assert p.returncode == 0 and p.stdout.startswith("sloprobe report: "), p.stderr
    p = run(["record", "-q", "-d", "1", "-o", "-"], timeout=60)
    assert p.returncode == 0, p.stderr
    jsonschema.validate(json.loads(p.stdout), SCHEMA)
    assert not os.path.exists(os.path.join(HERE, "-"))


PROBE = ("id -u; id -g; id -G; echo HOME=$HOME USER=$USER; echo fds $(ls /proc/self/fd); "
         "grep -E '^(Cap(Eff|Prm|Amb|Inh)|NoNewPrivs):' /proc/self/status")


def probe_result(out):
    lines = out.splitlines()
    status = dict(l.split(":\t") for l in lines[5:])
    return lines[:5], status


def test_user_nobody_runs_without_capabilities(tmp_path):
    out = tmp_path / "run.json"
    p = run(["record", "-q", "-o", str(out), "--user", "nobody", "--", "sh", "-c", PROBE])
    assert p.returncode == 0, p.stderr
    ids, st = probe_result(p.stdout)
    # Only the standard descriptors (3 is ls's own): sloprobe's are all close-on-exec.
    assert ids == ["65534", "65534", "65534", "HOME=/nonexistent USER=nobody", "fds 0 1 2 3"], \
        p.stdout
    assert st == {"CapInh": "0" * 16, "CapPrm": "0" * 16, "CapEff": "0" * 16,
                  "CapAmb": "0" * 16, "NoNewPrivs": "1"}, st
    # The report stays root's: only the command changed user.
    s = out.stat()
    assert (s.st_uid, stat.S_IMODE(s.st_mode)) == (0, 0o600)
    assert json.loads(out.read_text())["command"]["argv"][:2] == ["sh", "-c"]


def test_sudo_runs_command_as_the_sudo_user_and_gives_them_the_report(shared, tmp_path):
    out = os.path.join(shared, "run.json")
    p = run(["record", "-q", "-o", out, "--", "sh", "-c", PROBE], env=sudo_env())
    assert p.returncode == 0, p.stderr
    ids, st = probe_result(p.stdout)
    assert ids[:2] == ["65534", "65534"], p.stdout
    assert st["CapEff"] == "0" * 16 and st["CapPrm"] == "0" * 16, st
    # nobody could have created it there: it is theirs.
    s = os.lstat(out)
    assert (s.st_uid, s.st_gid, stat.S_IMODE(s.st_mode)) == (NOBODY, NOBODY, 0o600)
    assert leftovers(shared) == []
    # Not in a directory closed to them: root's there.
    mine = tmp_path / "r.txt"
    assert run(["report", BASE, "-o", str(mine)], env=sudo_env()).returncode == 0
    s = mine.stat()
    assert (s.st_uid, stat.S_IMODE(s.st_mode)) == (0, 0o600)
    theirs = os.path.join(shared, "r.txt")
    assert run(["report", BASE, "-o", theirs], env=sudo_env()).returncode == 0
    assert os.lstat(theirs).st_uid == NOBODY


def test_user_root_keeps_root_under_sudo(tmp_path):
    p = run(["record", "-q", "-o", str(tmp_path / "r.json"), "--user", "root", "--", "sh",
             "-c", PROBE], env=sudo_env())
    assert p.returncode == 0, p.stderr
    ids, st = probe_result(p.stdout)
    assert ids[:2] == ["0", "0"], p.stdout
    assert int(st["CapEff"], 16) != 0 and st["NoNewPrivs"] == "0", st


def test_user_errors_before_loading(tmp_path):
    prev = previous(tmp_path)
    for args, needle in (
            (["--user", "no-such-user-zz", "--", "true"], "--user no-such-user-zz: no such user"),
            (["--user", "4000000000", "--", "true"], "--user 4000000000: no such user"),
            (["--user", "nobody"], "--user nobody: no COMMAND to run"),
    ):
        t = time.monotonic()
        p = run(["record", "-q", "-o", str(prev)] + args, timeout=30)
        one_line_error(p, 2, needle)
        assert time.monotonic() - t < 1.5
    p = run(["record", "-q", "-o", str(prev), "--", "true"], env=sudo_env("x", "y"))
    one_line_error(p, 2, "SUDO_UID=x SUDO_GID=y: not a user and group id")
    assert_previous_intact(tmp_path, prev)


@pytest.fixture
def capable_copy():
    """./sloprobe copied where nobody may run it, with the capabilities of docs/security.md."""
    if not shutil.which("setcap"):
        pytest.skip("setcap not installed")
    d = tempfile.mkdtemp(prefix="sloprobe-caps.")
    os.chmod(d, 0o755)
    exe = os.path.join(d, "sloprobe")
    shutil.copy(SLOPROBE, exe)
    p = subprocess.run(["setcap", "cap_bpf,cap_perfmon,cap_dac_read_search+ep", exe],
                       capture_output=True, text=True, timeout=10)
    if p.returncode:
        shutil.rmtree(d)
        pytest.skip("setcap: " + p.stderr.strip())
    yield exe
    shutil.rmtree(d, ignore_errors=True)


def as_nobody_run(argv, cwd):
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
                          + argv, capture_output=True, text=True, timeout=60, cwd=cwd)


def test_capabilities_instead_of_root(capable_copy, server, shared):
    """The minimal set works for another user's server; the caller's files stay theirs."""
    out = os.path.join(shared, "run.json")
    load = ("for i in 1 2 3 4 5; do curl -s -o /dev/null http://127.0.0.1:%d/health; done; "
            "grep -E '^(Cap(Eff|Prm|Amb)|NoNewPrivs):' /proc/self/status" % server.port)
    p = as_nobody_run([capable_copy, "record", "-q", "-o", out, "-P", str(server.port), "--",
                       "sh", "-c", load], cwd=shared)
    assert p.returncode == 0, p.stderr
    report = json.load(open(out))
    assert [(r["route"], r["count"]) for r in report["http"]] == [("/health", 5)]
    s = os.lstat(out)
    assert (s.st_uid, stat.S_IMODE(s.st_mode)) == (NOBODY, 0o600)
    # The command keeps no capability of the binary's.
    st = dict(l.split(":\t") for l in p.stdout.splitlines())
    assert st == {"CapPrm": "0" * 16, "CapEff": "0" * 16, "CapAmb": "0" * 16,
                  "NoNewPrivs": "1"}, st


def test_capabilities_do_not_read_files_for_the_caller(capable_copy, shared):
    """CAP_DAC_READ_SEARCH is for tracefs and /proc: the files the caller names are opened
    with the caller's rights (the old binary quoted /etc/shadow's first line)."""
    for args in (["report", "/etc/shadow"], ["record", "--slo", "/etc/shadow"],
                 ["record", "--routes-from", "/etc/shadow"]):
        p = as_nobody_run([capable_copy] + args, cwd=shared)
        assert p.returncode in (1, 2), (args, p.stderr)
        assert p.stderr == "sloprobe: /etc/shadow: Permission denied\n", (args, p.stderr)
    p = as_nobody_run([capable_copy, "record", "--user", "root", "--", "true"], cwd=shared)
    one_line_error(p, 2, "--user root: only root runs COMMAND as another user")
