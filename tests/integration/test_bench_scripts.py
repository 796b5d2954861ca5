"""Smoke tests for the peer and growth benchmarks' parts (bench/).

Speed is never asserted here (bench/README.md has the figures). What is checked: the load
publisher really sends what it says, as new, non-critical incidents; the latency figures are
computed as documented; the peer's flow wires the incidents topic to the text widget. The
growth benchmark end to end: browser/test_bench_end_to_end.py.
Node-RED itself is not installed here: that is a 400 MB download, run with the benchmark.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from bench.common import INCIDENT_TOPIC, latency_stats
from bench.nodered import LABEL, flow

ROOT = Path(__file__).resolve().parents[2]


def test_latency_stats_use_the_nearest_rank() -> None:
    # 20 shown trials: the 19th smallest is p95 (ceil(0.95 * 20) = 19); two lost
    shown = [float(v) for v in range(10, 210, 10)]  # 10, 20, ..., 200
    stats = latency_stats([*shown, None, None])

    assert stats == {"trials": 22, "shown": 20, "lost": 2, "p50_ms": 105.0, "p95_ms": 190.0, "max_ms": 200.0}
    assert latency_stats([30.0, 10.0])["p95_ms"] == 30.0  # few trials: the largest, never below the median
    assert latency_stats([None])["p50_ms"] is None


def test_the_peer_flow_shows_the_latest_alert_description() -> None:
    nodes = {n["id"]: n for n in flow(18830)}
    mqtt_in = next(n for n in nodes.values() if n["type"] == "mqtt in")
    text = nodes[mqtt_in["wires"][0][0]]

    assert mqtt_in["topic"] == INCIDENT_TOPIC and mqtt_in["datatype"] == "json" and mqtt_in["qos"] == "1"
    assert nodes[mqtt_in["broker"]]["port"] == "18830"
    assert text["type"] == "ui-text" and text["label"] == LABEL
    assert (text["value"], text["valueType"]) == ("payload.description", "msg")


@pytest.mark.integration
def test_publish_alerts_sends_new_non_critical_incidents(mosquitto) -> None:  # type: ignore[no-untyped-def]
    got: list[dict[str, object]] = []
    subscribed, all_in = threading.Event(), threading.Event()

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        got.append(json.loads(m.payload))
        if len(got) >= 150:
            all_in.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *_: c.subscribe(INCIDENT_TOPIC, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = on_message
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        out = subprocess.run(
            [
                sys.executable,
                "bench/publish_alerts.py",
                "--port",
                str(mosquitto.port),
                "--rate",
                "200",
                "--count",
                "150",
                "--prefix",
                "smoke",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert json.loads(out.stdout.splitlines()[-1])["sent"] == 150
        assert all_in.wait(60), f"{len(got)} of 150 at the subscriber"
    finally:
        client.loop_stop()
        client.disconnect()
    assert len(got) == 150
    assert len({m["id"] for m in got}) == 150
    assert {m["type"] for m in got} == {"Alert"}
    assert "critical" not in {m["severity"] for m in got}
    assert len({m["description"] for m in got}) == 150
