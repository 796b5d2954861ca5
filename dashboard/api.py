"""The JSON API, health and metrics: the same facts the screens show, for scripts and probes.

Routes live on the FastAPI server that Dash runs on, so one port serves pages and API.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import FastAPI, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from dashboard.ingest_members import as_deployed
from dashboard.read_models import INCIDENTS_ALL, INCIDENTS_OPEN, REPORTS_ALL, REPORTS_OPEN, page
from dashboard.reader import PictureCache
from dashboard.redact import redact_payload
from layouts.live_parts import PushStats
from layouts.sections import Page

STARTED = time.time()
#: A page holds at most this many rows: a client that wants the city pages through it.
PAGE_MAX = 1_000
#: Cursors are keys of the read models (a time, a rank and an id): never longer than this.
CURSOR_MAX = 600
#: A cursor is a read model's key (``dashboard.read_models``): an ordering part, ``|``, an id.
#: Anything else was taken silently, answering the first page or an empty one.
CURSOR = r"^[^|\x00-\x1f\x7f]*\|[^\x00-\x1f\x7f]+$"
#: What each list's keys begin with (``dashboard.read_models``): open incidents with their
#: severity's rank and a fixed-width time, open reports with the time, every list "all" with
#: the id alone. A cursor of another list, or "abc|def", answered an empty page whose ``next``
#: was null, which reads as the end of the list.
CURSOR_OF = {
    INCIDENTS_OPEN: re.compile(r"\d\d{11}\.\d{3}\|"),
    REPORTS_OPEN: re.compile(r"\d{11}\.\d{3}\|"),
    INCIDENTS_ALL: re.compile(r"\|"),
    REPORTS_ALL: re.compile(r"\|"),
}


def _checked(cursor: str | None, index: str) -> str | None:
    if cursor is not None and not CURSOR_OF[index].match(cursor):
        msg = "not a cursor of this list: pass the `next` of a page of the same list and status"
        raise RequestValidationError([{"type": "value_error", "loc": ("query", "cursor"), "msg": msg}])
    return cursor


def register(server: FastAPI, reader: PictureCache, push: PushStats | None = None) -> None:
    store = reader.store

    @server.get("/api/v1/state")
    def state() -> dict[str, Any]:
        return reader.picture().to_json()

    @server.get("/api/v1/incidents")
    def incidents(
        status: Literal["open", "all"] = "open",
        limit: int = Query(100, ge=1, le=PAGE_MAX),
        cursor: str | None = Query(None, max_length=CURSOR_MAX, pattern=CURSOR),
    ) -> dict[str, Any]:
        """Every incident, a page at a time: open ones most urgent first, or all by id."""
        index = INCIDENTS_OPEN if status == "open" else INCIDENTS_ALL
        items, after = page(store, index, _checked(cursor, index), limit)
        return Page(items=items, next=after).to_json()

    @server.get("/api/v1/reports")
    def reports(
        status: Literal["open", "all"] = "open",
        limit: int = Query(100, ge=1, le=PAGE_MAX),
        cursor: str | None = Query(None, max_length=CURSOR_MAX, pattern=CURSOR),
    ) -> dict[str, Any]:
        """Every citizen report, a page at a time: open ones newest first, or all by id."""
        index = REPORTS_OPEN if status == "open" else REPORTS_ALL
        items, after = page(store, index, _checked(cursor, index), limit)
        return Page(items=items, next=after).to_json()

    @server.get("/api/v1/feeds")
    def feeds() -> dict[str, Any]:
        return {"feeds": as_deployed(store.feeds(), datetime.now(UTC)), "last_seen": store.last_seen()}

    @server.get("/api/v1/dead-letters")
    def dead_letters(limit: int = Query(100, ge=1, le=10_000)) -> dict[str, Any]:
        return {"dead_letters": [_redacted(letter) for letter in store.dead_letters(limit)]}

    @server.get("/healthz")
    async def healthz() -> JSONResponse:
        """From the cached health state (``dashboard.health``): no store I/O, so it answers at once.

        A recent reset answers 200 with ``"status": "reset"``: the worker serves and the feeds
        refill the city, and a load balancer that took every worker out on a 503 would blank
        the whole wall for the alarm's length. Monitoring reads the status word.
        """
        state = reader.health.snapshot()
        body = {
            "status": state["status"],
            "version": state.get("version"),
            "uptime_s": round(time.time() - STARTED, 1),
            "store": {
                "ok": state["ok"],
                "epoch": state.get("epoch"),
                "reset_at": state.get("reset_at"),
                "error": state.get("error"),
            },
        }
        return JSONResponse(body, status_code=503 if state["status"] == "error" else 200)

    registry = CollectorRegistry()
    registry.register(_StoreCollector(reader, push or PushStats()))

    @server.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _StoreCollector:
    """Reads the shared store at scrape time, so every web worker reports the same totals."""

    def __init__(self, reader: PictureCache, push: PushStats) -> None:
        self.reader = reader
        self.push = push
        #: The push counters are this process's own. Unlabelled, scrapes through the one port
        #: that several workers share read 144, 50, 144: Prometheus took each drop for a reset.
        self.worker = f"{socket.gethostname().split('.')[0]}-{os.getpid()}"

    def collect(self) -> Iterator[Metric]:
        store = self.reader.store
        messages = CounterMetricFamily("citywall_feed_messages", "Messages per feed and outcome", labels=["feed", "outcome"])
        rejected = CounterMetricFamily(
            "citywall_feed_rejected", "Dead-lettered messages per feed and reason", labels=["feed", "reason"]
        )
        connected = GaugeMetricFamily("citywall_feed_connected", "1 when the feed is connected", labels=["feed"])
        picture = self.reader.picture()  # its feeds are the store's, merged over ingest members
        for name, feed in picture.feeds.items():
            for key, value in feed.get("counts", {}).items():
                if key.startswith("rejected."):
                    rejected.add_metric([name, key.removeprefix("rejected.")], value)
                else:
                    messages.add_metric([name, key], value)
            connected.add_metric([name], 1.0 if feed.get("connected") else 0.0)
        yield messages
        yield rejected
        yield connected
        yield GaugeMetricFamily("citywall_state_version", "Store version (grows with every change)", value=store.version())
        yield GaugeMetricFamily("citywall_open_incidents", "Open incidents", value=picture.incidents.open_count)
        for key, help_text in (
            ("batches", "Websocket push batches sent by this web worker"),
            ("parts", "Panel parts pushed by this web worker"),
            ("bytes", "JSON bytes of panel parts pushed by this web worker"),
        ):
            counter = CounterMetricFamily(f"citywall_push_{key}", help_text, labels=["worker"])
            counter.add_metric([self.worker], getattr(self.push, key))
            yield counter


def _redacted(letter: dict[str, Any]) -> dict[str, Any]:
    """A dead letter as a reader sees it: the store keeps the producer's bytes, the API hides
    the credentials in them."""
    return {k: redact_payload(v) if k in ("excerpt", "detail", "origin") and isinstance(v, str) else v for k, v in letter.items()}
