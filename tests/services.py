"""Real services for integration tests, each on its own free loopback port.

The dashboard's failure modes (broker restarts, lost Redis state, a wall
that renders nothing) only show up against the real programs, so these
fixtures run Debian's mosquitto, redis-server and chromium rather than
mocks. Nothing listens on a default port: CI machines may already run a
system redis or mosquitto there, and tests must not share state with them.

Loaded as a pytest plugin from ``tests/conftest.py``.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

#: Prefix for running the app the way ``citywall`` does, but from this
#: checkout and this interpreter, without needing the console script.
CITYWALL_CMD: tuple[str, ...] = (sys.executable, "-m", "dashboard.cli")

#: Chromium flags. The machine has no network beyond package registries, so
#: everything that phones home is switched off; otherwise Chromium retries
#: refused connections in the background and slows every page. Running as
#: root in CI needs --no-sandbox; /dev/shm is small in containers.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


# --------------------------------------------------------------------------
# reading without a login

#: The product is closed by default: reading needs a login or a kiosk token. Most tests are
#: about something else (feeds, panels, restarts) and read pages and the API as a script
#: would, so the whole run opens anonymous reading here, in one place, through the same
#: setting an integrator uses. Apps started in-process (``load_config()``) and processes
#: (``CitywallProcess`` inherits the environment) both see it. Identity tests opt out by
#: building their config with ``environ={}`` or passing ``{ANONYMOUS_READ_ENV: "false"}``.
ANONYMOUS_READ_ENV = "CITYWALL_AUTH_ANONYMOUS_READ"


def pytest_configure(config: pytest.Config) -> None:
    os.environ[ANONYMOUS_READ_ENV] = "true"


# --------------------------------------------------------------------------
# helpers


def free_port() -> int:
    """Ask the kernel for a port nobody uses, so parallel runs never collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_for_port(
    host: str,
    port: int,
    timeout: float = 10.0,
    *,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Block until something accepts TCP connections on host:port.

    A started process is not ready until it listens; tests that connect
    earlier flake. Passing ``proc`` fails fast when the program died (bad
    config, port taken) instead of waiting out the timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f}s") from None
            time.sleep(0.05)


def _load_prctl() -> Callable[[int, int], int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not Linux: teardown still stops all
        return None


# Resolved here, not in the child: after fork only async-signal-safe work is
# sound, and dlopen/dlsym may take locks another thread held at fork time.
_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: if pytest is killed hard (timeout,
    Ctrl-C twice, OOM) the kernel kills the service too, so no stray broker
    or server outlives the run and holds on to ports or CPU."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _popen(cmd: Sequence[str], log: IO[bytes], **kwargs: object) -> subprocess.Popen[bytes]:
    # A session of its own, so a stop signal reaches the program's children
    # too (uvicorn workers, reloaders) and not pytest itself.
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        list(cmd),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_die_with_parent,
        **kwargs,
    )


def _stop_group(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """SIGTERM first so services can flush state (mosquitto's persistence
    file, Redis's AOF, the app's own shutdown hooks); SIGKILL if they hang,
    so a stuck process can never hang the test run."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    # The leader may be gone while its children still run.
    _signal_group(proc, signal.SIGKILL)
    return proc.wait()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "<no log>"


class _Service:
    """Common lifecycle for a local server process bound to a fixed port.

    The port is chosen once and kept across restart(), because restart tests
    check that clients reconnect to the *same* address.
    """

    name = "service"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = HOST
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.output_path = self.workdir / f"{self.name}.out"
        self._output: IO[bytes] | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        wait_for_port(self.host, self.port, timeout, proc=self.proc)

    def start(self, timeout: float = 15.0) -> None:
        if self.running:
            return
        self._output = open(self.output_path, "ab")
        self.proc = _popen(self.command(), self._output, cwd=self.workdir)
        try:
            self._wait_ready(timeout)
        except Exception as exc:
            self.stop()
            raise RuntimeError(f"{self.name} failed to start on port {self.port}:\n{self.log_text()}") from exc

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is not None:
            _stop_group(self.proc, timeout)
            self.proc = None
        if self._output is not None:
            self._output.close()
            self._output = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return _tail(self.output_path)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.host}:{self.port} running={self.running}>"


# --------------------------------------------------------------------------
# Mosquitto


def _mosquitto_binary() -> str:
    # /usr/sbin is not on every user's PATH, which is where Debian puts it.
    return shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Mosquitto(_Service):
    """A private MQTT broker with on-disk persistence in its own directory,
    so persistent sessions and queued QoS 1 messages survive restart()."""

    name = "mosquitto"

    def __init__(self, workdir: Path, port: int | None = None, extra: Sequence[str] = ()) -> None:
        super().__init__(workdir, port)
        self.extra = list(extra)  # lines appended to the config (later settings win)
        self.conf_path = self.workdir / "mosquitto.conf"
        self.log_path = self.workdir / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def write_config(self) -> None:
        # `user`: mosquitto started as root drops to the `mosquitto` user,
        # which cannot write into pytest's 0700 tmp dirs (log and persistence
        # fail with "Permission denied"). Naming the current user keeps it
        # as is; for a non-root user the option is ignored.
        # max_queued_messages: the default (1000) would silently drop
        # messages for a disconnected persistent client in backlog tests.
        # max_inflight_messages 0: no cap, so QoS 1 bursts are not throttled.
        self.conf_path.write_text(
            "\n".join(
                [
                    f"listener {self.port} {self.host}",
                    "allow_anonymous true",
                    f"user {pwd.getpwuid(os.getuid()).pw_name}",
                    "persistence true",
                    f"persistence_location {self.workdir}/",
                    "max_queued_messages 100000",
                    "max_inflight_messages 0",
                    f"log_dest file {self.log_path}",
                    *self.extra,
                    "",
                ]
            )
        )

    def command(self) -> list[str]:
        self.write_config()
        return [_mosquitto_binary(), "-c", str(self.conf_path)]

    def log_text(self) -> str:
        return _tail(self.output_path) + "\n" + _tail(self.log_path)


@pytest.fixture
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A fresh broker per test: retained messages and sessions never leak
    between tests, and a test may restart or kill it freely."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def mosquitto_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One broker for tests that only publish and subscribe on their own
    topics; saves a process start per test. Do not restart it."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto-session"))
    try:
        broker.start()
        yield broker
    finally:
        broker.stop()


# --------------------------------------------------------------------------
# Redis


def _redis_binary() -> str:
    return shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer(_Service):
    """A private Redis. Without ``persistent`` it keeps nothing on disk, so
    each start is empty and fast; with it, an append-only file lets restart
    tests check what the dashboard finds after Redis comes back."""

    name = "redis"

    def __init__(self, workdir: Path, port: int | None = None, *, persistent: bool = False,
                 extra: Sequence[str] = ()) -> None:
        super().__init__(workdir, port)
        self.persistent = persistent
        self.extra = list(extra)  # more command-line options (cluster mode, replicaof)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def command(self) -> list[str]:
        cmd = [
            _redis_binary(),
            "--port", str(self.port),
            "--bind", self.host,
            "--save", "",
            "--dir", str(self.workdir),
            "--daemonize", "no",
        ]  # fmt: skip
        if self.persistent:
            cmd += ["--appendonly", "yes", "--appendfsync", "everysec"]
        else:
            cmd += ["--appendonly", "no"]
        return cmd + self.extra

    def _wait_ready(self, timeout: float) -> None:
        # Redis listens before it has loaded its AOF and answers -LOADING
        # meanwhile; a persistent restart test needs the data, not the port.
        deadline = time.monotonic() + timeout
        super()._wait_ready(timeout)
        while True:
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() >= deadline:
                raise TimeoutError(f"redis on port {self.port} never answered PING")
            time.sleep(0.05)


def redis_cli(port: int, *args: str, timeout: float = 60.0, auth: tuple[str, str] | None = None) -> str:
    """``redis-cli`` against a local port (as an ACL user when ``auth`` is given); its output,
    or a failure naming what it said."""
    cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
    login = ["--user", auth[0], "--pass", auth[1], "--no-auth-warning"] if auth else []
    done = subprocess.run([cli, "-h", HOST, "-p", str(port), *login, *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"redis-cli {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


def wait_until(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> object:
    """Poll ``condition`` until it returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = condition()
            if last:
                return last
        except Exception as exc:  # a service still starting answers with errors
            last = exc
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f}s (last: {last!r})")
        time.sleep(interval)


class RedisCluster:
    """A Redis Cluster of ``masters`` masters (and ``replicas`` replicas per master) on free
    loopback ports, created with ``redis-cli --cluster create`` as an integrator would."""

    def __init__(self, workdir: Path, masters: int = 3, replicas: int = 0, acl: tuple[str, str] | None = None) -> None:
        self.workdir = Path(workdir)
        self.replicas = replicas
        self.acl = acl
        cluster_opts = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                        "--cluster-node-timeout", "2000"]
        if acl:  # an ACL user with every right; the default user may only answer PING (readiness)
            cluster_opts += ["--user", acl[0], "on", f">{acl[1]}", "~*", "&*", "+@all",
                             "--user", "default", "on", "nopass", "-@all", "+ping"]
        # the bus port is chosen free too: the default (port + 10000) may be taken, or past 65535
        self.nodes = [RedisServer(self.workdir / f"node{i}", extra=[*cluster_opts, "--cluster-port", str(free_port())])
                      for i in range(masters * (1 + replicas))]

    @property
    def url(self) -> str:
        login = f"{self.acl[0]}:{self.acl[1]}@" if self.acl else ""
        return f"redis+cluster://{login}" + ",".join(f"{n.host}:{n.port}" for n in self.nodes)

    def _cli(self, port: int, *args: str) -> str:
        return redis_cli(port, *args, auth=self.acl)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        self._cli(self.nodes[0].port, "--cluster", "create", *(f"{n.host}:{n.port}" for n in self.nodes),
                  "--cluster-replicas", str(self.replicas), "--cluster-yes")
        for node in self.nodes:
            wait_until(lambda n=node: "cluster_state:ok" in self._cli(n.port, "cluster", "info"), 30,
                       f"cluster state ok on {node.port}")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def masters(self) -> dict[str, int]:
        """Node id -> port of every master, as the cluster itself reports."""
        out: dict[str, int] = {}
        for line in self._cli(self.nodes[0].port, "cluster", "nodes").splitlines():
            fields = line.split()
            if "master" in fields[2] and "fail" not in fields[2]:
                out[fields[0]] = int(fields[1].split("@")[0].rsplit(":", 1)[1])
        return out

    def node_for_slot(self, slot: int) -> tuple[str, int]:
        """(node id, port) of the master serving ``slot``."""
        for line in self._cli(self.nodes[0].port, "cluster", "nodes").splitlines():
            fields = line.split()
            if "master" not in fields[2]:
                continue
            for part in fields[8:]:
                if part.startswith("["):
                    continue
                lo, _, hi = part.partition("-")
                if int(lo) <= slot <= int(hi or lo):
                    return fields[0], int(fields[1].split("@")[0].rsplit(":", 1)[1])
        raise LookupError(f"no master serves slot {slot}")

    def migrate_slot(self, slot: int, to_port: int, batch: int = 100) -> int:
        """Move one slot, keys and all, to the master on ``to_port`` while clients keep writing:
        the documented sequence (IMPORTING, MIGRATING, MIGRATE in batches, SETSLOT NODE on
        every master). Returns how many keys moved."""
        source_id, source_port = self.node_for_slot(slot)
        target_id = self._cli(to_port, "cluster", "myid").strip()
        if target_id == source_id:
            return 0
        self._cli(to_port, "cluster", "setslot", str(slot), "importing", source_id)
        self._cli(source_port, "cluster", "setslot", str(slot), "migrating", target_id)
        moved = 0
        while True:
            keys = self._cli(source_port, "cluster", "getkeysinslot", str(slot), str(batch)).split()
            if not keys:
                break
            login = ["auth2", *self.acl] if self.acl else []
            self._cli(source_port, "migrate", HOST, str(to_port), "", "0", "5000", *login, "keys", *keys)
            moved += len(keys)
        for port in (to_port, source_port, *self.masters().values()):
            self._cli(port, "cluster", "setslot", str(slot), "node", target_id)
        return moved


class RedisSentinelSet:
    """One master, one replica and one Sentinel watching them (quorum 1), on loopback ports.

    ``down-after-milliseconds`` is short so a killed master is failed over within seconds."""

    SERVICE = "citywall"

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.master = RedisServer(self.workdir / "master", persistent=True)
        self.replica = RedisServer(self.workdir / "replica", persistent=True,
                                   extra=["--replicaof", HOST, str(self.master.port)])
        self.sentinel = _Sentinel(self.workdir / "sentinel", self.master.port, self.SERVICE)

    @property
    def url(self) -> str:
        return f"redis+sentinel://{HOST}:{self.sentinel.port}/{self.SERVICE}/0"

    def start(self) -> None:
        self.master.start()
        self.replica.start()
        wait_until(lambda: "master_link_status:up" in redis_cli(self.replica.port, "info", "replication"), 30,
                   "replica in sync")
        self.sentinel.start()
        wait_until(lambda: "slaves=1" in redis_cli(self.sentinel.port, "info", "sentinel"), 30,
                   "sentinel sees the replica")

    def master_port(self) -> int:
        """The port of the master as Sentinel names it now."""
        return int(redis_cli(self.sentinel.port, "sentinel", "get-master-addr-by-name", self.SERVICE).split()[1])

    def stop(self) -> None:
        for server in (self.sentinel, self.replica, self.master):
            server.stop()


class _Sentinel(_Service):
    name = "sentinel"

    def __init__(self, workdir: Path, master_port: int, service: str) -> None:
        super().__init__(workdir)
        self.master_port = master_port
        self.service = service

    def command(self) -> list[str]:
        conf = self.workdir / "sentinel.conf"  # Sentinel rewrites its own file: it must be writable
        conf.write_text("\n".join([
            f"port {self.port}", f"bind {self.host}", f"dir {self.workdir}", "daemonize no",
            f"sentinel monitor {self.service} {HOST} {self.master_port} 1",
            f"sentinel down-after-milliseconds {self.service} 1000",
            f"sentinel failover-timeout {self.service} 10000",
            f"sentinel parallel-syncs {self.service} 1", "",
        ]))
        return [_redis_binary(), str(conf), "--sentinel"]


class Nginx(_Service):
    """Debian's nginx as the reverse proxy in front of web workers, without root: prefix,
    pid file, logs and temp paths all in its own directory, in the foreground.

    ``site`` is a server-level config file (the one in ``deploy/`` with its ports templated);
    it is included into a minimal main config written here."""

    name = "nginx"

    def __init__(self, workdir: Path, site: str, port: int | None = None) -> None:
        super().__init__(workdir, port)
        self.site = site

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        d = self.workdir
        (d / "site.conf").write_text(self.site)
        temps = "\n".join(f"  {kind}_temp_path {d}/{kind}_temp;" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (d / "nginx.conf").write_text(f"""# written by tests/services.py
user {pwd.getpwuid(os.getuid()).pw_name};
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log {d}/access.log;
{temps}
  include {d}/site.conf;
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        return [nginx, "-p", str(d), "-c", str(d / "nginx.conf"), "-g", "daemon off;"]

    def log_text(self) -> str:
        return _tail(self.output_path) + "\n" + _tail(self.workdir / "error.log")


@pytest.fixture
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """Three masters, no replicas: the smallest real cluster."""
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def redis_sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisSentinelSet]:
    sentinels = RedisSentinelSet(tmp_path_factory.mktemp("redis-sentinel"))
    try:
        sentinels.start()
        yield sentinels
    finally:
        sentinels.stop()


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis of the test's own, for tests that stop, restart or kill it."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One shared Redis for the whole run; see ``redis_url``."""
    server = RedisServer(tmp_path_factory.mktemp("redis-session"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_url(redis_session: RedisServer) -> Iterator[str]:
    """URL of the shared Redis, emptied first so a test never sees another's
    keys, without paying for a server start per test."""
    import redis

    client = redis.Redis.from_url(redis_session.url)
    try:
        client.flushall()
    finally:
        client.close()
    yield redis_session.url


# --------------------------------------------------------------------------
# Chromium (Playwright driving Debian's chromium)


def _chromium_binary() -> str:
    # Never Playwright's own browser download: CI has no network for it.
    return shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the run; starting it costs about a second,
    and fresh contexts (``page_factory``) already isolate tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=_chromium_binary(),
            headless=True,
            args=list(CHROMIUM_ARGS),
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page_factory(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Pages in fresh contexts (no shared cookies, storage or cache), sized
    like a wall screen by default; a test may open several, e.g. two
    screens of one wall. All are closed at teardown."""
    contexts: list[BrowserContext] = []

    def make(width: int = 1920, height: int = 1080) -> Page:
        ctx = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(ctx)
        return ctx.new_page()

    try:
        yield make
    finally:
        for ctx in contexts:
            try:
                ctx.close()
            except Exception:  # already gone with a crashed browser
                pass


# --------------------------------------------------------------------------
# The app itself as a subprocess


class CitywallProcess:
    """The app run as a real process, so tests can crash it (SIGKILL),
    stop it gracefully, restart it and read what it logged, the way an
    operator's supervisor would."""

    def __init__(
        self,
        cmd: Sequence[str],
        log_path: Path,
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.cmd = list(cmd)
        self.log_path = Path(log_path)
        # Unbuffered, so log_text() shows what happened up to a crash.
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cwd = cwd or REPO_ROOT
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> CitywallProcess:
        self._log = open(self.log_path, "ab")
        self.proc = _popen(self.cmd, self._log, env=self.env, cwd=self.cwd)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_http(self, url: str, timeout: float = 30.0) -> None:
        """Block until ``url`` answers 200; fail at once if the process
        died, with its log in the message, since that is the useful part."""
        deadline = time.monotonic() + timeout
        last: object = None
        while True:
            if not self.alive:
                raise RuntimeError(f"{self.cmd!r} exited with {self.returncode} before {url} answered:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
                    last = resp.status
            except urllib.error.HTTPError as exc:
                last = exc.code
            except (urllib.error.URLError, OSError) as exc:
                last = exc
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f}s (last: {last!r}):\n{self.log_text()}")
            time.sleep(0.1)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the main process only, like a crash or an OOM kill of the
        app itself; with SIGKILL, also reap it so it is really gone."""
        assert self.proc is not None, "not started"
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            if sig == signal.SIGKILL:
                self.proc.wait()

    def terminate(self, timeout: float = 5.0) -> int:
        """Graceful stop of the whole process group, SIGKILL after
        ``timeout``; returns the exit code."""
        code = 0
        if self.proc is not None:
            code = _stop_group(self.proc, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __repr__(self) -> str:
        return f"<CitywallProcess {self.cmd!r} alive={self.alive}>"


@pytest.fixture
def citywall_proc(tmp_path: Path) -> Iterator[Callable[..., CitywallProcess]]:
    """Factory ``start(cmd, env=None, cwd=None)`` for app processes; every
    one it started is stopped at teardown, pass or fail, so a crashed test
    never leaves a server holding a port for the next."""
    started: list[CitywallProcess] = []

    def start(
        cmd: Sequence[str],
        env: Mapping[str, str] | None = None,
        *,
        cwd: Path | None = None,
    ) -> CitywallProcess:
        log_path = tmp_path / f"citywall-{len(started)}.log"
        proc = CitywallProcess(cmd, log_path, env=env, cwd=cwd)
        started.append(proc)
        return proc.start()

    try:
        yield start
    finally:
        for proc in started:
            proc.terminate(timeout=5.0)
