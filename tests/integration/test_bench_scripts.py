"""Smoke tests for the peer and growth benchmarks' parts (bench/).

Speed is never asserted here (bench/README.md has the figures). What is checked: the load
publisher really sends what it says, as new, non-critical incidents; the latency figures are
computed as documented; the peer's flow wires the incidents topic to the text widget. The
growth benchmark end to end: browser/test_bench_end_to_end.py.
Node-RED itself is not installed here: that is a 400 MB download, run with the benchmark.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from bench.common import INCIDENT_TOPIC, latency_stats
from bench.nodered import LABEL, flow
from bench.wire_times import packets, trials, with_stages

ROOT = Path(__file__).resolve().parents[2]


def test_latency_stats_use_the_nearest_rank() -> None:
    # 20 shown trials: the 19th smallest is p95 (ceil(0.95 * 20) = 19); two lost
    shown = [float(v) for v in range(10, 210, 10)]  # 10, 20, ..., 200
    stats = latency_stats([*shown, None, None])

    assert stats == {"trials": 22, "shown": 20, "lost": 2, "p50_ms": 105.0, "p95_ms": 190.0, "max_ms": 200.0}
    assert latency_stats([30.0, 10.0])["p95_ms"] == 30.0  # few trials: the largest, never below the median
    assert latency_stats([None])["p50_ms"] is None


#: libpcap flavours: byte order, stamps' unit, link type and its header's size.
FLAVOURS = [("<", 1e6, 1, 14), (">", 1e9, 1, 14), ("<", 1e6, 113, 16), ("<", 1e9, 0, 4)]


def _capture(flavour: tuple[str, float, int, int], *sent: tuple[float, int, int, bytes]) -> bytes:
    """A libpcap file of the given flavour: each packet's time in s, its ports and TCP payload.
    The IP and TCP headers carry options, which a reader must step over by their lengths."""
    order, per_second, link, header = flavour
    magic = 0xA1B2C3D4 if per_second == 1e6 else 0xA1B23C4D
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 65535, link)
    for at, source, destination, payload in sent:
        tcp = struct.pack(">HHIIBBHHH", source, destination, 0, 0, 6 << 4, 0x18, 65535, 0, 0) + bytes(4) + payload
        body = bytes(4) + tcp  # 4 bytes of IP options
        ip = struct.pack(">BBHHHBBH4s4s", 0x46, 0, 20 + len(body), 0, 0, 64, 6, 0, b"\x7f\0\0\x01", b"\x7f\0\0\x01") + body
        frame = bytes(header) + ip
        seconds = int(at)
        out += struct.pack(order + "IIII", seconds, round((at - seconds) * per_second), len(frame), len(frame)) + frame
    return out


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_wire_times_finds_each_product_s_frame_of_a_trial(tmp_path: Path, flavour: tuple[str, float, int, int]) -> None:
    text = b"Uji latensi 0123456789"
    broker, citywall, node_red = 41883, 8050, 1880
    capture = _capture(
        flavour,
        # each connection's first frame, before the trial: it tells whose connection it is
        (99.000, citywall, 60002, b"\x81\x0e" + b'{"v":6,"u":[]}'),
        (99.001, node_red, 60001, b"\x81\x0e" + b'42["ping",{}]'),
        (100.000, 40000, broker, b"\x32publish " + text),  # mosquitto_pub to the broker
        (100.0001, broker, 50001, b"\x32to one " + text),
        (100.0004, broker, 50002, b"\x32to the other " + text),
        (100.0010, node_red, 60001, b"\x81\x30" + b'42["msg",{"meta":{"v":1},"payload":"' + text + b'"}]'),
        # citywall's frame for the trial: its start in one packet, the text in the next
        (100.0029, citywall, 60002, b"\x81\x7e\x10\x00" + b'{"v":7,"u":[["q",'),
        (100.0030, citywall, 60002, b"[" + text + b"]]}"),
        (100.2000, broker, 50001, b"\x32to one, again " + text),  # a retransmission
        (100.5000, citywall, 60002, b"\x81\x30" + b'{"v":8,"u":[["q",' + text + b"]]}"),  # sent again later
    )
    by_trial = trials(packets(capture))
    times = by_trial["0123456789"]
    assert {name: round(at - times["published"], 3) for name, at in times.items()} == {
        "published": 0.0,
        "delivered": 0.4,
        "node-red frame": 1.0,
        "citywall frame": 3.0,
    }
    trace = tmp_path / "stages.txt"
    trace.write_text("stored 99999.0\nstored 100000.5\nrendered 100002.0\nrendered 100002.5\nws_send 100004.0\n")
    with_stages(by_trial, trace)
    # the first stamp of each stage between the publish and citywall's frame
    assert times["citywall stored"] == 100000.5
    assert times["citywall rendered"] == 100002.0
    assert "citywall ws_send" not in times


def test_wire_times_refuses_what_is_not_a_libpcap_file() -> None:
    with pytest.raises(SystemExit, match="not a libpcap file"):
        packets(b"\x0a\x0d\x0d\x0a" + bytes(28))  # pcapng's first block


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
