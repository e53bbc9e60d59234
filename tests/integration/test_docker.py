# SPDX-License-Identifier: GPL-2.0-only
"""Container names from a real dockerd (Debian's docker.io), started here on a private socket,
data root and exec root (tools/docker-private.sh, which the demo uses too), stopped by its PID
at the end. No registry is reachable: the image is
`docker import` of an empty tar, and containers run the host's binaries, bind-mounted read-only,
with --network host so that traffic stays on 127.0.0.1. Truth: the server's own request log.
"""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import HERE, PYTHON, REPO, SLOPROBE, free_port, record, sh

DOCKER = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"
COMPOSE = "/usr/bin/docker-compose"
DOCKER_PRIVATE = os.path.join(REPO, "tools", "docker-private.sh")
HOST_RO = ["/usr", "/lib", "/lib64", "/bin", "/etc"]


class Dockerd:
    """The private dockerd of tools/docker-private.sh (shared with the demo), with image empty:1."""

    def __init__(self):
        # Short: a unix socket path holds at most 107 bytes.
        self.dir = tempfile.mkdtemp(prefix="slp-d.", dir="/tmp")
        self.sock = os.path.join(self.dir, "sock")
        self.root = os.path.join(self.dir, "root")
        self.env = dict(os.environ, DOCKER_HOST="unix://" + self.sock)
        p = subprocess.run([DOCKER_PRIVATE, "start", self.dir], capture_output=True, text=True,
                           timeout=180)
        if p.returncode:
            # it stopped what it had started and removed the directory
            raise RuntimeError(p.stderr.strip())

    def docker(self, *args, check=True):
        return subprocess.run([DOCKER] + list(args), env=self.env, capture_output=True,
                              text=True, timeout=60, check=check).stdout.strip()

    def run(self, name, argv, labels=None, mounts=None, user=None):
        """Starts a container of the host's binaries; its full id."""
        args = ["run", "-d", "--name", name, "--network", "host"]
        for k, v in (labels or {}).items():
            args += ["--label", "%s=%s" % (k, v)]
        for d in HOST_RO:
            args += ["-v", "%s:%s:ro" % (d, d)]
        for src, dst in (mounts or {}).items():
            args += ["-v", "%s:%s" % (src, dst)]
        if user:
            args += ["--user", user]
        return self.docker(*(args + ["empty:1"] + list(argv)))

    def stop(self):
        subprocess.run([DOCKER_PRIVATE, "stop", self.dir], capture_output=True, timeout=180)


@pytest.fixture(scope="module")
def dockerd():
    for exe in (DOCKER, DOCKERD):
        if not os.access(exe, os.X_OK):
            pytest.skip("%s not installed (make deps installs docker.io)" % exe)
    try:
        d = Dockerd()
    except RuntimeError as e:
        pytest.skip(str(e))  # "dockerd cannot start: <why>"
    yield d
    d.stop()


def wait_http(port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(["curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:%d/health" % port],
                          capture_output=True, timeout=10).returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError("port %d never answered" % port)


LABELS = {"com.docker.compose.project": "shop", "com.docker.compose.service": "web"}


@pytest.fixture(scope="module")
def api(dockerd):
    """httpserver.py in container "api" with Compose labels, logging its requests to a file."""
    out = tempfile.mkdtemp(prefix="slp-api.")
    port = free_port()
    cid = dockerd.run("api", ["/usr/bin/env", "TIMING_LOG=/out/times.log", PYTHON,
                              "/t/httpserver.py", str(port)],
                      labels=LABELS, mounts={HERE: "/t:ro", out: "/out"})
    wait_http(port)
    yield {"port": port, "id": cid, "log": os.path.join(out, "times.log")}
    dockerd.docker("rm", "-f", "api", check=False)
    shutil.rmtree(out, ignore_errors=True)


def served(log, prefix):
    """Requests the server itself logged with a target starting with prefix."""
    with open(log) as f:
        return sum(1 for l in f if l.split()[1].startswith(prefix))


def curls(port, path, n):
    return "for i in $(seq %d); do curl -sf -o /dev/null http://127.0.0.1:%d%s; done" % (
        n, port, path)


def rows(report, port):
    return [e for e in report["http"] if e["port"] == port]


def test_names_from_the_api(tmp_path, dockerd, api, server):
    """The container's row is named by its Compose service, with name, image and labels; a
    server on the host beside it keeps its process name."""
    before = served(api["log"], "/items/")
    r = record(tmp_path, ["-P", str(api["port"]), "-P", str(server.port)],
               sh(curls(api["port"], "/items/1", 7) + "; " + curls(server.port, "/health", 4)),
               env=dockerd.env)
    assert served(api["log"], "/items/") - before == 7
    (row,) = rows(r.report, api["port"])
    assert row["service"] == "web:%d" % api["port"]
    assert row["route"] == "/items/{id}" and row["count"] == 7
    assert row["container"] == "api"
    assert row["container_id"] == api["id"]
    assert row["image"] == "empty:1"
    assert row["compose_project"] == "shop" and row["compose_service"] == "web"
    assert row["runtime"] == "docker"
    (host,) = rows(r.report, server.port)
    assert host["service"] == "python3:%d" % server.port and host["count"] == 4
    assert host["container"] is None and "image" not in host
    # the summary names it too
    assert "web:%d" % api["port"] in r.out + r.err


@pytest.mark.parametrize("want", ["api", "web", "id"])
def test_container_filter(tmp_path, dockerd, api, server, want):
    """--container by name, Compose service or id prefix: that container's rows only."""
    want = api["id"][:12] if want == "id" else want
    before = served(api["log"], "/health")
    r = record(tmp_path, ["--container", want, "-q"],
               sh(curls(api["port"], "/health", 5) + "; " + curls(server.port, "/health", 3)),
               env=dockerd.env)
    assert served(api["log"], "/health") - before == 5
    assert [(e["service"], e["count"]) for e in r.report["http"]] == [
        ("web:%d" % api["port"], 5)]
    assert r.report["filters"]["cgroup"].endswith("/docker/" + api["id"])


def test_names_from_files(tmp_path, dockerd, api):
    """No API (DOCKER_HOST on a socket nobody serves): names from config.v2.json under the
    data root given by --docker-root."""
    env = dict(dockerd.env, DOCKER_HOST="unix://%s/nothing.sock" % tmp_path)
    r = record(tmp_path, ["-P", str(api["port"]), "-q", "--docker-root", dockerd.root],
               sh(curls(api["port"], "/health", 3)), env=env)
    (row,) = rows(r.report, api["port"])
    assert (row["service"], row["container"], row["image"], row["compose_service"],
            row["count"]) == ("web:%d" % api["port"], "api", "empty:1", "web", 3)


def test_container_unknown(tmp_path, dockerd, api):
    """A name no running container has: one line, usage exit status, before tracing."""
    p = subprocess.run([SLOPROBE, "record", "--container", "nope", "-d", "1"],
                       capture_output=True, text=True, timeout=60, env=dockerd.env)
    assert p.returncode == 2
    assert p.stderr == ("sloprobe: --container nope: no running container of that name, id "
                        "or Compose service\n")


def test_slo_container_selector(tmp_path, dockerd, api, server):
    """The SLO `container:` selector matches the container's name."""
    slo = tmp_path / "slo.yaml"
    slo.write_text("apiVersion: sloprobe/v1\nkind: SLO\nmin_samples: 1\nslos:\n"
                   "  - name: api-fast\n    http: {container: api}\n"
                   "    objectives: [{p: 95, le: 1s}]\n"
                   "  - name: other\n    http: {container: web-x}\n"
                   "    objectives: [{p: 95, le: 1s}]\n")
    r = record(tmp_path, ["-P", str(api["port"]), "-P", str(server.port), "-q",
                          "--slo", str(slo)],
               sh(curls(api["port"], "/health", 6) + "; " + curls(server.port, "/health", 2)),
               env=dockerd.env)
    # per endpoint: one verdict for the container's /health, none for the host's
    objs = [(o["name"], o["matched"], o.get("service")) for o in r.report["slo"]]
    assert objs == [("api-fast", True, "web:%d" % api["port"]), ("other", False, None)]


COMPOSE_FILE = """\
version: "2.4"
x-host: &host
  image: empty:1
  network_mode: host
  volumes:
    - /usr:/usr:ro
    - /lib:/lib:ro
    - /lib64:/lib64:ro
    - /bin:/bin:ro
    - /etc:/etc:ro
    - {here}:/t:ro
    - {pgdir}:/pg
services:
  db:
    <<: *host
    user: "{pguser}"
    command: ["/bin/sh", "-ec", "{bindir}/initdb -D /pg/data -A trust -U postgres --no-sync >/pg/initdb.log; exec {bindir}/postgres -D /pg/data -c listen_addresses=127.0.0.1 -p {pg} -k /pg -c fsync=off"]
  orders:
    <<: *host
    command: ["{python}", "/t/dbapp.py", "threaded", "{http}", "{pg}"]
"""


def wait_for(fn, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return
        time.sleep(0.3)
    raise RuntimeError(what + " never came up")


@pytest.fixture(scope="module")
def stack(dockerd):
    """Two Compose services (docker-compose, project "slp"): PostgreSQL and an HTTP API
    "orders" over it (dbapp.py, psycopg2 over the host's libpq), both from the host's binaries."""
    if not os.access(COMPOSE, os.X_OK):
        pytest.skip("%s not installed (make deps installs docker-compose)" % COMPOSE)
    work = tempfile.mkdtemp(prefix="slp-c.")
    pgdir = os.path.join(work, "pg")
    os.mkdir(pgdir)
    os.chmod(pgdir, 0o777)
    bindir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    ports = {"http": free_port(), "pg": free_port()}
    with open(os.path.join(work, "docker-compose.yml"), "w") as f:
        # numeric: dockerd looks names up in the image's /etc/passwd, not the mounted one
        f.write(COMPOSE_FILE.format(here=HERE, pgdir=pgdir, bindir=bindir, python=PYTHON,
                                    pguser="%d:%d" % pwd.getpwnam("postgres")[2:4], **ports))
    compose = [COMPOSE, "-p", "slp", "-f", os.path.join(work, "docker-compose.yml")]

    def run(*args):
        p = subprocess.run(compose + list(args), env=dockerd.env, capture_output=True,
                           text=True, timeout=120)
        if p.returncode:
            raise RuntimeError("docker-compose %s: %s" % (" ".join(args), p.stderr[-1500:]))

    psql = ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(ports["pg"]), "-U", "postgres",
            "-d", "postgres"]
    try:
        run("up", "-d", "db")
        wait_for(lambda: subprocess.run(psql + ["-c", "select 1"], capture_output=True,
                                        timeout=10).returncode == 0, "PostgreSQL")
        subprocess.run(psql + ["-c", "create table items (id int primary key, name text);"
                               "insert into items select i, 'item ' || i "
                               "from generate_series(1, 50) i;"],
                       check=True, capture_output=True, timeout=30)
        run("up", "-d", "orders")
        wait_for(lambda: subprocess.run(
            ["curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:%d/pair" % ports["http"]],
            capture_output=True, timeout=10).returncode == 0, "the API")
        yield ports
    finally:
        subprocess.run(compose + ["down", "-t", "5"], env=dockerd.env, capture_output=True,
                       timeout=120)
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("probe", ["wire", "libpq"])
def test_compose_api_and_postgres(tmp_path, dockerd, stack, probe):
    """The API's rows are named by their Compose service; its queries, seen on the wire or
    through the libpq the container maps (the host's, inside the container's mount
    namespace), are attributed to the client named the same way."""
    r = record(tmp_path, ["--container", "orders", "-q", "--db-probe", probe],
               sh("for i in $(seq 3); do curl -sf -o /dev/null http://127.0.0.1:%d/list; done"
                  % stack["http"]), env=dockerd.env)
    (row,) = r.report["http"]
    assert (row["service"], row["route"], row["count"]) == (
        "orders:%d" % stack["http"], "/list", 3)
    assert (row["container"], row["compose_project"], row["compose_service"],
            row["image"]) == ("slp_orders_1", "slp", "orders", "empty:1")
    one = [q for q in r.report["db"] if q["query"].startswith("select name from items")]
    assert len(one) == 1 and one[0]["count"] == 60, [q["query"] for q in r.report["db"]]
    assert one[0]["main_path"] == probe
    assert one[0]["client"] == "orders"
    ids = [q for q in r.report["db"] if q["query"].startswith("select id from items")]
    assert len(ids) == 1 and ids[0]["count"] == 3


def test_container_started_during_run(tmp_path, dockerd):
    """A container the load test starts is named too (looked up when it first serves, not in
    the scan at the start)."""
    port = free_port()
    run = " ".join([DOCKER, "run", "-d", "--name", "late", "--network", "host"] +
                   ["-v %s:%s:ro" % (d, d) for d in HOST_RO] +
                   ["-v %s:/t:ro" % HERE, "empty:1", PYTHON, "/t/httpserver.py", str(port)])
    script = ("%s >/dev/null; i=0; until curl -s -o /dev/null http://127.0.0.1:%d/missing/1 "
              "|| [ $i -ge 100 ]; do i=$((i+1)); sleep 0.1; done; %s" % (
                  run, port, curls(port, "/items/2", 4)))
    try:
        r = record(tmp_path, ["-P", str(port), "-q"], sh(script), env=dockerd.env)
    finally:
        dockerd.docker("rm", "-f", "late", check=False)
    (row,) = [e for e in rows(r.report, port) if e["route"] == "/items/{id}"]
    assert (row["service"], row["container"], row["image"], row["count"]) == (
        "late:%d" % port, "late", "empty:1", 4)
    assert "compose_service" not in row


@pytest.mark.parametrize("args,message", [
    (["--container", ""], "sloprobe: --container: empty name (see 'sloprobe record --help')"),
    (["--docker-root", "rel"],
     "sloprobe: --docker-root 'rel': not an absolute path (see 'sloprobe record --help')"),
    (["--container", "x", "--cgroup", "/sys/fs/cgroup"],
     "sloprobe: --container and --cgroup: give one"),
])
def test_container_options_refused(args, message):
    """Bad --container / --docker-root: one line, exit status 2, nothing traced."""
    p = subprocess.run([SLOPROBE, "record", "-d", "1"] + args, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2
    assert p.stderr.splitlines() == [message]
