"""Wiring the processes together: store, feeds, simulator, sampler and web server.

``citywall demo`` runs all of it in one process (the same code path as production, with an
embedded broker and the memory store); ``citywall ingest`` runs only the feed side and
``citywall serve`` only the web side, sharing state through Redis.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from dashboard.config import Config
from dashboard.http_deadlines import TimedH11
from dashboard.ingest import CityState
from dashboard.picture import sample_kpis
from dashboard.store.base import StateStore

log = logging.getLogger("citywall")
SAMPLE_EVERY_S = 60.0
WS_MAX_BYTES = 256 * 1024


def open_store(config: Config) -> StateStore:
    if config.store.backend == "memory":
        from dashboard.store.memory import MemoryStore

        return MemoryStore()
    from dashboard.store.redis_store import RedisStore

    return RedisStore(config.store.url, prefix=config.store.key_prefix)


def build_normalizer(config: Config) -> Any:
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from feeds.channels import ChannelRule
    from feeds.geo import Districts
    from feeds.normalize import Normalizer

    districts = Districts.load(config.districts_path())  # checked readable when the config loaded
    return Normalizer(
        districts=districts,
        bbox=districts.bounds,
        max_payload_bytes=config.feeds.max_payload_bytes,
        max_future_s=config.feeds.max_future_s,
        channels=[ChannelRule(c.name, tuple(c.topics), tuple(c.streams), dict(c.categories)) for c in config.complaints],
        language=config.city.language,
        level_range=(config.thresholds.drainage_range_m.low, config.thresholds.drainage_range_m.high),
        zoneless=ZoneInfo(config.city.timezone) if config.feeds.zoneless_times == "city" else UTC,
    )


def with_channel_feeds(config: Config) -> Config:
    """The feeds with every complaint channel's topics and streams subscribed as well."""
    from feeds.channels import topic_matches

    topics = list(config.feeds.mqtt.topics)
    for channel in config.complaints:  # a filter already covered would only bring duplicates
        topics += [t for t in channel.topics if not any(topic_matches(f, t) for f in topics)]
    streams = list(dict.fromkeys([*config.feeds.redis.streams, *(s for c in config.complaints for s in c.streams)]))
    feeds = config.feeds.model_copy(
        update={
            "mqtt": config.feeds.mqtt.model_copy(update={"topics": topics}),
            "redis": config.feeds.redis.model_copy(update={"streams": streams}),
        }
    )
    return config.model_copy(update={"feeds": feeds})


@dataclass
class Ingest:
    """The running feed side: adapters plus the KPI sampler, stopped together."""

    state: CityState
    adapters: list[Any] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def stop(self) -> None:
        self.stop_event.set()
        for adapter in self.adapters:
            adapter.stop()
        for thread in self.threads:
            thread.join(timeout=5)


def start_ingest(config: Config, store: StateStore, mqtt_protocol: str | None = None) -> Ingest:
    """Start an adapter for every configured feed; the store receives what they accept."""
    config = with_channel_feeds(config)
    state = CityState(store, config)
    ingest = Ingest(state)
    normalizer = build_normalizer(config)
    if config.feeds.mqtt.url:
        from feeds.mqtt import MqttAdapter, packet_limit

        mqtt_config = config.feeds.mqtt
        if mqtt_protocol:
            mqtt_config = mqtt_config.model_copy(update={"protocol": mqtt_protocol})
        from dashboard.ingest_members import StoreMembers
        from dashboard.writeback import actions_prefix

        ingest.adapters.append(
            MqttAdapter(
                mqtt_config,
                normalizer,
                state,
                members=StoreMembers(store),
                max_packet_bytes=packet_limit(config.feeds.max_payload_bytes),
                actions_prefix=actions_prefix(config.city.slug),
            )
        )
    if config.feeds.redis.url:
        from feeds.redis_feed import RedisPubSubAdapter, RedisStreamAdapter

        if config.feeds.redis.streams:
            ingest.adapters.append(RedisStreamAdapter(config.feeds.redis, normalizer, state))
        if config.feeds.redis.channels:
            ingest.adapters.append(RedisPubSubAdapter(config.feeds.redis, normalizer, state))
    _mark_a_new_store(store)
    _carry_on_feed_history(store, ingest.adapters)
    for adapter in ingest.adapters:
        adapter.start()
    for target, name in ((_sample_loop, "kpi-sampler"), (_rebuild_read_models, "read-model-rebuild")):
        thread = threading.Thread(target=target, args=(store, config, ingest.stop_event), name=name, daemon=True)
        thread.start()
        ingest.threads.append(thread)
    return ingest


def _mark_a_new_store(store: StateStore) -> None:
    """An empty store follows this release's layout from its first message (``mark_if_new``);
    a store that does not answer now is left to the rebuild thread, which asks until it does."""
    from dashboard.reindex import mark_if_new
    from dashboard.store.redis_store import is_outage

    try:
        mark_if_new(store)
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("the store did not answer at start; the read models' layout is checked when it does")


def _rebuild_read_models(store: StateStore, config: Config, stop: threading.Event) -> None:
    """Once per start, beside the feed: rows written by an older release are rewritten
    (``dashboard.reindex``); a store that is away is tried again until it answers."""
    from dashboard.reindex import rebuild_if_needed

    while True:
        try:
            done = rebuild_if_needed(store, config)
        except Exception:
            log.exception("rebuilding the read models failed; trying again in %s s", SAMPLE_EVERY_S)
            if stop.wait(SAMPLE_EVERY_S):
                return
            continue
        if done is not None:
            log.info(
                "read models rebuilt to this release's layout: %d incidents and reports rewritten, %d changed meanwhile, %.1f s",
                done.rewritten,
                done.overtaken,
                done.seconds,
            )
        return


def _carry_on_feed_history(store: StateStore, adapters: list[Any]) -> None:
    """Each feed's outage history goes on from what the last ingest process stored: a restart
    emptied it, and with it the record of the night's outages. A store that cannot be read
    now starts the history afresh, as before."""
    from dashboard.ingest_members import SILENT_AFTER_S
    from dashboard.store.redis_store import is_outage

    try:
        stored = store.feeds()
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.warning("the store is unavailable: each feed's outage history starts afresh")
        return
    for adapter in adapters:
        adapter.stats.carry_on(stored.get(adapter.stats.name), silent_after=timedelta(seconds=SILENT_AFTER_S))


def _sample_loop(store: StateStore, config: Config, stop: threading.Event) -> None:
    """KPI trends need a point every minute even when nothing arrives; a store outage only skips one."""
    while not stop.wait(SAMPLE_EVERY_S):
        try:
            sample_kpis(store, config)
        except Exception:
            log.exception("KPI sampling failed; trying again in %s s", SAMPLE_EVERY_S)


#: http h11 with h11_max_incomplete_event_size: a request's line and headers together may take
#: at most MAX_HEAD_BYTES before the server answers 400. uvicorn's faster parser (httptools)
#: has no such limit: one client sending 128 MB of headers to /healthz, without a login, held
#: 128 MB of the server's memory. nginx limits them in the deploy; a ``demo`` or a ``serve``
#: reached directly has only this. The pages' own HTTP traffic is light: the push carries the
#: city, so the slower parser costs little.
#: ws_max_size: a websocket message is a callback request, a property answer or a page's
#: claim of its parts, a few KB; uvicorn's default (16 MB) would let one client make the
#: server parse 16 MB per message. No per-message deflate: it would compress the same push
#: frame again for every page, the very per-page cost the push is built to avoid, to save
#: bytes on a local network.
MAX_HEAD_BYTES = 64 * 1024
UVICORN_OPTIONS: dict[str, Any] = {
    "log_level": "warning",
    # no logging set-up of uvicorn's own: its records (a request's traceback) go through the
    # root handler that ``dashboard.redact.install`` made, redacted and kept one entry each
    "log_config": None,
    "http": TimedH11,  # h11, with time limits on a request's head and body (``dashboard.http_deadlines``)
    "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
    "ws_ping_interval": 20,
    "ws_ping_timeout": 20,
    "ws_max_size": WS_MAX_BYTES,
    "ws_per_message_deflate": False,
}
#: Each worker of ``serve --workers`` reads its config from here (the path the command got).
CONFIG_ENV = "CITYWALL_CONFIG"
ASGI_FACTORY = "dashboard.app:create_asgi"


def listening_socket(host: str, port: int) -> socket.socket:
    """The web port, taken before anything else starts: with the port in use, ``demo`` once
    printed fresh tokens and a password for it, then failed, and those led to the other
    process. Raises OSError (``EADDRINUSE``) if the port is taken."""
    return socket.create_server((host, port))


def serve(app: Any, sock: socket.socket) -> None:
    import uvicorn

    share_the_interpreter()
    settle_the_heap()
    uvicorn.Server(uvicorn.Config(app.server, **UVICORN_OPTIONS)).run(sockets=[sock])


#: How long a busy thread may hold the interpreter before another gets it (Python's default 5 ms).
SWITCH_INTERVAL_S = 0.0005


def share_the_interpreter() -> None:
    """Ingest first: the feed's thread waits for each message on the socket and then needs
    the interpreter back, while the web side renders; with Python's default 5 ms a render
    held it off for up to 5 ms per message, and at 500 messages a second with pages open the
    feed fell behind. Half a millisecond lets it in between."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def settle_the_heap() -> None:
    """Take what start-up built out of the garbage collector's full passes (``gc.freeze``).

    A full pass walks every object the collector tracks while the feed's thread and the pages
    wait, and Python starts one each time the long-lived objects have grown by a quarter: with
    a burst of new incidents, about every ten seconds. About 150,000 of those objects come from
    start-up (the app's layouts, the district shapes, the locale data) and live as long as the
    process; walking them again in every pass only made the pauses longer (213 ms at 20,000
    open incidents). Frozen objects are still freed when their last reference goes; only a
    cycle among them that became garbage later would stay, and start-up builds what the
    process keeps."""
    gc.freeze()


def serve_workers(config_file: Path, host: str, port: int, workers: int) -> None:
    """``workers`` processes on one listening socket, each with its own app from the factory.

    uvicorn can only start several workers from an import string, so every worker builds its
    app from the config file named in ``CITYWALL_CONFIG`` (environment overrides apply in each,
    as they did here). The supervisor restarts a worker that dies. What the workers share is
    the store: the read models, the session secret and the users; what each keeps for itself
    (its push registry, its picture cache) is rebuilt from the store.
    """
    import uvicorn

    os.environ[CONFIG_ENV] = str(config_file.resolve())
    uvicorn.run(ASGI_FACTORY, factory=True, workers=workers, host=host, port=port, **UVICORN_OPTIONS)
