"""The ``citywall`` command: one entry point for every process the product runs.

Each sub-command loads and validates the config first; a broken file ends the command with
one line naming the file, the key path and the reason (exit status 2), before anything
starts listening.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from typing import Any

from dashboard.config import Config, ConfigError, config_path, load_config
from dashboard.config_warnings import config_warnings
from dashboard.redact import install as install_logging
from dashboard.redact import redact

EXIT_CONFIG = 2
#: The web port is taken (before anything was started or printed).
EXIT_NO_PORT = 3
#: The configured store does not answer at start (a web server cannot run without one).
EXIT_NO_STORE = 4
#: ``simulate``: the broker or Redis it was to publish to does not answer.
EXIT_NO_TARGET = 5
#: Stopped with Ctrl-C (SIGINT), after the same clean stop as SIGTERM's: a shell's 128 + 2.
EXIT_INTERRUPTED = 130
DEMO_RATE = 20.0
MAX_WORKERS = 64


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    given = getattr(args, "config_option", None)
    if given is not None:
        if args.config is not None and args.config != given:
            parser.error("check-config: give the config file once (as a path or as --config)")
        args.config = given
    install_logging(logging.INFO if args.verbose else logging.WARNING, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"citywall: config error: {redact(str(exc))}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return int(args.run(config, args) or 0)
    except KeyboardInterrupt:  # uvicorn stops cleanly, then raises it again: it ended every demo in a traceback
        return EXIT_INTERRUPTED
    except Exception as exc:  # the store went away under a command that needs it
        from dashboard.store.redis_store import is_outage

        if not is_outage(exc):
            raise
        print(_no_store(config, exc), file=sys.stderr)
        return EXIT_NO_STORE


def _no_store(config: Config, exc: BaseException | None = None) -> str:
    from dashboard.store.redis_store import is_refused_login

    why = f" ({type(exc).__name__})" if exc is not None else ""
    if exc is not None and is_refused_login(exc):
        return (
            f"citywall: store.url: {redact(config.store.url)} refused the user or password{why}; "
            "are they right in store.url (or CITYWALL_STORE__URL)?"
        )
    return f"citywall: store.url: no answer from {redact(config.store.url)}{why}; is it running, and is the address right?"


def _store_answers(config: Config, store: Any) -> bool:
    """Whether the store answers, told in one line when not: the web side reads its sessions'
    secret and its users from it at once, and a Redis that was not there yet ended a start
    with seven tracebacks. A password Redis refused was told as "no answer"."""
    problem = store.ping_error()
    if problem is None:
        return True
    print(_no_store(config, problem), file=sys.stderr)
    return False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="citywall", description="Command-centre video wall for a smart city.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the processes do")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, run: Any, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--config", default=None, help="config file (default: $CITYWALL_CONFIG, else this checkout's config.yaml)")
        p.set_defaults(run=run)
        return p

    demo = command("demo", _demo, "everything in one process: embedded broker, simulator, ingest, web")
    _web_options(demo)
    demo.add_argument("--mqtt-url", default=None, type=_mqtt_url, help="use this broker instead of the embedded one")
    demo.add_argument("--rate", type=float, default=DEMO_RATE, help="simulated messages per second (0: no simulator)")
    serve = command("serve", _serve, "the web server alone, reading the configured store")
    _web_options(serve)
    serve.add_argument(
        "--workers", type=int, default=1, help="web worker processes on one port (more than 1 needs a Redis store)"
    )
    command("ingest", _ingest, "the feed adapters alone, writing to the configured store")
    sim = command("simulate", _simulate, "publish simulated city traffic to MQTT or a Redis stream")
    sim.add_argument("--to", choices=("mqtt", "redis"), default="mqtt")
    sim.add_argument("--rate", type=float, default=DEMO_RATE)
    sim.add_argument("--duration", type=float, default=None, help="seconds (default: until interrupted)")
    sim.add_argument("--url", default=None, help="broker or Redis URL (default: from the config)")
    from dashboard.auth.cli import add_commands

    add_commands(sub, command)
    check = sub.add_parser("check-config", help="validate a config file and exit")
    # the file to check is the one loaded: loading the default first blamed it for this one's errors
    check.add_argument("config", nargs="?", default=None, metavar="path", help="config file (default: as --config)")
    check.add_argument(
        "--config", dest="config_option", default=None, metavar="path", help="the same, as the other commands take it"
    )
    check.set_defaults(run=_check_config)
    return parser


def _web_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None, help="listen address (default: server.host)")
    p.add_argument("--port", type=int, default=None, help="listen port (default: server.port)")


# --- commands ---------------------------------------------------------------------------------
def _mqtt_url(value: str) -> str:
    """A broker URL given on the command line, checked as the config's is: its error was a
    traceback that quoted the start of the password."""
    from feeds.mqtt import parse_url

    try:
        parse_url(value)
    except ValueError as exc:  # worded without the URL
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _check_config(config: Config, args: argparse.Namespace) -> int:
    path = config_path(args.config)
    from feeds.geo import Districts

    panels = {p for ps in config.screens.values() for p in ps} | {s.panel for s in config.spans}
    districts = Districts.load(config.districts_path())  # read and checked as the config loaded
    print(
        f"{path}: ok ({config.city.name}, {len(districts)} kecamatan, {config.wall.columns}x{config.wall.rows} wall, "
        f"{len(panels)} panel kinds, {len(config.pillars)} pillars, {len(config.kpis())} KPIs, store {config.store.backend})"
    )
    for line in config_warnings(config):
        print(f"{path}: warning: {line}")
    return 0


def _without_shared_group(config: Config) -> dict[str, Any]:
    """What the embedded broker needs changed in ``feeds.mqtt``: it speaks MQTT 3.1.1, which has
    no shared subscriptions, and a ``$share/...`` filter there took no message at all (the
    demo's wall stayed empty, its feed "connected"). The demo runs one ingest, so none is
    needed; saying so beats an empty wall."""
    if not config.feeds.mqtt.shared_group:
        return {}
    print("citywall demo: the embedded broker has no shared subscriptions; feeds.mqtt.shared_group is left out", file=sys.stderr)
    return {"shared_group": None, "member": None}


def _listen(host: str, port: int) -> socket.socket | None:
    from dashboard.runtime import listening_socket

    try:
        return listening_socket(host, port)
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"citywall: cannot listen on {host}:{port} ({why}); is another citywall there?", file=sys.stderr)
        return None


def _demo(config: Config, args: argparse.Namespace) -> int:
    from dashboard.app import create_app
    from dashboard.runtime import open_store, serve, start_ingest

    host, port = args.host or config.server.host, args.port or config.server.port
    sock = _listen(host, port)
    if sock is None:
        return EXIT_NO_PORT
    stop = threading.Event()
    protocol = None
    broker = None
    mqtt_url = args.mqtt_url or config.feeds.mqtt.url
    mqtt = {"url": mqtt_url}
    if not mqtt_url:
        from feeds.broker import EmbeddedBroker

        broker = EmbeddedBroker()
        broker.start()
        mqtt_url, protocol = broker.url, broker.protocol
        mqtt = {"url": mqtt_url, **_without_shared_group(config)}
    config = config.model_copy(
        update={"feeds": config.feeds.model_copy(update={"mqtt": config.feeds.mqtt.model_copy(update=mqtt)})}
    )
    store = open_store(config)
    if not _store_answers(config, store):
        if broker is not None:
            broker.stop()
        return EXIT_NO_STORE
    ingest = start_ingest(config, store, mqtt_protocol=protocol)
    if args.rate > 0:
        _start_simulator(config, mqtt_url, args.rate, stop)
    from dashboard.auth.demo import demo_access

    _print_urls(config, host, port, mqtt_url, embedded=broker is not None, access=demo_access(store))
    try:
        serve(create_app(config, store), sock)
    finally:
        stop.set()
        ingest.stop()
        if broker is not None:
            broker.stop()
    return 0


def _serve(config: Config, args: argparse.Namespace) -> int:
    from dashboard.app import create_app
    from dashboard.runtime import open_store, serve, serve_workers

    host, port = args.host or config.server.host, args.port or config.server.port
    if args.workers < 1 or args.workers > MAX_WORKERS:
        print(f"citywall: --workers must be 1 to {MAX_WORKERS}", file=sys.stderr)
        return EXIT_CONFIG
    if args.workers > 1 and config.store.backend == "memory":
        print(
            "citywall: config error: store.url: serve --workers needs a shared store (redis), "
            "each worker would otherwise show its own empty city",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    store = open_store(config)
    if not _store_answers(config, store):
        return EXIT_NO_STORE
    if args.workers > 1:  # each worker opens its own
        store.close()
        _print_urls(config, host, port)
        serve_workers(config_path(args.config), host, port, args.workers)
        return 0
    sock = _listen(host, port)
    if sock is None:
        return EXIT_NO_PORT
    _print_urls(config, host, port)
    serve(create_app(config, store), sock)
    return 0


def _ingest(config: Config, _: argparse.Namespace) -> int:
    from dashboard.runtime import open_store, start_ingest

    if not (config.feeds.mqtt.url or config.feeds.redis.url):
        print(
            "citywall: config error: feeds: no feed configured (set feeds.mqtt.url or feeds.redis.url, "
            "or CITYWALL_MQTT_URL / CITYWALL_REDIS_URL)",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    store = open_store(config)
    if not _store_answers(config, store):  # it joined the feed's shared group and held messages it never stored
        return EXIT_NO_STORE
    ingest = start_ingest(config, store)
    print(f"citywall ingest: {len(ingest.adapters)} feed(s) -> {redact(config.store.url)}", flush=True)
    _wait_for_signal()
    ingest.stop()
    return 0


def _simulate(config: Config, args: argparse.Namespace) -> int:
    from redis.exceptions import ConnectionError as RedisConnectionError

    from dashboard.simulation import simulator_for
    from feeds import publish

    stop = threading.Event()
    stop_on_signals(stop, (signal.SIGTERM,))
    try:
        if args.to == "mqtt":
            url = _mqtt_url(args.url) if args.url else config.feeds.mqtt.url or f"mqtt://{config.server.host}:1883"
            sent = publish.publish_mqtt(
                url, f"{config.city.slug}/", args.rate, args.duration, stop_event=stop, simulator=simulator_for(config)
            )
        else:
            url = args.url or config.feeds.redis.url or "redis://127.0.0.1:6379/0"
            sent = publish.publish_redis(
                url,
                config.feeds.redis.streams[0],
                config.feeds.redis.field,
                args.rate,
                args.duration,
                stop_event=stop,
                simulator=simulator_for(config),
            )
    except KeyboardInterrupt:
        return 0
    except argparse.ArgumentTypeError as exc:
        print(f"citywall simulate: --url: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except (OSError, RedisConnectionError) as exc:  # the broker or the Redis is not there
        print(f"citywall simulate: {redact(url)}: {redact(str(exc))}; is it running, and is the address right?", file=sys.stderr)
        return EXIT_NO_TARGET
    print(f"citywall simulate: sent {sent} messages to {redact(url)}")
    return 0


# --- helpers ----------------------------------------------------------------------------------
def _start_simulator(config: Config, mqtt_url: str, rate: float, stop: threading.Event) -> None:
    from dashboard.simulation import simulator_for
    from feeds import publish

    def run() -> None:
        while not stop.is_set():
            try:
                publish.publish_mqtt(
                    mqtt_url, f"{config.city.slug}/", rate, None, stop_event=stop, simulator=simulator_for(config)
                )
            except Exception:
                logging.getLogger("citywall").exception("simulator stopped; restarting in 2 s")
                stop.wait(2)

    threading.Thread(target=run, name="simulator", daemon=True).start()


def _print_urls(
    config: Config, host: str, port: int, mqtt_url: str | None = None, embedded: bool = False, access: Any = None
) -> None:
    """The addresses to open. The demo's ``access`` adds its kiosk tokens to the page URLs and
    its one-time login: the only place the product prints a secret, because a demo with
    nothing set up must still be usable (a real site creates users and tokens with the CLI)."""
    base = f"http://{host}:{port}"
    wall_q = f"?token={access.wall_token}" if access else ""
    tablet_q = f"?token={access.tablet_token}" if access else ""
    lines = [
        f"citywall: {config.city.name} on {base}",
        f"  wall     {base}/wall{wall_q}   (preview: add scale=0.25, set-up: add identify=1)",
        f"  screens  {base}/screen/1{wall_q} .. {base}/screen/{config.wall.screen_count}{wall_q}",
        f"  tablet   {base}/tablet{tablet_q}",
        f"  console  {base}/console   shift report {base}/report" + ("" if config.auth.anonymous_read else "   (log in first)"),
        f"  api      {base}/api/v1/state  {base}/api/v1/feeds  {base}/healthz  {base}/metrics"
        + ("" if config.auth.anonymous_read else "   (with a login; /healthz is open)"),
    ]
    if access:
        for n, login in enumerate(access.logins):
            lines.append(
                f"  {'login' if n == 0 else '':<8} {base + '/login' if n == 0 else '':<{len(base) + 6}}   "
                f"user {login.user}, password {login.password} ({login.role}; shown once, valid while this demo runs)"
            )
    elif not config.auth.anonymous_read:
        lines.append(
            f"  login    {base}/login   (users: citywall users add NAME --role ROLE; "
            "screens: citywall tokens create --role kiosk --screen N)"
        )
    if mqtt_url:
        broker = " (embedded broker, MQTT 3.1.1 only)" if embedded else ""
        lines.append(f"  mqtt     {redact(mqtt_url)}{broker}, topics {', '.join(config.feeds.mqtt.topics)}")
    # said where the wall is started and watched, not only by check-config
    lines += [f"  warning  {line}" for line in config_warnings(config, demo=mqtt_url is not None)]
    print("\n".join(lines), flush=True)


def _wait_for_signal() -> None:
    done = threading.Event()
    stop_on_signals(done, (signal.SIGINT, signal.SIGTERM))
    while not done.wait(1.0):  # a timed wait lets the signal handler run promptly
        pass


def stop_on_signals(stop: threading.Event, signals: Sequence[signal.Signals]) -> None:
    """Set ``stop`` when one of ``signals`` arrives.

    Python runs a signal handler in the main thread, between two steps of whatever it was
    doing. When that was waiting on ``stop`` itself, the main thread held the event's lock,
    and a ``stop.set()`` in the handler waited for that lock for ever: ``citywall simulate``
    hung on SIGTERM this way until it was killed. So the handler leaves the set to a thread
    of its own, which takes the lock once the main thread lets go of it."""

    def handler(signum: int, frame: Any) -> None:
        threading.Thread(target=stop.set, name="stop-signal", daemon=True).start()

    for sig in signals:
        signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
