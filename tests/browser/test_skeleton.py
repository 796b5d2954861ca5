"""The walking skeleton, end to end, with real parts: mosquitto_pub -> MQTT -> ingest -> store
-> API and -> a real Chromium showing the incident screen. Also the demo on its own embedded
broker, as a newcomer runs it: served quickly, with moving simulated data on every screen.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.request
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard.config import load_config
from dashboard.simulation import city_profile
from tests.support.helpers import alert, get_json, mqtt_connected, wait_until
from tests.support.services import CITYWALL_CMD, free_port

pytestmark = [pytest.mark.integration]

INCIDENT_SCREEN = 4  # config.yaml: screen 4 shows the incident queue


@pytest.mark.browser
def test_alert_reaches_api_and_screen(mosquitto, citywall_proc, page_factory) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = citywall_proc([*CITYWALL_CMD, "demo", "--port", str(port), "--mqtt-url", mosquitto.url, "--rate", "5"])
    proc.wait_http(f"{base}/healthz", timeout=60)
    wait_until(lambda: mqtt_connected(base), 15, "the demo's MQTT feed connected", proc=proc)

    page = page_factory(1920, 1080)
    page.goto(f"{base}/screen/{INCIDENT_SCREEN}")
    page.wait_for_selector('[data-panel="incident_queue"] [data-incident]', timeout=20_000)
    description = f"Uji jalur {uuid.uuid4().hex[:10]}: banjir di Jl. Sudirman"
    page.evaluate(
        """(needle) => {
            window.__seenAt = null;
            const check = () => {
                if (window.__seenAt === null && document.body.innerText.includes(needle)) window.__seenAt = Date.now();
            };
            new MutationObserver(check).observe(document.body, {childList: true, subtree: true, characterData: true});
        }""",
        description,
    )
    payload = json.dumps(alert(description))
    mosquitto_pub = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
    published_ms = time.time() * 1000
    subprocess.run(
        [mosquitto_pub, "-h", "127.0.0.1", "-p", str(mosquitto.port), "-q", "1", "-t", "pekanbaru/incidents", "-m", payload],
        check=True,
        timeout=10,
    )

    def in_api() -> float | None:
        incidents = get_json(f"{base}/api/v1/state")["incidents"]["open"]
        return time.time() * 1000 if any(i["description"] == description for i in incidents) else None

    # how fast is bench/latency.py's business; here: it arrives, in the API and on the screen
    api_ms = wait_until(in_api, 30, "the alert in /api/v1/state", proc=proc)
    seen_ms = wait_until(lambda: page.evaluate("window.__seenAt"), 30, "the alert on the incident screen")
    print(f"\nskeleton: publish->API {api_ms - published_ms:.0f} ms, publish->visible {seen_ms - published_ms:.0f} ms")


def test_demo_on_embedded_broker_serves_moving_data(citywall_proc) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    proc = citywall_proc([*CITYWALL_CMD, "demo", "--port", str(port)])
    proc.wait_http(f"{base}/healthz", timeout=60)
    print(f"\ndemo: /healthz served {time.monotonic() - started:.2f} s after start")
    assert "embedded broker" in proc.log_text()

    first = get_json(f"{base}/api/v1/state")
    later = wait_until(
        lambda: (s := get_json(f"{base}/api/v1/state"))["version"] > first["version"] + 20 and s,
        20,
        "the simulated city moves",
        interval=0.5,
        proc=proc,
    )
    assert later["incidents"]["open_count"] > 0
    # the simulated city's own stations and TPS sites, and only those (the demo runs the shipped config)
    profile = city_profile(load_config())
    stations = {s["name"] for s in later["drainage"]["stations"]}
    containers = {c["name"] for c in later["waste"]["containers"]}
    assert len(stations) >= 1 and stations <= {site.name for site in profile.stations}, stations
    assert len(containers) >= 1 and containers <= {site.name for site in profile.waste_sites}, containers
    open_today = datetime.now(ZoneInfo("Asia/Jakarta")).weekday() < 5  # the shipped MPP opens Monday to Friday
    assert later["mpp"]["target"] in ((700, 1000) if open_today else (0,))
    assert set(later["kpis"]["pillars"]) == {"governance", "people", "economy", "environment", "living", "mobility"}
    for n in (1, 12, 24):
        with urllib.request.urlopen(f"{base}/screen/{n}", timeout=5) as response:
            assert response.status == 200
    with urllib.request.urlopen(f"{base}/wall", timeout=5) as response:
        assert response.status == 200
    # Ctrl-C, as a person ends a demo: a clean stop, not a traceback ending in KeyboardInterrupt
    proc.kill(signal.SIGINT)
    assert proc.proc is not None and proc.proc.wait(timeout=30) == 130
    assert "Traceback" not in proc.log_text(), proc.log_text()[-2000:]
