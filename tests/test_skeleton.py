"""The walking skeleton, end to end, with real parts: mosquitto_pub -> MQTT -> ingest -> store
-> API and -> a real Chromium showing the incident screen. Also the demo on its own embedded
broker, as a newcomer runs it: served quickly, with moving simulated data on every screen.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
import uuid
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.services import CITYWALL_CMD, free_port

pytestmark = [pytest.mark.integration]

INCIDENT_SCREEN = 4  # config.yaml: screen 4 shows the incident queue


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_until(check, timeout: float, interval: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    return None


def alert(description: str) -> dict[str, Any]:
    """An Alert in Smart Data Models keyValues form, like the upstream example, in Pekanbaru."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "id": f"Alert:skeleton-{uuid.uuid4().hex[:8]}",
        "type": "Alert",
        "category": "weather",
        "subCategory": "flood",
        "severity": "critical",
        "location": {"type": "Point", "coordinates": [101.4478, 0.5071]},
        "dateIssued": now,
        "description": description,
        "alertSource": "https://pekanbaru.go.id/pusdalops",
    }


def mqtt_connected(base: str) -> bool:
    feeds = get_json(f"{base}/api/v1/feeds")["feeds"]
    return any(f.get("connected") for f in feeds.values())


@pytest.mark.browser
def test_alert_reaches_api_and_screen_within_two_seconds(mosquitto, citywall_proc, page_factory) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = citywall_proc([*CITYWALL_CMD, "demo", "--port", str(port), "--mqtt-url", mosquitto.url, "--rate", "5"])
    proc.wait_http(f"{base}/healthz", timeout=60)
    assert wait_until(lambda: mqtt_connected(base), 15), proc.log_text()

    page = page_factory(1920, 1080)
    page.goto(f"{base}/screen/{INCIDENT_SCREEN}")
    page.wait_for_selector('[data-panel="incident_queue"] [data-incident]', timeout=20_000)
    description = f"Uji jalur {uuid.uuid4().hex[:10]}: banjir di Jl. Sudirman"
    page.evaluate(
        """(needle) => {
            window.__seenAt = null;
            const check = () => { if (window.__seenAt === null && document.body.innerText.includes(needle)) window.__seenAt = Date.now(); };
            new MutationObserver(check).observe(document.body, {childList: true, subtree: true, characterData: true});
        }""",
        description,
    )
    payload = json.dumps(alert(description))
    mosquitto_pub = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
    published_ms = time.time() * 1000
    subprocess.run([mosquitto_pub, "-h", "127.0.0.1", "-p", str(mosquitto.port), "-q", "1",
                    "-t", "pekanbaru/incidents", "-m", payload], check=True, timeout=10)

    def in_api() -> float | None:
        incidents = get_json(f"{base}/api/v1/state")["incidents"]["open"]
        return time.time() * 1000 if any(i["description"] == description for i in incidents) else None

    api_ms = wait_until(in_api, 5)
    assert api_ms is not None, f"alert never reached /api/v1/state\n{proc.log_text()}"
    seen_ms = wait_until(lambda: page.evaluate("window.__seenAt"), 5)
    assert seen_ms is not None, "alert never appeared on the incident screen"
    print(f"\nskeleton: publish->API {api_ms - published_ms:.0f} ms, publish->visible {seen_ms - published_ms:.0f} ms")
    assert api_ms - published_ms < 2_000
    assert seen_ms - published_ms < 2_000


def test_demo_on_embedded_broker_serves_moving_data(citywall_proc) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    proc = citywall_proc([*CITYWALL_CMD, "demo", "--port", str(port)])
    proc.wait_http(f"{base}/healthz", timeout=60)
    print(f"\ndemo: /healthz served {time.monotonic() - started:.2f} s after start")
    assert "embedded broker" in proc.log_text()

    first = get_json(f"{base}/api/v1/state")
    later = wait_until(lambda: (s := get_json(f"{base}/api/v1/state"))["version"] > first["version"] + 20 and s, 20, 0.5)
    assert later, f"the simulated city does not move\n{proc.log_text()}"
    assert later["incidents"]["open_count"] > 0
    assert later["drainage"]["stations"]
    assert later["waste"]["containers"]
    assert later["mpp"]["target"] in (700, 1000)
    assert set(later["kpis"]["pillars"]) == {"governance", "people", "economy", "environment", "living", "mobility"}
    for n in (1, 12, 24):
        with urllib.request.urlopen(f"{base}/screen/{n}", timeout=5) as response:
            assert response.status == 200
    with urllib.request.urlopen(f"{base}/wall", timeout=5) as response:
        assert response.status == 200
