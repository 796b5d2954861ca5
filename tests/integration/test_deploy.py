"""The production recipe in ``deploy/`` is run, not just read.

nginx, Redis and Mosquitto are started from the very files in ``deploy/`` with only their
ports, directories and password file templated (nginx in front of real web workers is in
``test_scale_web.py``). The systemd units' commands are parsed by the ``citywall`` command
line itself. Docker is not available on every test machine, so the compose file is checked
as data: valid YAML, the services and files it names, and its nginx config kept identical to
the host one but for the upstream.
"""

from __future__ import annotations

import configparser
import os
import pwd
import re
import shlex
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import requests
import yaml

from dashboard.cli import _parser
from tests.support.deploy import nginx_site
from tests.support.services import HOST, Mosquitto, Nginx, RedisServer, free_port, redis_cli

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


# --- compose -----------------------------------------------------------------------------------
def test_the_compose_file_names_the_whole_topology() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "mosquitto", "ingest", "web", "nginx"}
    assert "--appendonly" in services["redis"]["command"] and "yes" in services["redis"]["command"]
    assert services["ingest"]["deploy"]["replicas"] == 2
    assert services["ingest"]["environment"]["CITYWALL_MQTT_SHARED_GROUP"] == "ingest"
    assert services["ingest"]["command"] == ["citywall", "ingest"]
    assert services["web"]["command"][:2] == ["citywall", "serve"] and "--workers" in services["web"]["command"]
    for name in ("ingest", "web"):
        assert services[name]["environment"]["CITYWALL_STORE_URL"].startswith("redis://redis:")
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (DEPLOY / source).is_file(), f"{source} named by compose.yaml is missing"
            else:
                assert source in compose["volumes"], f"volume {source} is not declared"
    assert (DEPLOY / "Dockerfile").is_file()


def test_the_compose_file_publishes_only_nginx_beyond_the_host() -> None:
    """The broker takes anonymous clients inside the compose network: on every interface it
    would take anyone's incidents for the wall."""
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    published = {name: service.get("ports", []) for name, service in services.items()}
    assert published == {"redis": [], "mosquitto": ["127.0.0.1:1883:1883"], "ingest": [], "web": [], "nginx": ["8080:80"]}


def test_the_compose_nginx_config_is_the_host_one_but_for_the_upstream() -> None:
    host = (DEPLOY / "nginx" / "citywall.conf").read_text().splitlines()
    compose = (DEPLOY / "nginx" / "compose.conf").read_text().splitlines()
    differ = [(a, b) for a, b in zip(host, compose, strict=True) if a != b]
    assert len(differ) == 2, differ  # the first comment line and the upstream server
    assert "server web:8050" in differ[1][1]


# --- systemd -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("unit", "command"), [("citywall-ingest@.service", "ingest"), ("citywall-serve.service", "serve")])
def test_the_units_run_commands_the_cli_accepts(unit: str, command: str) -> None:
    parsed = configparser.ConfigParser(interpolation=None, strict=False)
    parsed.read_string((DEPLOY / "systemd" / unit).read_text())
    words = shlex.split(parsed["Service"]["ExecStart"].replace("${CITYWALL_WORKERS}", "4"))
    assert words[0].endswith("/citywall") and words[1] == command
    args = _parser().parse_args(words[1:])
    assert args.config == "/etc/citywall/config.yaml"
    assert parsed["Service"]["EnvironmentFile"] == "/etc/citywall/citywall.env"
    assert parsed["Service"]["Restart"] == "always" and parsed["Install"]["WantedBy"] == "multi-user.target"
    if command == "serve":
        assert (args.host, args.port, args.workers) == ("127.0.0.1", 8050, 4)
        env = dict(
            line.split("=", 1) for line in (DEPLOY / "citywall.env").read_text().splitlines() if line and not line.startswith("#")
        )
        assert env["CITYWALL_WORKERS"].isdigit() and env["CITYWALL_STORE_URL"].startswith("redis://")


# --- nginx, Redis, Mosquitto from their deploy files -------------------------------------------
@pytest.mark.integration
def test_the_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    port = free_port()
    proxy = Nginx(tmp_path, nginx_site(port, [free_port(), free_port()]), port=port)
    cmd = proxy.command()
    done = subprocess.run([*cmd[:-2], "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


@pytest.mark.integration
def test_with_no_worker_up_nginx_answers_a_page_that_tries_again_and_logs_no_token(tmp_path: Path) -> None:
    """nginx's own "502 Bad Gateway" has no script: a kiosk PC that booted before the server
    stayed on it for good. The page nginx gives instead refreshes itself. The access log keeps
    the path, never the kiosk's token from the query string."""
    port = free_port()
    proxy = Nginx(tmp_path, nginx_site(port, [free_port()]), port=port)  # nothing listens upstream
    proxy.start()
    try:
        answer = requests.get(f"{proxy.url}/screen/4?token=kiosk-s3cret-token", timeout=10)
    finally:
        proxy.stop()
    assert (answer.status_code, answer.headers["retry-after"], answer.headers["content-type"]) == (503, "5", "text/html")
    assert '<meta http-equiv="refresh" content="5">' in answer.text
    assert "Menunggu server citywall" in answer.text
    log = (tmp_path / "access.log").read_text()
    assert '"GET /screen/4 HTTP/1.1" 503' in log
    assert "s3cret" not in log


def test_nginx_forwards_the_client_s_own_address_never_one_it_claims(tmp_path: Path) -> None:
    """Whatever ``X-Forwarded-For`` a client sends, the workers hear nginx's peer: with the
    claim passed on, a login from made-up addresses escaped the throttle's count."""
    heard: list[str | None] = []

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            heard.append(self.headers.get("X-Forwarded-For"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    upstream = ThreadingHTTPServer((HOST, free_port()), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    proxy = Nginx(tmp_path, nginx_site(port, [upstream.server_address[1]]), port=port)
    proxy.start()
    try:
        answer = requests.get(f"{proxy.url}/healthz", headers={"X-Forwarded-For": "10.66.0.7"}, timeout=10)
    finally:
        proxy.stop()
        upstream.shutdown()
    assert (answer.status_code, heard) == (204, ["127.0.0.1"])


class _FromFile(RedisServer):
    """redis-server started from deploy/redis/redis.conf; the command line overrides only
    the port, the address and the directory (later settings win in Redis)."""

    def command(self) -> list[str]:
        return [
            shutil.which("redis-server") or "/usr/bin/redis-server",
            str(DEPLOY / "redis" / "redis.conf"),
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--dir",
            str(self.workdir),
            "--daemonize",
            "no",
        ]


@pytest.mark.integration
def test_redis_from_the_deploy_file_keeps_every_write_in_its_aof(tmp_path: Path) -> None:
    server = _FromFile(tmp_path / "redis")
    try:
        server.start()
        assert redis_cli(server.port, "config", "get", "appendonly").split() == ["appendonly", "yes"]
        assert redis_cli(server.port, "config", "get", "maxmemory-policy").split() == ["maxmemory-policy", "noeviction"]
        redis_cli(server.port, "set", "citywall:probe", "kept")
        server.proc.kill()  # type: ignore[union-attr]  # a crash, not a clean shutdown that could save
        server.proc.wait()  # type: ignore[union-attr]
        server.proc = None
        server.start()
        assert redis_cli(server.port, "get", "citywall:probe").strip() == "kept"
    finally:
        server.stop()


@pytest.mark.integration
def test_mosquitto_from_the_deploy_file_wants_a_password_limits_payloads_and_persists(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    subprocess.run(
        [shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd", "-c", "-b", str(passwd), "ingest", "s3cret-test"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    broker = Mosquitto(tmp_path / "mq")
    text = (DEPLOY / "mosquitto" / "citywall.conf").read_text()
    text, n = re.subn(r"^listener 1883 127\.0\.0\.1$", f"listener {broker.port} {HOST}", text, flags=re.M)
    text, m = re.subn(r"^password_file .*$", f"password_file {passwd}", text, flags=re.M)
    text, k = re.subn(r"^persistence_location .*$", f"persistence_location {broker.workdir}/", text, flags=re.M)
    assert (n, m, k) == (1, 1, 1), "the deploy file changed shape: update the template"

    def write_config() -> None:
        # as in tests/support/services.py: a broker started as root must not drop to the mosquitto user,
        # which cannot read pytest's private directories
        user = pwd.getpwuid(os.getuid()).pw_name
        broker.conf_path.write_text(text + f"\nuser {user}\nlog_dest file {broker.log_path}\n")

    broker.write_config = write_config  # type: ignore[method-assign]
    try:
        broker.start()

        assert _connack_code(broker, "ingest", "s3cret-test") == 0
        assert _connack_code(broker, None, None) != 0, "anonymous clients are refused"
        assert _passed_on(broker, "ingest", "s3cret-test", [8 << 20, (8 << 20) + 1, 10]) == [8 << 20, 10]
        broker.stop()
        assert (broker.workdir / "mosquitto.db").is_file(), "sessions are saved on the way down"
    finally:
        broker.stop()


def _passed_on(broker: Mosquitto, user: str, password: str, sizes: list[int]) -> list[int]:
    """The sizes of the payloads an MQTT 3.1.1 subscriber gets when ``sizes`` are published at
    QoS 1 in that order (3.1.1: the client cannot tell the broker how much it takes)."""
    got: list[int] = []
    last = threading.Event()
    subscribed = threading.Event()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="probe-sub", protocol=mqtt.MQTTv311)
    sub.username_pw_set(user, password)
    sub.on_subscribe = lambda *_: subscribed.set()

    def on_message(c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        got.append(len(message.payload))
        if len(message.payload) == sizes[-1]:
            last.set()

    sub.on_message = on_message
    sub.connect(HOST, broker.port)
    sub.loop_start()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="probe-pub", protocol=mqtt.MQTTv311)
    pub.username_pw_set(user, password)
    pub.connect(HOST, broker.port)
    pub.loop_start()
    try:
        sub.subscribe("probe/size", qos=1)
        assert subscribed.wait(10), "no SUBACK"
        for size in sizes:
            pub.publish("probe/size", b"x" * size, qos=1).wait_for_publish(30)
        assert last.wait(30), f"the last message never came (got {got})"
        return got
    finally:
        for client in (pub, sub):
            client.disconnect()
            client.loop_stop()


def _connack_code(broker: Mosquitto, user: str | None, password: str | None) -> int:
    """The broker's CONNACK reason code (0: accepted) for these credentials."""
    codes: list[int] = []
    answered = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"probe-{user}", protocol=mqtt.MQTTv5)
    if user:
        client.username_pw_set(user, password)

    def on_connect(c: mqtt.Client, userdata: object, flags: object, reason: mqtt.ReasonCode, props: object) -> None:
        codes.append(int(reason.value))
        answered.set()

    client.on_connect = on_connect
    client.connect(HOST, broker.port)
    client.loop_start()
    try:
        assert answered.wait(10), "no CONNACK"
        return codes[0]
    finally:
        client.disconnect()
        client.loop_stop()
