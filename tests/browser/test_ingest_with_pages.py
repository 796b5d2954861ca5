"""Ingest keeps up while pages are open: rendering never starves the feed.

``citywall demo`` (ingest and web in one process, as a city first runs it) on a real
Mosquitto, with three pages open in Chromium (a queue screen, the ticker screen and the
whole wall in one tab). 3,000 new Alerts arrive at 500 a second, every one a new incident.
All of them must be received and stored (through the paginated incidents API), and the last
one must reach the queue screen: the pages were really being kept current meanwhile.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.helpers import PacedPublisher, make_alerts, wait_until
from tests.support.services import CITYWALL_CMD, CitywallProcess, Mosquitto, free_port

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TOTAL = 3_000
RATE = 500.0


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def all_incident_ids(base: str) -> list[str]:
    ids: list[str] = []
    cursor = ""
    while True:
        after = f"&cursor={urllib.parse.quote(cursor)}" if cursor else ""
        page = get_json(f"{base}/api/v1/incidents?status=all&limit=1000{after}")
        ids += [item["id"] for item in page["items"]]
        if page["next"] is None:
            return ids
        cursor = page["next"]


def test_ingest_keeps_up_with_pages_open(
    mosquitto: Mosquitto, citywall_proc: Callable[..., CitywallProcess], page_factory: Callable[..., Any], tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    demo = citywall_proc(
        [*CITYWALL_CMD, "demo", "--port", str(port), "--mqtt-url", mosquitto.url, "--rate", "0"],
        env={"CITYWALL_AUTH_ANONYMOUS_READ": "true"},
    )
    demo.wait_http(f"{base}/healthz", timeout=60)
    wait_until(
        lambda: (get_json(f"{base}/api/v1/feeds")["feeds"].get("mqtt") or {}).get("connected"),
        30,
        "the demo's MQTT feed connected",
        proc=demo,
    )

    pages = []
    for path, size in (("/screen/4", (1920, 1080)), ("/screen/13", (1920, 1080)), ("/wall?scale=0.25", (2880, 1080))):
        page = page_factory(*size)
        page.goto(f"{base}{path}", wait_until="domcontentloaded")
        page.wait_for_selector("[data-panel]", timeout=30_000)
        pages.append(page)

    alerts = make_alerts(TOTAL, "PG")
    for alert in alerts:
        alert["severity"] = "critical"  # each new one goes to the top of the queue screen
    topic = "pekanbaru/incidents"
    publisher = PacedPublisher(mosquitto, [(topic, json.dumps(a).encode()) for a in alerts], rate=RATE)
    publisher.start()
    publisher.finish(120)

    def received() -> int:
        counts = (get_json(f"{base}/api/v1/feeds")["feeds"].get("mqtt") or {}).get("counts", {})
        return int(counts.get("received", 0))

    wait_until(lambda: received() >= TOTAL, 90, f"{TOTAL} received", interval=0.5, proc=demo)
    counts = get_json(f"{base}/api/v1/feeds")["feeds"]["mqtt"]["counts"]
    assert counts["received"] == TOTAL, counts
    assert counts.get("accepted") == TOTAL, counts
    stored = all_incident_ids(base)
    assert sorted(stored) == sorted(a["id"] for a in alerts), "every Alert stored exactly once"
    # the queue screen was kept current meanwhile: its headline counts every one of them
    pages[0].wait_for_function(
        "t => document.querySelector('[data-panel=incident_queue] .cw-headline')?.innerText === t", arg="3.000", timeout=30_000
    )
